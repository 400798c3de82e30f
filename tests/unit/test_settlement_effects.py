"""What settlement makes of events: ledger operations and Binance user-data payloads."""

from typing import Any

import orjson

from exchange_core.ledger import SettleFields, decode_op, encode_op
from exchange_core.markets import Asset, Market
from exchange_core.prevented import PreventedMatch
from gateway.grpcapi import convert
from matching import AmendOrder, MatchingEngine, OrderType, Side, StpMode
from settlement.effects import Effects
from settlement.orderinfo import OrderInfo
from tests.corehelpers import SPEC, cancel, limit, market, stop

MARKET = Market(SPEC, Asset("TST", 0), Asset("USD", 2), "0.01", "1", "1", "1000000", "1.00", "0.001", "0.002")


def run(*commands: object) -> tuple[Effects, dict[int, OrderInfo]]:
    engine = MatchingEngine(SPEC)
    known: dict[int, OrderInfo] = {}
    fx = Effects(MARKET, known)
    for c in commands:
        for e in engine.apply(c):  # type: ignore[arg-type]
            fx.apply(e)
    return fx, known


def decoded(ops: list[str]) -> list[SettleFields]:
    """Encoded settle.lua operations as values (numbers as int, the rest as text), each checked
    to be what exchange_core.ledger.encode_op makes of them."""
    out: list[SettleFields] = []
    for text in ops:
        fields = decode_op(text)
        assert encode_op(fields) == text
        seq, kind, *values = fields
        a, b, c, d = (int(v) if v.lstrip("-").isdigit() else v for v in map(str, values))
        out.append((seq, kind, a, b, c, d))
    return out


def payloads_of(fx: Effects, user_id: int) -> list[dict[str, Any]]:
    """The user's payloads of the batch, decoded."""
    return [orjson.loads(text) for text in fx.users[user_id].reports]


def test_a_fill_reports_new_then_trade_filled_for_both_sides() -> None:
    fx, _ = run(limit(1, 7, Side.SELL, 150, 2), limit(2, 8, Side.BUY, 150, 2))
    maker, taker = payloads_of(fx, 7), payloads_of(fx, 8)
    assert [(r["x"], r["X"]) for r in maker] == [("NEW", "NEW"), ("TRADE", "FILLED")]
    assert [(r["x"], r["X"]) for r in taker] == [("NEW", "NEW"), ("TRADE", "FILLED")]
    trade = taker[1]
    assert (trade["l"], trade["L"], trade["z"], trade["Z"], trade["n"], trade["N"], trade["m"]) == (
        "2", "1.50", "2", "3.00", "1", "TST", False)  # fmt: skip
    assert (maker[1]["n"], maker[1]["N"], maker[1]["m"]) == ("0.01", "USD", True)
    assert {op[2] for op in decoded(fx.users[0].ops) if op[1] == "B"} == {"TST:free", "USD:free"}  # fees


def test_cancel_and_self_trade_prevention_reports() -> None:
    fx, _ = run(
        limit(1, 7, Side.SELL, 150, 2),
        limit(2, 7, Side.BUY, 150, 1, stp=StpMode.EXPIRE_TAKER),
        cancel(7, oid=1),
    )
    reports = [(r["i"], r["x"], r["X"]) for r in payloads_of(fx, 7)]
    assert reports == [
        (1, "NEW", "NEW"),
        (2, "NEW", "NEW"),
        (2, "TRADE_PREVENTION", "EXPIRED_IN_MATCH"),
        (1, "CANCELED", "CANCELED"),
    ]
    prevented = payloads_of(fx, 7)[2]
    assert (prevented["v"], prevented["A"], prevented["B"], prevented["U"], prevented["Cs"]) == (
        1, "1", "1", 1, "TSTUSD")  # fmt: skip
    assert (prevented["pL"], prevented["pl"], prevented["pY"], prevented["u"]) == ("1.50", "1", "1.50", -1)
    assert all("v" not in r for i, r in enumerate(payloads_of(fx, 7)) if i != 2)
    state = OrderInfo.from_state(7, fx.users[7].order_state(2)[1])
    assert (state.prevented_match_id, state.prevented_qty) == (1, 1)
    records = [op for op in decoded(fx.users[7].finish()) if op[1] == "P"]
    assert [(op[2], PreventedMatch.decode(op[3])) for op in records] == [
        (1, PreventedMatch(1, 2, 1, StpMode.EXPIRE_TAKER, 150, 1, 0, 0))
    ]


