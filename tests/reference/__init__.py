"""A deliberately naive second implementation of docs/matching.md, for differential testing."""

from tests.reference.naive_book import NaiveBook

__all__ = ["NaiveBook"]
