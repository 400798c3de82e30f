"""What settlement makes of order lists (from the real engine's events): the stored list record
and its open flag, the listStatus user event, orderListId on member states and executionReports,
and the reservation a rejected list gives back."""

from exchange_core.listrecords import ListMember, OrderListRecord
from exchange_core.records import TradeRecord
from matching import MatchingEngine, OrderType, Side
from matching.commands import PlaceOrderList
from matching.enums import ContingencyType, ListOrderStatus, ListStatusType
from settlement.effects import Effects
from settlement.orderinfo import OrderInfo
from tests.corehelpers import SPEC, SYMBOL, cancel, limit, market, stop
from tests.unit.test_settlement_effects import MARKET, decoded, payloads_of

SELL, BUY = Side.SELL, Side.BUY


def sell_oco(qty: int = 3, above: int = 160, below: int = 140) -> PlaceOrderList:
    maker = limit(1, 7, SELL, above, qty, maker_only=True, cid="a")
    loss = stop(2, 7, SELL, OrderType.STOP_LOSS_LIMIT, below, qty, price=below - 1, cid="b")
    return PlaceOrderList(SYMBOL, 7, "L", ContingencyType.OCO, (maker, loss), 9)


def traded_at(price: int) -> MatchingEngine:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(900, 90, SELL, price, 1))
    engine.apply(market(901, 91, BUY, qty=1, reserve=10 * price))
    return engine


def settle(engine: MatchingEngine, known: dict[int, OrderInfo], command: object) -> Effects:
    fx = Effects(MARKET, known)
    for e in engine.apply(command):  # type: ignore[arg-type]
        fx.apply(e)
    return fx


def list_ops(fx: Effects, user: int) -> list[tuple[object, ...]]:
    return [op for op in decoded(fx.users[user].ops) if op[1] == "L"]


def test_a_placed_oco_is_stored_open_with_its_members_and_reported() -> None:
    engine, known = traded_at(150), {}
    fx = settle(engine, known, sell_oco())
    [op] = list_ops(fx, 7)
    record = OrderListRecord.decode(op[3])  # type: ignore[arg-type]
    assert (op[2], op[4], op[5]) == (1, 1, "9:L")
    assert record == OrderListRecord(
        1, SYMBOL, ContingencyType.OCO, ListStatusType.EXEC_STARTED, ListOrderStatus.EXECUTING, "L", 9,
        (ListMember(1, "a"), ListMember(2, "b")),
    )  # fmt: skip
    reports = payloads_of(fx, 7)
    assert [(r["e"], r.get("g")) for r in reports] == [
        ("executionReport", 1), ("executionReport", 1), ("listStatus", 1)
    ]  # fmt: skip
    status = reports[2]
    assert (status["c"], status["l"], status["L"], status["C"], status["s"]) == (
        "OCO", "EXEC_STARTED", "EXECUTING", "L", SYMBOL
    )  # fmt: skip
    assert status["O"] == [{"s": SYMBOL, "i": 1, "c": "a"}, {"s": SYMBOL, "i": 2, "c": "b"}]
    assert OrderInfo.from_state(7, fx.users[7].order_state(1)[1]).order_list_id == 1


def test_a_fill_of_one_member_expires_the_other_and_closes_the_list() -> None:
    engine, known = traded_at(150), {}
    settle(engine, known, sell_oco())
    fx = settle(engine, known, limit(10, 8, BUY, 160, 3, ts=20))  # takes the LIMIT_MAKER whole
    [op] = list_ops(fx, 7)
    record = OrderListRecord.decode(op[3])  # type: ignore[arg-type]
    assert (op[4], record.status_type, record.list_status) == (
        0,
        ListStatusType.ALL_DONE,
        ListOrderStatus.ALL_DONE,
    )
    assert record.orders == (ListMember(1, "a"), ListMember(2, "b"))  # both finished in this batch
    assert record.transaction_time == 9
    reports = [(r["e"], r.get("i"), r.get("x"), r.get("l")) for r in payloads_of(fx, 7)]
    assert reports == [
        ("executionReport", 1, "TRADE", "3"),
        ("executionReport", 2, "EXPIRED", "0"),
        ("listStatus", None, None, "ALL_DONE"),
    ]
    [trade] = [TradeRecord.decode(op[3]) for op in decoded(fx.users[7].ops) if op[1] == "T"]  # type: ignore[arg-type]
    assert (trade.order_id, trade.order_list_id) == (1, 1)
    [taker_raw] = [op[3] for op in decoded(fx.users[8].ops) if op[1] == "T"]
    assert TradeRecord.decode(taker_raw).order_list_id == 0 and '"ol"' not in str(taker_raw)
    # The shared reservation (3 TST) was spent by the fill; the expired member gives nothing back.
    balance_ops = [(op[2], op[3]) for op in decoded(fx.users[7].ops) if op[1] == "B"]
    assert ("TST:locked", -3) in balance_ops and not [b for b in balance_ops if b[0] == "TST:free"]


def test_a_cancelled_member_releases_the_shared_reservation_once() -> None:
    engine, known = traded_at(150), {}
    settle(engine, known, sell_oco())
    fx = settle(engine, known, cancel(7, oid=2))
    released = sum(op[3] for op in decoded(fx.users[7].ops) if op[1] == "B" and op[2] == "TST:free")
    assert released == 3
    assert list_ops(fx, 7)[0][4] == 0


def test_a_rejected_list_gives_its_reservation_back_against_its_first_member() -> None:
    engine, known = traded_at(150), {}
    fx = settle(engine, known, sell_oco(above=130))  # its level under its stop: refused
    assert [op[1:4] for op in decoded(fx.users[7].ops)] == [("R", f"{SYMBOL}:1", 3)]
    assert payloads_of(fx, 7) == [] and fx.confirmed == [f"7:{SYMBOL}:1"]
