"""Starts and supervises the exchange's processes on one machine (`make run`, tests)."""
