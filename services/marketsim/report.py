"""`python -m marketsim.report`: watch running markets through the public API for N minutes and
write a table of their figures with the target beside each (marketsim.measures).

    python -m marketsim.report [--gateway URL] [--minutes 10] [--symbols BTCUSDT,...]
                               [--bar-seconds 60,10] [--sample-seconds 5] [--out report.md]

The book is sampled with GET /api/v3/depth every --sample-seconds; the trades of the window are
read back with GET /api/v3/aggTrades afterwards (the DB processor must run). Exit status 0 when
every figure meets its target, 1 otherwise.
"""

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvloop

from botkit.client import ExchangeClient
from botkit.rules import MarketRules
from botkit.startup import market_rules
from marketsim.measures import BookSamples, Row, measure, table
from marketsim.stylized import Level

AGG_PAGE = 1000


@dataclass
class MarketWatch:
    rules: MarketRules
    samples: BookSamples


def levels(rows: Sequence[Sequence[Any]]) -> list[Level]:
    return [(float(Decimal(str(p))), float(Decimal(str(q)))) for p, q in rows]


async def sample_books(client: ExchangeClient, watches: list[MarketWatch]) -> None:
    books = await asyncio.gather(
        *(client.public("/api/v3/depth", {"symbol": w.rules.symbol, "limit": 5000}) for w in watches)
    )
    for watch, book in zip(watches, books, strict=True):
        watch.samples.add(levels(book["bids"]), levels(book["asks"]))


async def trades_between(
    client: ExchangeClient, symbol: str, start_ms: int, end_ms: int
) -> tuple[list[tuple[int, float]], int]:
    """(time ms, price) of every aggregate trade in [start_ms, end_ms], oldest first, and the
    number of trades they aggregate."""
    out: list[tuple[int, float]] = []
    count = 0
    params: dict[str, str | int] = {"symbol": symbol, "startTime": start_ms, "limit": AGG_PAGE}
    while True:
        page = await client.public("/api/v3/aggTrades", params)
        for agg in page:
            if int(agg["T"]) > end_ms:
                return out, count
            out.append((int(agg["T"]), float(Decimal(str(agg["p"])))))
            count += int(agg["l"]) - int(agg["f"]) + 1
        if len(page) < AGG_PAGE:
            return out, count
        params = {"symbol": symbol, "fromId": int(page[-1]["a"]) + 1, "limit": AGG_PAGE}


async def watch_markets(
    gateway: str, seconds: float, symbols: list[str], bar_seconds: list[int], sample_seconds: float
) -> dict[str, list[Row]]:
    """Every market's rows over a window of `seconds` from now, with the returns of bars of each
    of `bar_seconds`."""
    client = ExchangeClient(gateway, "", "")
    try:
        await client.sync_clock()
        watches = [MarketWatch(r, BookSamples()) for r in await market_rules(client, symbols)]
        start_ms = client.server_now_ms()
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            await sample_books(client, watches)
            await asyncio.sleep(min(sample_seconds, max(0.0, ends - time.monotonic())))
        end_ms = client.server_now_ms()
        await asyncio.sleep(2.0)  # the DB processor writes trades in batches
        bars = [b * 1000 for b in bar_seconds]
        out = {}
        for w in watches:
            trades, count = await trades_between(client, w.rules.symbol, start_ms, end_ms)
            out[w.rules.symbol] = measure(
                w.samples, trades, count, start_ms, end_ms, bars, float(w.rules.min_notional)
            )
        return out
    finally:
        await client.aclose()


def render(results: dict[str, list[Row]], minutes: float) -> str:
    head = f"# Market simulation report: {minutes:g} min per market\n"
    return head + "\n\n".join(table(symbol, rows) for symbol, rows in results.items()) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m marketsim.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--symbols", default="", help="comma-separated; default every market")
    parser.add_argument("--bar-seconds", default="60,10", help="return bar lengths, comma-separated")
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--out", default="", help="also write the table to this file")
    args = parser.parse_args(argv)
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    bars = [int(b) for b in args.bar_seconds.split(",") if b.strip()]
    results = uvloop.run(watch_markets(args.gateway, args.minutes * 60, symbols, bars, args.sample_seconds))
    text = render(results, args.minutes)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0 if all(r.ok for rows in results.values() for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
