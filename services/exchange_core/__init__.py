"""Shared by every service: the markets registry, unit conversion and the wire protocol.

Importing it makes `asyncio.wait_for` cancellation-safe in the process (`cancelsafe`)."""

from exchange_core import cancelsafe

cancelsafe.install()
