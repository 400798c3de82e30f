"""The wall clock in the exchange's unit: whole milliseconds since the Unix epoch, as Binance's
timestamps (`serverTime`, `E`, `timestamp`) count."""

import time


def now_ms() -> int:
    """Milliseconds since the Unix epoch, rounded down."""
    return time.time_ns() // 1_000_000
