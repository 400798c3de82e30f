"""What the report measures in one market, pure: book samples and trades in, a table of figures
with the target beside each out. The inputs are the exchange's own public data (depth snapshots,
aggregate trades), never the simulation's state.

Returns are measured on the mid (the mean of the best bid and ask of each depth snapshot), not on
trade prices: a trade prints at the bid or the ask, so consecutive trade prices bounce across
the spread and their returns are negatively autocorrelated at short lags (Roll, 1984), an
artefact of the microstructure that the stylized facts (Cont, 2001) set aside by using mid or
sufficiently long bars. The mid is what the fair price moves."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from marketsim.stylized import (
    Level,
    autocorrelation,
    bar_closes,
    depth_within,
    kurtosis,
    levels_within,
    log_returns,
    mean_abs_autocorrelation,
    median,
    spread_bps,
)

BANDS_BPS = (10, 50, 100)
DEPTH_BAND_PCT = 5.0
ABS_LAGS = 10


@dataclass(frozen=True, slots=True)
class Targets:
    """What a realistic market of this exchange shows. Depth targets are quote-asset notional a
    side, in multiples of the market's minNotional."""

    max_spread_bps: float = 10.0
    depth_multiples: tuple[float, float, float] = (50.0, 500.0, 1500.0)
    min_levels: int = 200
    min_trades_per_s: float = 0.3
    max_abs_rho: float = 0.1
    min_abs_acf: float = 0.0
    min_kurtosis: float = 3.0


@dataclass
class BookSamples:
    """Per depth snapshot: spread (bps), the thinner side's notional within each band, the
    fewer levels a side within DEPTH_BAND_PCT, and (time ms, mid) when the time is given."""

    spreads: list[float] = field(default_factory=list)
    depth: dict[int, list[float]] = field(default_factory=lambda: {b: [] for b in BANDS_BPS})
    levels: list[int] = field(default_factory=list)
    mids: list[tuple[int, float]] = field(default_factory=list)

    def add(self, bids: Sequence[Level], asks: Sequence[Level], at_ms: int | None = None) -> None:
        spread = spread_bps(bids, asks)
        if spread is None:
            self.levels.append(0)
            return
        self.spreads.append(spread)
        if at_ms is not None:
            self.mids.append((at_ms, (bids[0][0] + asks[0][0]) / 2))
        for band in BANDS_BPS:
            self.depth[band].append(min(depth_within(bids, asks, band)))
        self.levels.append(min(levels_within(bids, asks, DEPTH_BAND_PCT)))


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    value: float
    target: str
    ok: bool


def measure(
    samples: BookSamples,
    trade_count: int,
    start_ms: int,
    end_ms: int,
    bars_ms: Sequence[int],
    min_notional: float,
    targets: Targets = Targets(),
) -> list[Row]:
    """The report's rows for one market: the book figures are medians over the samples, the
    trade rate is `trade_count` over the window; then for each length in `bars_ms`, the stylized
    facts of the returns of the bars' closing mids (the samples' mids) between start_ms and
    end_ms."""
    t = targets
    spread = median(samples.spreads)
    rows = [Row("median spread (bps)", spread, f"<= {t.max_spread_bps:g}", 0 < spread <= t.max_spread_bps)]
    for band, multiple in zip(BANDS_BPS, t.depth_multiples, strict=True):
        depth, want = median(samples.depth[band]), multiple * min_notional
        rows.append(
            Row(f"depth within {band} bps (quote asset, thinner side)", depth, f">= {want:g}", depth >= want)
        )
    levels = median(samples.levels)
    within = f"{DEPTH_BAND_PCT:g}%"
    rows.append(
        Row(
            f"levels a side within {within} (fewer side)",
            levels,
            f">= {t.min_levels}",
            levels >= t.min_levels,
        )
    )
    rate = trade_count / max(1e-9, (end_ms - start_ms) / 1000)
    rows.append(Row("trades per second", rate, f">= {t.min_trades_per_s:g}", rate >= t.min_trades_per_s))
    for bar in bars_ms:
        rows += return_rows(log_returns(bar_closes(samples.mids, start_ms, end_ms, bar)), bar, t)
    return rows


def bar_name(bar_ms: int) -> str:
    return f"{bar_ms // 60_000}m" if bar_ms % 60_000 == 0 else f"{bar_ms / 1000:g}s"


def return_rows(returns: Sequence[float], bar_ms: int, t: Targets, price: str = "mid") -> list[Row]:
    """The stylized facts of `returns` (of `price`s closing bars of `bar_ms`) against their
    targets."""
    bar = f"{bar_name(bar_ms)} {price}"
    rho = autocorrelation(returns, 1)
    acf = mean_abs_autocorrelation(returns, ABS_LAGS)
    kurt = kurtosis(returns)
    return [
        Row(
            f"{bar} return autocorrelation, lag 1",
            rho,
            f"|rho| < {t.max_abs_rho:g}",
            abs(rho) < t.max_abs_rho,
        ),
        Row(
            f"{bar} |return| autocorrelation, mean of lags 1-{ABS_LAGS}",
            acf,
            f"> {t.min_abs_acf:g}",
            acf > t.min_abs_acf,
        ),
        Row(
            f"{bar} return kurtosis ({len(returns)} returns)",
            kurt,
            f"> {t.min_kurtosis:g}",
            kurt > t.min_kurtosis,
        ),
    ]


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(symbol: str, rows: Sequence[Row]) -> str:
    """`rows` as a Markdown table under the market's name (a `|` inside a cell escaped)."""
    lines = [f"### {symbol}", "", "| measure | value | target | met |", "|---|---:|---|---|"]
    lines += [
        f"| {cell(r.name)} | {r.value:,.4g} | {cell(r.target)} | {'yes' if r.ok else 'no'} |" for r in rows
    ]
    return "\n".join(lines)