def test_expire_both_is_one_prevented_match_of_both_orders() -> None:
    fx, _ = run(limit(1, 7, Side.SELL, 150, 2), limit(2, 7, Side.BUY, 150, 1, stp=StpMode.EXPIRE_BOTH))
    prevented = [r for r in payloads_of(fx, 7) if r["x"] == "TRADE_PREVENTION"]
    assert [(r["i"], r["v"], r["A"], r["U"]) for r in prevented] == [(1, 1, "2", 2), (2, 1, "1", 1)]
    assert fx.users[7].assets == {"USD", "TST"}
    records = [PreventedMatch.decode(op[3]) for op in decoded(fx.users[7].finish()) if op[1] == "P"]
    assert records == [PreventedMatch(1, 2, 1, StpMode.EXPIRE_BOTH, 150, 1, 2, 0)]


def test_order_state_remembers_progress_across_batches() -> None:
    fx, known = run(limit(1, 7, Side.SELL, 150, 5), limit(2, 8, Side.BUY, 150, 2))
    assert (known[1].executed, known[1].executed_quote) == (2, 300)
    later = Effects(MARKET, known)
    engine_state_cancel = OrderInfo.from_state(7, fx.users[7].order_state(1)[1])
    assert (engine_state_cancel.executed, engine_state_cancel.executed_quote) == (2, 300)
    assert later.users == {}


def test_a_stop_order_reports_new_not_working_then_new_working_when_triggered() -> None:
    fx, known = run(
        limit(1, 5, Side.SELL, 150, 1),
        limit(2, 6, Side.BUY, 150, 1),  # last price 1.50
        stop(3, 7, Side.SELL, OrderType.STOP_LOSS_LIMIT, 140, 2, price=139, ts=10),
        limit(4, 8, Side.BUY, 140, 1),
        market(5, 9, Side.SELL, qty=1, reserve=1, ts=20),  # trades at 1.40: triggers order 3
    )
    reports = [r for r in payloads_of(fx, 7) if r["i"] == 3]
    assert [(r["x"], r["X"], r["o"], r["P"], r["w"], r["W"]) for r in reports] == [
        ("NEW", "NEW", "STOP_LOSS_LIMIT", "1.40", False, -1),
        ("NEW", "NEW", "STOP_LOSS_LIMIT", "1.40", True, 20),
    ]
    assert (known[3].stop_price, known[3].triggered) == (140, 20)
    state = OrderInfo.from_state(7, fx.users[7].order_state(3)[1])
    assert (state.stop_price, state.triggered) == (140, 20)


def test_an_iceberg_reports_its_iceberg_quantity_and_an_amendment_is_replaced_with_funds_back() -> None:
    iceberg = limit(1, 7, Side.SELL, 150, 10, cid="a")
    iceberg.iceberg_qty = 4
    fx, known = run(iceberg, AmendOrder(SPEC.symbol, 7, 1, "", "b", 6))
    reports = payloads_of(fx, 7)
    assert [(r["x"], r["X"], r["F"], r["q"], r["c"], r["C"]) for r in reports] == [
        ("NEW", "NEW", "4", "10", "a", ""),
        ("REPLACED", "NEW", "4", "6", "b", "a"),
    ]
    released = [op[2:4] for op in decoded(fx.users[7].ops) if op[1] == "B"]
    assert released == [("TST:locked", -4), ("TST:free", 4)]
    _, state, is_open, claimed = fx.users[7].order_state(1)
    assert (is_open, claimed) == (1, "b")
    assert (known[1].quantity, OrderInfo.from_state(7, state).iceberg_qty) == (6, 4)
    assert convert.execution_report(reports[1]).iceberg_qty == "4"  # gRPC's ExecutionReport too
