"""Binance public-data files (data.binance.vision) as records: klines and aggTrades CSV, as
published per symbol and day (`BTCUSDT-1m-2026-01-01.zip` holding `BTCUSDT-1m-2026-01-01.csv`).

Spot files carry no header line; some others do, so a first line that does not start with a
number is skipped. Timestamps are milliseconds before 2025 and microseconds from 2025 on (Binance
switched its spot files); each is read by its size, so one reader takes both. Columns:

- klines: open_time, open, high, low, close, volume, close_time, quote_volume, trades,
  taker_buy_base, taker_buy_quote, ignore (12);
- aggTrades: agg_id, price, qty, first_id, last_id, time, is_buyer_maker, is_best_match (8).

Prices stay Decimal strings' values here; the replay turns them into ticks of the market.
"""

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

KLINE_COLUMNS = 12
AGG_TRADE_COLUMNS = 8
# A timestamp above this is in microseconds (1e14 ms is the year 5138; 1e14 us is 1973).
MICROSECONDS_ABOVE = 10**14


class ReplayFileError(ValueError):
    """A file that is not a Binance klines or aggTrades CSV."""


@dataclass(frozen=True, slots=True)
class Kline:
    """One candle; times in seconds since the epoch (close_time is the candle's last instant)."""

    open_time: float
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    close_time: float


@dataclass(frozen=True, slots=True)
class AggTrade:
    """One aggregated trade; `time` in seconds since the epoch."""

    agg_id: int
    price: Decimal
    qty: Decimal
    time: float
    is_buyer_maker: bool


def epoch_seconds(stamp: str) -> float:
    """A Binance timestamp (milliseconds, or microseconds from 2025) in seconds."""
    value = int(stamp)
    return value / 1_000_000 if value >= MICROSECONDS_ABOVE else value / 1000


def _rows(path: Path) -> Iterator[list[str]]:
    """The CSV rows of `path` (a .csv, or a .zip holding one .csv), header line skipped."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".csv")]
            if len(names) != 1:
                raise ReplayFileError(f"{path}: expected one .csv inside, found {names}")
            with archive.open(names[0]) as raw:
                yield from _csv_rows(io.TextIOWrapper(raw, encoding="ascii", newline=""), path)
    else:
        with path.open(encoding="ascii", newline="") as text:
            yield from _csv_rows(text, path)


def _csv_rows(text: io.TextIOBase, path: Path) -> Iterator[list[str]]:
    first = True
    for row in csv.reader(text):
        if not row:
            continue
        if first and not row[0].strip().isdigit():
            first = False
            continue  # a header line
        first = False
        yield row


def file_kind(path: Path) -> str:
    """ "klines" or "aggTrades", from the column count of the first row."""
    for row in _rows(path):
        if len(row) == KLINE_COLUMNS:
            return "klines"
        if len(row) == AGG_TRADE_COLUMNS:
            return "aggTrades"
        break
    raise ReplayFileError(f"{path}: neither a klines nor an aggTrades CSV")


def read_klines(path: Path) -> Iterator[Kline]:
    for row in _rows(path):
        if len(row) != KLINE_COLUMNS:
            raise ReplayFileError(f"{path}: a klines row has {len(row)} columns: {row}")
        yield Kline(
            epoch_seconds(row[0]),
            Decimal(row[1]),
            Decimal(row[2]),
            Decimal(row[3]),
            Decimal(row[4]),
            epoch_seconds(row[6]),
        )


def read_agg_trades(path: Path) -> Iterator[AggTrade]:
    for row in _rows(path):
        if len(row) != AGG_TRADE_COLUMNS:
            raise ReplayFileError(f"{path}: an aggTrades row has {len(row)} columns: {row}")
        yield AggTrade(
            int(row[0]), Decimal(row[1]), Decimal(row[2]), epoch_seconds(row[5]), row[6].lower() == "true"
        )


def replay_files(path: Path, symbol: str, kind: str = "klines") -> list[Path]:
    """The files to replay for `symbol`: `path` itself (of whichever kind it is), or the directory
    `path`'s files of `kind` (`<SYMBOL>-aggTrades-*`, or for klines `<SYMBOL>-<interval>-*`), .zip
    or .csv, in name order (Binance's names sort by day). Raises ReplayFileError when there is
    none or one is of another kind."""
    if path.is_file():
        file_kind(path)
        return [path]
    else:
        named = sorted(p for p in path.glob(f"{symbol}-*") if p.suffix in (".zip", ".csv"))
        files = [p for p in named if ("-aggTrades-" in p.name) == (kind == "aggTrades")]
    if not files:
        raise ReplayFileError(f"no {symbol} {kind} file (.zip or .csv) at {path}")
    for f in files:
        if file_kind(f) != kind:
            raise ReplayFileError(f"{f}: not a {kind} file")
    return files
