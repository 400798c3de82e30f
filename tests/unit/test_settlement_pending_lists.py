"""What settlement makes of OTO and OTOCO lists (from the real engine's events): the pending
reservation confirmed when the list starts, both reservations given back with a rejection, the
pending orders' PENDING_NEW state (from the gateway's, read back as their info) with the list's
id, and a pending order never placed releasing its reserve with its end."""

from exchange_core.records import OrderRecord
from matching import MatchingEngine, Side
from matching.commands import PlaceOrderList
from matching.enums import ContingencyType, OrderStatus
from settlement.effects import Effects
from settlement.orderinfo import OrderInfo
from tests.corehelpers import SYMBOL, cancel, limit, market
from tests.unit.test_settlement_effects import MARKET, decoded, payloads_of

SELL, BUY = Side.SELL, Side.BUY


def oto(working_price: int = 140, pending_price: int = 170) -> PlaceOrderList:
    working = limit(1, 7, BUY, working_price, 3, cid="w")
    pending = limit(2, 7, SELL, pending_price, 3, cid="p")
    return PlaceOrderList(SYMBOL, 7, "L", ContingencyType.OTO, (working, pending), 9)


def pending_info() -> OrderInfo:
    """The pending order's info as settlement reads it from the gateway's PENDING_NEW state."""
    return OrderInfo(2, 7, "p", SELL, 1, 1, 170, 3, 0, 0, 5)


def settle(engine: MatchingEngine, known: dict[int, OrderInfo], command: object) -> Effects:
    fx = Effects(MARKET, known)
    for e in engine.apply(command):  # type: ignore[arg-type]
        fx.apply(e)
    return fx


def test_a_started_oto_confirms_the_pending_reservation_and_reports_pending_new() -> None:
    engine, known = MatchingEngine(MARKET.spec), {2: pending_info()}
    fx = settle(engine, known, oto())
    ops = decoded(fx.users[7].ops)
    assert (ops[0][1], ops[0][2]) == ("C", f"{SYMBOL}:1")  # the working order's acceptance
    assert ("C", f"{SYMBOL}:2") in [(op[1], op[2]) for op in ops]
    assert f"7:{SYMBOL}:2" in fx.confirmed
    state = OrderInfo.from_state(7, fx.users[7].order_state(2)[1])
    assert (state.order_list_id, fx.users[7].order_state(2)[2]) == (1, 0)  # not among the open orders
    pending = [r for r in payloads_of(fx, 7) if r.get("i") == 2]
    assert [(r["x"], r["X"], r["g"]) for r in pending] == [("NEW", "PENDING_NEW", 1)]


def test_a_rejected_oto_gives_back_both_reservations() -> None:
    engine = MatchingEngine(MARKET.spec)
    working, pending = oto().orders
    bad = market(1, 7, BUY, qty=3, reserve=working.reserve)  # a MARKET working order: refused
    fx = settle(engine, {}, PlaceOrderList(SYMBOL, 7, "L", ContingencyType.OTO, (bad, pending), 9))
    assert [(op[1], op[2], op[3]) for op in decoded(fx.users[7].ops)] == [
        ("R", f"{SYMBOL}:1", working.reserve), ("R", f"{SYMBOL}:2", pending.reserve)
    ]  # fmt: skip
    assert fx.confirmed == [f"7:{SYMBOL}:1", f"7:{SYMBOL}:2"]


def test_a_cancelled_working_order_releases_the_unplaced_pending_reserve() -> None:
    engine, known = MatchingEngine(MARKET.spec), {2: pending_info()}
    placed = oto()
    settle(engine, known, placed)
    fx = settle(engine, known, cancel(7, 1))
    ops = [op[1:4] for op in decoded(fx.users[7].ops)]
    base, quote = MARKET.spec.base, MARKET.spec.quote
    assert ("B", f"{quote}:locked", -placed.orders[0].reserve) in ops
    assert ("B", f"{base}:locked", -placed.orders[1].reserve) in ops
    assert ("B", f"{base}:free", placed.orders[1].reserve) in ops
    assert ("X", f"{SYMBOL}:2", "") in ops
    _, state, is_open, _ = fx.users[7].order_state(2)
    record = OrderRecord.decode(state)
    assert (record.status, record.order_list_id, is_open) == (OrderStatus.CANCELED, 1, 0)
