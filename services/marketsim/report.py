"""`python -m marketsim.report`: watch running markets through the public API for N minutes and
write a table of their figures with the target beside each (marketsim.measures); or, with
--simulated, run the simulation's price and quoting model in simulated time (marketsim.simtime)
for N minutes per seed and write each seed's stylized facts with the target beside each.

    python -m marketsim.report [--gateway URL] [--minutes 10] [--symbols BTCUSDT,...]
                               [--bar-seconds 60,10] [--sample-seconds 5] [--out report.md]
    python -m marketsim.report --simulated [--minutes 2000] [--seeds 1,2,3,4,5] [--tick-bps 1]
                               [--symbols BTCUSDT] [--bar-seconds 60,10] [--out report.md]

The book is sampled with GET /api/v3/depth every --sample-seconds (its mids give the returns);
the trades of the window are counted with GET /api/v3/aggTrades afterwards (the DB processor must
run). Exit status 0 when every figure meets its target, 1 otherwise.
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
from marketsim.measures import BookSamples, Row, bar_name, measure, table
from marketsim.simtime import SeedFigures, seed_figures
from marketsim.stylized import Level

AGG_PAGE = 1000


@dataclass
class MarketWatch:
    rules: MarketRules
    samples: BookSamples


def levels(rows: Sequence[Sequence[Any]]) -> list[Level]:
    return [(float(Decimal(str(p))), float(Decimal(str(q)))) for p, q in rows]


async def sample_books(client: ExchangeClient, watches: list[MarketWatch]) -> None:
    at_ms = client.server_now_ms()
    books = await asyncio.gather(
        *(client.public("/api/v3/depth", {"symbol": w.rules.symbol, "limit": 5000}) for w in watches)
    )
    for watch, book in zip(watches, books, strict=True):
        watch.samples.add(levels(book["bids"]), levels(book["asks"]), at_ms)


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
            _, count = await trades_between(client, w.rules.symbol, start_ms, end_ms)
            out[w.rules.symbol] = measure(
                w.samples, count, start_ms, end_ms, bars, float(w.rules.min_notional)
            )
        return out
    finally:
        await client.aclose()


MID_NOTE = (
    "Returns are those of the mid (best bid + best ask) / 2 closing each bar: trade prices "
    "bounce between the bid and the ask, which pulls their short-lag autocorrelation below zero "
    "(the bid-ask bounce), an effect of the spread, not of the price."
)


def render(results: dict[str, list[Row]], minutes: float) -> str:
    head = f"# Market simulation report: {minutes:g} min per market\n\n{MID_NOTE}\n\n"
    return head + "\n\n".join(table(symbol, rows) for symbol, rows in results.items()) + "\n"


def render_simulated(results: dict[str, list[SeedFigures]], minutes: int, tick_bps: float) -> str:
    """Each market's and seed's table, its trade-price comparison line, and a summary."""
    seeds = ", ".join(f.seed for f in next(iter(results.values()), []))
    parts = [
        f"# Market simulation report, simulated time: {minutes} min per seed, seeds {seeds}, "
        f"tick {tick_bps:g} bps\n\n{MID_NOTE}"
    ]
    for symbol, figures in results.items():
        for f in figures:
            bounce = "; ".join(f"{bar_name(b)} {rho:.3f}" for b, rho in f.trade_rho.items())
            parts.append(
                table(f"{symbol} seed {f.seed}", f.rows)
                + f"\n\nTrade-price returns, lag-1 autocorrelation (not a target): {bounce}"
            )
    summary = ["## Seeds meeting every target", ""]
    for symbol, figures in results.items():
        met = sum(all(r.ok for r in f.rows) for f in figures)
        summary.append(f"- {symbol}: {met} of {len(figures)}")
    parts.append("\n".join(summary))
    return "\n\n".join(parts) + "\n"


def simulated(
    symbols: list[str], seeds: list[str], minutes: int, tick_bps: float, bars_ms: list[int]
) -> dict[str, list[SeedFigures]]:
    return {
        symbol: [seed_figures(symbol, seed, minutes, tick_bps, bars_ms) for seed in seeds]
        for symbol in symbols
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m marketsim.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--symbols", default="", help="comma-separated; default every market")
    parser.add_argument("--bar-seconds", default="60,10", help="return bar lengths, comma-separated")
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--out", default="", help="also write the table to this file")
    parser.add_argument("--simulated", action="store_true", help="the model in simulated time, no exchange")
    parser.add_argument("--seeds", default="1,2,3,4,5", help="--simulated: the seeds, comma-separated")
    parser.add_argument("--tick-bps", type=float, default=1.0, help="--simulated: the tick, bps of the price")
    args = parser.parse_args(argv)
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    bars = [int(b) for b in args.bar_seconds.split(",") if b.strip()]
    if args.simulated:
        seeds = [s.strip() for s in args.seeds.split(",") if s.strip()]
        figures = simulated(
            symbols or ["BTCUSDT"], seeds, int(args.minutes), args.tick_bps, [b * 1000 for b in bars]
        )
        text = render_simulated(figures, int(args.minutes), args.tick_bps)
        ok = all(r.ok for fs in figures.values() for f in fs for r in f.rows)
    else:
        results = uvloop.run(
            watch_markets(args.gateway, args.minutes * 60, symbols, bars, args.sample_seconds)
        )
        text = render(results, args.minutes)
        ok = all(r.ok for rows in results.values() for r in rows)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
