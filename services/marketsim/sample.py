"""`python -m marketsim.sample --symbol BTCUSDT --day 2026-01-01 --out DIR`: a day of recorded
market data in Binance's public-data formats, drawn from the seeded price model (no download).

It writes `DIR/<SYMBOL>-aggTrades-<day>.zip` and `DIR/<SYMBOL>-1m-<day>.zip`, each holding the
.csv of the same name, as data.binance.vision publishes spot files: no header line, timestamps in
microseconds from 2025 on (milliseconds before), prices and quantities with 8 decimals, booleans
`True`/`False`. Trades arrive as a Poisson process on the model's path (rounded to the market's
tick); the klines are built from them, so both files tell the same story. `--csv`, `--header`
and `--unit` give the variants other files have.
"""

import argparse
import csv
import io
import math
import random
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from botkit.startup import DEFAULT_START_PRICES, parse_start_prices
from exchange_core.markets import load_markets
from marketsim.price import RegimeJumpModel

KLINE_HEADER = [
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
    "taker_buy_volume", "taker_buy_quote_volume", "ignore",
]  # fmt: skip
AGG_TRADE_HEADER = [
    "agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id", "transact_time",
    "is_buyer_maker", "is_best_match",
]  # fmt: skip
# Binance's spot files use microseconds from this day on.
MICROSECONDS_FROM = date(2025, 1, 1)
EIGHT = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class SampleTrade:
    agg_id: int
    ms: int  # since the epoch
    price: Decimal
    qty: Decimal
    buyer_maker: bool


def sample_trades(
    symbol: str, day: date, hours: float, trades_per_second: float, seed: str
) -> Iterator[SampleTrade]:
    """Trades of `hours` from midnight UTC of `day` on the model's path (seeded by `seed`)."""
    market = load_markets()[symbol]
    tick, step = Decimal(market.tick_size), Decimal(market.step_size)
    start = parse_start_prices(DEFAULT_START_PRICES).get(symbol) or Decimal(market.min_notional) * 1000
    model = RegimeJumpModel(float(start / tick), f"sample:{seed}")
    rng = random.Random(f"sample-trades:{seed}")
    midnight_ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    end_s = hours * 3600
    t = rng.expovariate(trades_per_second)
    agg_id = 1
    while t < end_s:
        ticks = max(1, round(model.price_at(t)))
        steps = max(1, round(rng.paretovariate(1.5) * 1000))
        price = tick * ticks
        qty = step * steps
        yield SampleTrade(agg_id, midnight_ms + int(t * 1000), price, qty, rng.random() < 0.5)
        agg_id += 1
        t += rng.expovariate(trades_per_second)


def stamp(ms: int, micro: bool) -> str:
    return str(ms * 1000 if micro else ms)


def close_stamp(open_ms: int, micro: bool) -> str:
    """A 1m candle's close time: its last millisecond (microsecond)."""
    return str(open_ms * 1000 + 59_999_999 if micro else open_ms + 59_999)


def eight(value: Decimal) -> str:
    return str(value.quantize(EIGHT))


def agg_trade_rows(trades: list[SampleTrade], micro: bool) -> Iterator[list[str]]:
    for t in trades:
        first = t.agg_id * 2
        yield [
            str(t.agg_id), eight(t.price), eight(t.qty), str(first), str(first + 1),
            stamp(t.ms, micro), str(t.buyer_maker), "True",
        ]  # fmt: skip


def kline_rows(trades: list[SampleTrade], day: date, hours: float, micro: bool) -> Iterator[list[str]]:
    """One 1m kline per minute; a minute without trades repeats the last close with no volume."""
    midnight_ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    by_minute: dict[int, list[SampleTrade]] = {}
    for t in trades:
        by_minute.setdefault((t.ms - midnight_ms) // 60_000, []).append(t)
    close = trades[0].price if trades else Decimal(1)
    for minute in range(math.ceil(hours * 60)):
        open_ms = midnight_ms + minute * 60_000
        inside = by_minute.get(minute, [])
        prices = [t.price for t in inside] or [close]
        volume = sum((t.qty for t in inside), Decimal(0))
        quote = sum((t.qty * t.price for t in inside), Decimal(0))
        taker_buys = [t for t in inside if not t.buyer_maker]
        buy_volume = sum((t.qty for t in taker_buys), Decimal(0))
        buy_quote = sum((t.qty * t.price for t in taker_buys), Decimal(0))
        yield [
            stamp(open_ms, micro), eight(prices[0]), eight(max(prices)), eight(min(prices)),
            eight(prices[-1]), eight(volume), close_stamp(open_ms, micro), eight(quote),
            str(len(inside)), eight(buy_volume), eight(buy_quote), "0",
        ]  # fmt: skip
        close = prices[-1]


def write(out: Path, name: str, rows: Iterator[list[str]], header: list[str] | None, zipped: bool) -> Path:
    """`rows` as `out/name.csv`, or zipped as `out/name.zip` holding `name.csv`."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    if not zipped:
        path = out / f"{name}.csv"
        path.write_text(text.getvalue(), encoding="ascii")
        return path
    path = out / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.csv", text.getvalue())
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m marketsim.sample", description=__doc__.split("\n")[0])
    parser.add_argument("--symbol", default="BTCUSDT")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--hours", type=float, default=24.0, help="from midnight UTC (default a day)")
    parser.add_argument("--trades-per-second", type=float, default=1.0)
    parser.add_argument("--seed", default="16")
    parser.add_argument("--unit", choices=("ms", "us"), help="timestamps (default: Binance's for the day)")
    parser.add_argument("--header", action="store_true", help="a header line (spot files have none)")
    parser.add_argument("--csv", action="store_true", help="plain .csv instead of .zip")
    args = parser.parse_args(argv)
    micro = args.unit == "us" if args.unit else args.day >= MICROSECONDS_FROM
    args.out.mkdir(parents=True, exist_ok=True)
    seed = f"{args.seed}:{args.symbol}:{args.day}"
    trades = list(sample_trades(args.symbol, args.day, args.hours, args.trades_per_second, seed))
    zipped = not args.csv
    day = args.day.isoformat()
    header = AGG_TRADE_HEADER if args.header else None
    written = [
        write(args.out, f"{args.symbol}-aggTrades-{day}", agg_trade_rows(trades, micro), header, zipped)
    ]
    rows = kline_rows(trades, args.day, args.hours, micro)
    header = KLINE_HEADER if args.header else None
    written.append(write(args.out, f"{args.symbol}-1m-{day}", rows, header, zipped))
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
