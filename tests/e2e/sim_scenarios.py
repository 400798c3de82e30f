"""Helpers of the scenario tests (tests/e2e/test_marketsim_scenarios.py on a test stack,
tests/e2e/test_run_scenarios.py on `make run`'s): a quick agent mix, the admin API, and what a
client reads of one market (trades, mid, depth near the mid, realised volatility), all through the
public API at `url`."""

import itertools
import json
import math
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

# One quick maker, a few deep levels, many noise takers: a book up in seconds that follows the
# fair price within about a second on a loaded machine (a ladder moving with the price is
# re-placed whole: fewer orders, faster), and trades several times a second.
QUICK_MIX: dict[str, Any] = {
    "makers": [
        {
            "name": "tight",
            "spread_bps": 3,
            "spacing_bps": 2,
            "levels": 3,
            "size_multiplier": 4,
            "requote_seconds": 0.5,
            "hysteresis_bps": 1,
        }
    ],
    "depth_levels": 12,
    "depth_spacing_bps": 8.0,
    "depth_requote_seconds": 1.0,
    "depth_hysteresis_bps": 3.0,
    "noise_per_minute": 240,
    "momentum_per_minute": 0,
    "mean_reversion_per_minute": 0,
    "sweeps_per_minute": 0,
}


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"no {what} within {seconds} s"
        time.sleep(0.3)


def admin_post(http: httpx.Client, path: str, body: object, headers: dict[str, str] | None) -> httpx.Response:
    """POST /admin/v1`path` with `body` as JSON and the admin `headers`."""
    return http.post(f"/admin/v1{path}", headers=headers, content=json.dumps(body))


def recent_trades(url: str, symbol: str, limit: int = 200) -> list[dict[str, Any]]:
    rows = httpx.get(f"{url}/api/v3/trades", params={"symbol": symbol, "limit": limit}, timeout=30)
    return list(rows.json())


def mid(url: str, symbol: str) -> Decimal:
    """The mid of the best bid and ask (polled until both sides have one)."""
    while True:
        top = httpx.get(f"{url}/api/v3/ticker/bookTicker", params={"symbol": symbol}, timeout=30).json()
        if Decimal(top["bidPrice"]) and Decimal(top["askPrice"]):
            return (Decimal(top["bidPrice"]) + Decimal(top["askPrice"])) / 2
        time.sleep(0.1)


def book_within(url: str, symbol: str, bps: int) -> tuple[Decimal, int]:
    """The quote-asset value and the number of levels resting within `bps` of the mid, each
    of the thinner side."""
    book = httpx.get(f"{url}/api/v3/depth", params={"symbol": symbol, "limit": 1000}, timeout=30).json()
    if not book["bids"] or not book["asks"]:
        return Decimal(0), 0
    centre = (Decimal(book["bids"][0][0]) + Decimal(book["asks"][0][0])) / 2
    band = centre * bps / 10_000
    sides = [
        [(Decimal(p), Decimal(q)) for p, q in book[side] if abs(Decimal(p) - centre) <= band]
        for side in ("bids", "asks")
    ]
    return min(sum((p * q for p, q in side), Decimal(0)) for side in sides), min(len(side) for side in sides)


def realised_bps(url: str, symbol: str, seconds: float) -> float:
    """The standard deviation of the mid's log change over 1 s, in bps, over `seconds`."""
    mids = []
    for _ in range(int(seconds)):
        mids.append(float(mid(url, symbol)))
        time.sleep(1.0)
    return statistics.pstdev(math.log(b / a) for a, b in itertools.pairwise(mids)) * 10_000
