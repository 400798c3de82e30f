"""A running order path (engines, settlement, gateway) shared by the tests of a module."""

import asyncio
from collections.abc import Iterator

import pytest

from launcher.stack import Stack, running_stack
from tests import services


@pytest.fixture(scope="module")
def stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(pg_dsn, prefix) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))
