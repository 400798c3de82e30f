"""The simulation's price and quoting model in simulated time (marketsim.simtime) and the report
run on it (`python -m marketsim.report --simulated`): a pure function of the seed; over several
seeds its 1-minute mid returns show the stylized facts with the report's targets; trade prices
show the bid-ask bounce that mids do not; the report's file holds a table per seed with the
target beside every figure, the trade-price comparison and a summary."""

import re
from pathlib import Path

import pytest

from marketsim.measures import Targets
from marketsim.report import main as report_main
from marketsim.simtime import seed_figures, simulate_market
from marketsim.stylized import autocorrelation, bar_closes, log_returns

SEEDS = ["1", "2", "3", "4", "5"]
MINUTES = 2_000
MINUTE_MS = 60_000
FIVE_S_MS = 5_000


def test_a_simulated_market_is_a_pure_function_of_its_seed() -> None:
    one = simulate_market("BTCUSDT", 7, 30, 1.0)
    assert one == simulate_market("BTCUSDT", 7, 30, 1.0)
    assert one.mids != simulate_market("BTCUSDT", 8, 30, 1.0).mids
    assert one.mids != simulate_market("ETHUSDT", 7, 30, 1.0).mids
    assert len(one.mids) == 30 * 60
    assert [t for t, _ in one.mids] == [s * 1000 for s in range(1, 30 * 60 + 1)]
    # About 40 noise takers a minute, in time order, each at a price of the book (whole ticks).
    assert 30 * 40 * 0.8 < len(one.trades) < 30 * 40 * 1.2
    assert [t for t, _ in one.trades] == sorted(t for t, _ in one.trades)
    assert all(p == int(p) for _, p in one.trades)
    assert all(2 * m == int(2 * m) for _, m in one.mids)


@pytest.mark.parametrize("seed", SEEDS)
def test_minute_mid_returns_have_the_stylized_facts(seed: str) -> None:
    figures = seed_figures("BTCUSDT", seed, MINUTES, 1.0, [MINUTE_MS])
    rows = {r.name: r for r in figures.rows}
    t = Targets()
    rho = rows["1m mid return autocorrelation, lag 1"]
    acf = rows["1m mid |return| autocorrelation, mean of lags 1-10"]
    kurt = rows[f"1m mid return kurtosis ({MINUTES - 1} returns)"]
    assert abs(rho.value) < t.max_abs_rho and rho.ok
    assert acf.value > t.min_abs_acf and acf.ok
    assert kurt.value > t.min_kurtosis and kurt.ok


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_trade_prices_bounce_where_mids_do_not(seed: str) -> None:
    # A coarse tick (ETHBTC's is 2 bps) and 5 s bars: the spread is large against a bar's move.
    market = simulate_market("ETHBTC", seed, 600, 2.0)
    end = 600 * MINUTE_MS
    mid_rho = autocorrelation(log_returns(bar_closes(market.mids, 0, end, FIVE_S_MS)), 1)
    trade_rho = autocorrelation(log_returns(bar_closes(market.trades, 0, end, FIVE_S_MS)), 1)
    assert abs(mid_rho) < 0.1
    assert trade_rho < -0.05
    assert trade_rho < mid_rho - 0.1


def test_the_simulated_report_file(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    status = report_main(
        ["--simulated", "--minutes", "300", "--seeds", "1,2,3", "--symbols", "BTCUSDT,ETHBTC",
         "--tick-bps", "1", "--bar-seconds", "60,10", "--out", str(out)]
    )  # fmt: skip
    text = out.read_text()
    assert text.startswith(
        "# Market simulation report, simulated time: 300 min per seed, seeds 1, 2, 3, tick 1 bps"
    )
    assert "Returns are those of the mid" in text
    tables = re.findall(r"^### (\w+) seed (\d+)$", text, re.M)
    assert tables == [(s, n) for s in ("BTCUSDT", "ETHBTC") for n in ("1", "2", "3")]
    rows = re.findall(r"^\| (\d+\w) mid (.+?) \| (\S+) \| (.+?) \| (yes|no) \|$", text, re.M)
    assert len(rows) == 6 * 3 * 2  # 3 facts x 2 bar lengths, per seed and market
    for bar, name, value, target, met in rows:
        assert bar in ("1m", "10s")
        number = float(value.replace(",", ""))
        if "lag 1" in name:
            assert target == r"\|rho\| < 0.1" and (met == "yes") == (abs(number) < 0.1)
        elif r"\|return\|" in name:
            assert target == "> 0" and (met == "yes") == (number > 0)
        else:
            assert name.startswith("return kurtosis (") and target == "> 3"
    bounce = r"^Trade-price returns, lag-1 autocorrelation \(not a target\): 1m -?[\d.]+; 10s -?[\d.]+$"
    assert len(re.findall(bounce, text, re.M)) == 6
    summary = re.findall(r"^- (\w+): (\d) of 3$", text, re.M)
    assert [s for s, _ in summary] == ["BTCUSDT", "ETHBTC"]
    all_met = all(m == "yes" for *_, m in rows)
    assert status == (0 if all_met else 1)
    assert all_met == all(n == "3" for _, n in summary)
