"""What settlement makes of events: ledger operations and Binance user-data payloads."""

from exchange_core.markets import Asset, Market
from matching import MatchingEngine, Side, StpMode
from settlement.effects import Effects, OrderInfo
from tests.corehelpers import SPEC, cancel, limit

MARKET = Market(SPEC, Asset("TST", 0), Asset("USD", 2), "0.01", "1", "1", "1000000", "1.00", "0.001", "0.002")


def run(*commands: object) -> tuple[Effects, dict[int, OrderInfo]]:
    engine = MatchingEngine(SPEC)
    known: dict[int, OrderInfo] = {}
    fx = Effects(MARKET, known)
    for c in commands:
        for e in engine.apply(c):  # type: ignore[arg-type]
            fx.apply(e)
    return fx, known


def test_a_fill_reports_new_then_trade_filled_for_both_sides() -> None:
    fx, _ = run(limit(1, 7, Side.SELL, 150, 2), limit(2, 8, Side.BUY, 150, 2))
    maker, taker = fx.users[7].reports, fx.users[8].reports
    assert [(r["x"], r["X"]) for r in maker] == [("NEW", "NEW"), ("TRADE", "FILLED")]
    assert [(r["x"], r["X"]) for r in taker] == [("NEW", "NEW"), ("TRADE", "FILLED")]
    trade = taker[1]
    assert (trade["l"], trade["L"], trade["z"], trade["Z"], trade["n"], trade["N"], trade["m"]) == (
        "2", "1.50", "2", "3.00", "1", "TST", False)  # fmt: skip
    assert (maker[1]["n"], maker[1]["N"], maker[1]["m"]) == ("0.01", "USD", True)
    assert {op[2] for op in fx.users[0].ops if op[1] == "B"} == {"TST:free", "USD:free"}  # fees


def test_cancel_and_self_trade_prevention_reports() -> None:
    fx, _ = run(
        limit(1, 7, Side.SELL, 150, 2),
        limit(2, 7, Side.BUY, 150, 1, stp=StpMode.EXPIRE_TAKER),
        cancel(7, oid=1),
    )
    reports = [(r["i"], r["x"], r["X"]) for r in fx.users[7].reports]
    assert reports == [
        (1, "NEW", "NEW"),
        (2, "NEW", "NEW"),
        (2, "TRADE_PREVENTION", "EXPIRED_IN_MATCH"),
        (1, "CANCELED", "CANCELED"),
    ]
    assert fx.users[7].assets == {"USD", "TST"}


def test_order_state_remembers_progress_across_batches() -> None:
    fx, known = run(limit(1, 7, Side.SELL, 150, 5), limit(2, 8, Side.BUY, 150, 2))
    assert (known[1].executed, known[1].executed_quote) == (2, 300)
    later = Effects(MARKET, known)
    engine_state_cancel = OrderInfo.from_state(7, fx.users[7].orders[1][1])
    assert (engine_state_cancel.executed, engine_state_cancel.executed_quote) == (2, 300)
    assert later.users == {}
