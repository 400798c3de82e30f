"""Helpers of the price-source tests (replay, mirror): a thin agent mix that follows a fast fair
price closely, the moment the simulation's price clock started, and the exchange's own trades."""

import json
import re
import time
from decimal import Decimal

import httpx

from launcher.stack import Stack

# One tight maker re-quoting ten times a second without hysteresis, no deep book (it would take
# minutes to place), noise takers four times a second with light tails; no inventory skew.
THIN_MIX = json.dumps(
    {
        "makers": [
            {
                "name": "tight",
                "spread_bps": 2,
                "spacing_bps": 1,
                "levels": 2,
                "size_multiplier": 30,
                "requote_seconds": 0.1,
                "hysteresis_bps": 0,
            }
        ],
        "depth_levels": 0,
        "noise_per_minute": 240,
        "noise_size_multiple": 1,
        "noise_size_alpha": 3,
        "momentum_per_minute": 0,
        "mean_reversion_per_minute": 0,
        "sweeps_per_minute": 0,
    }
)
CLOCK_LINE = re.compile(r"(\w+): price second 0 is epoch ms (\d+)")


def price_clock_ms(stack: Stack, symbol: str, seconds: float = 60.0) -> int:
    """The wall time (epoch ms) of the simulation's price second 0 for `symbol`, from its log."""
    log = stack.log_dir / "marketsim.log"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        for found in CLOCK_LINE.finditer(text):
            if found.group(1) == symbol:
                return int(found.group(2))
        time.sleep(0.2)
    raise AssertionError(f"no price clock line for {symbol} in {log}:\n{text[-3000:]}")


def own_trades(http: httpx.Client, symbol: str, start_ms: int, end_ms: int) -> list[tuple[int, Decimal]]:
    """(time ms, price) of the exchange's trades between the two times, from GET /api/v3/aggTrades."""
    out: list[tuple[int, Decimal]] = []
    params: dict[str, str | int] = {"symbol": symbol, "startTime": start_ms, "endTime": end_ms, "limit": 1000}
    while True:
        page = http.get("/api/v3/aggTrades", params=params).json()
        out += [(int(t["T"]), Decimal(t["p"])) for t in page if int(t["T"]) <= end_ms]
        if len(page) < 1000:
            return out
        params = {"symbol": symbol, "fromId": int(page[-1]["a"]) + 1, "limit": 1000}


def wait_for_trades_after(http: httpx.Client, symbol: str, after_ms: int, seconds: float) -> None:
    """Poll until the exchange's history holds a trade after `after_ms`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        latest = http.get("/api/v3/aggTrades", params={"symbol": symbol, "limit": 1}).json()
        if latest and int(latest[-1]["T"]) > after_ms:
            return
        time.sleep(1.0)
    raise AssertionError(f"no {symbol} trade after {after_ms}")
