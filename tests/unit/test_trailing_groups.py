"""The grouping of active trailing stop orders (matching.trailing) through the trigger book:
a price passing many references merges their groups into one, references are written back for
the state, and a rise triggers the smallest deltas first (docs/matching.md, Trailing stop orders)."""

from matching import OrderType, Side, StpMode, TimeInForce
from matching.book import Order
from matching.triggers import TriggerBook


def buy_trailing(order_id: int) -> Order:
    return Order(order_id, 1, "", Side.BUY, OrderType.STOP_LOSS, TimeInForce.GTC, StpMode.NONE, 0, 1, 1, 0)


def test_a_new_low_merges_every_group_above_it_into_one_at_that_price() -> None:
    book = TriggerBook()
    for i in range(1, 101):  # a rising market: each order starts following at a higher price
        book.add(buy_trailing(i), 0, 100 * i, 1_000 + i)  # delta 1% * i
    side = book.trail_buys
    assert len(side.groups) == 100
    assert book.take_triggered([950]) == []  # below every reference: moves them all, triggers none
    assert len(side.groups) == 1 and side.groups[950].reference == 950
    book.settle_references()
    assert {o.reference for o in book.orders.values()} == {950}
    # 950 * 1.03 = 978.5: deltas 1%, 2% and 3% trigger, in ascending order id; 4% (988) does not.
    assert [o.order_id for o in book.take_triggered([979])] == [1, 2, 3]
    assert len(book.orders) == 97 and book.trailing == 97
    # Exactly on the threshold triggers: 950 * (10_000 + 400) == 988 * 10_000.
    assert [o.order_id for o in book.take_triggered([988])] == [4]


def test_cancelling_the_smallest_delta_leaves_the_group_triggering_at_the_next() -> None:
    book = TriggerBook()
    orders = [buy_trailing(i) for i in (1, 2)]
    book.add(orders[0], 0, 100, 1_000)  # triggers at 1,010
    book.add(orders[1], 0, 500, 1_000)  # triggers at 1,050
    book.remove(orders[0])
    assert book.take_triggered([1_010, 1_049]) == []
    assert [o.order_id for o in book.take_triggered([1_050])] == [2]
    assert not book.orders and not book.trail_buys.groups and book.trailing == 0
