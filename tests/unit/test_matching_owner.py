"""Client order ids of one user's open orders (matching.book.Owner): found by a scan up to
SCAN_CLIENT_IDS open orders, through a dict beyond; the same answers either way, through the
engine's rules (duplicates, cancel and amend by client id) and the Owner itself."""

import pytest

from matching import AmendOrder, AmendRejected, CancelRejected, MatchingEngine, OrderCancelled, Reason, Side
from matching.book import SCAN_CLIENT_IDS, Order, Owner
from matching.engine import IDLE_OWNERS
from tests.corehelpers import SPEC, SYMBOL, cancel, cancel_all, limit

BUY = Side.BUY


def order(oid: int, cid: str) -> Order:
    return Order(oid, 7, cid, 1, 1, 1, 0, 100, 1, 100, 0)


@pytest.mark.parametrize("n", [1, SCAN_CLIENT_IDS, SCAN_CLIENT_IDS + 1, 3 * SCAN_CLIENT_IDS])
def test_an_owner_finds_each_client_id_below_and_beyond_the_scan_limit(n: int) -> None:
    owner = Owner()
    orders = [order(i, f"c{i}" if i % 3 else "") for i in range(1, n + 1)]
    for o in orders:
        owner.add(o)
    assert (owner.by_client_id is not None) == (n > SCAN_CLIENT_IDS)
    for o in orders:
        if o.client_order_id:
            assert owner.find(o.client_order_id) is o
    assert owner.find("missing") is None
    renamed = orders[-1]
    owner.rename(renamed, "new")
    assert owner.find("new") is renamed and owner.find(f"c{renamed.order_id}") is None
    for o in orders[::2] + orders[1::2]:
        owner.remove(o)
        assert owner.find(o.client_order_id or "never") is None
        for rest in orders:
            if rest.owner is owner and rest.next_mine is not None and rest.client_order_id:
                assert owner.find(rest.client_order_id) is rest
    assert owner.count == 0 and owner.first is None and owner.by_client_id is None


@pytest.mark.parametrize("n", [2, SCAN_CLIENT_IDS + 4])
def test_the_engine_applies_client_id_rules_the_same_below_and_beyond_the_scan_limit(n: int) -> None:
    engine = MatchingEngine(SPEC)
    for i in range(1, n + 1):
        assert not isinstance(engine.apply(limit(i, 7, BUY, 100 + i, 1, cid=f"c{i}"))[0], CancelRejected)
    assert engine.client_ids.keys() == {(7, f"c{i}") for i in range(1, n + 1)}
    dup = engine.apply(limit(100, 7, BUY, 50, 1, cid="c2"))
    assert getattr(dup[0], "reason", None) == Reason.DUPLICATE_CLIENT_ORDER_ID
    assert engine.apply(limit(101, 8, BUY, 50, 1, cid="c2"))[0].order_id == 101  # another user's: fine
    # Amend by client id, renaming it; the old id is then free and the new one taken.
    amended = engine.apply(AmendOrder(SYMBOL, 7, 0, "c1", "renamed", 0, 0))
    assert isinstance(amended[0], AmendRejected)  # quantity 0: rejected, nothing renamed
    engine.apply(limit(102, 7, BUY, 90, 2, cid="big"))
    engine.apply(AmendOrder(SYMBOL, 7, 0, "big", "renamed", 1, 0))
    assert (7, "renamed") in engine.client_ids and (7, "big") not in engine.client_ids
    taken = engine.apply(limit(103, 7, BUY, 50, 1, cid="renamed"))
    assert getattr(taken[0], "reason", None) == Reason.DUPLICATE_CLIENT_ORDER_ID
    # Cancel each by client id; the last cancel empties the owner.
    for cid in [f"c{i}" for i in range(1, n + 1)] + ["renamed"]:
        events = engine.apply(cancel(7, cid=cid))
        assert isinstance(events[0], OrderCancelled) and events[0].client_order_id == cid
    assert not engine.open_orders_of(7)
    again = engine.apply(cancel(7, cid="c1"))
    assert isinstance(again[0], CancelRejected) and again[0].reason == Reason.UNKNOWN_ORDER
    assert engine.apply(limit(104, 7, BUY, 50, 1, cid="c1"))[0].order_id == 104  # free again


def test_owners_without_open_orders_stay_until_they_outnumber_the_others_then_are_dropped() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 1, BUY, 100, 1, cid="kept"))  # user 1 keeps an open order throughout
    for user in range(2, IDLE_OWNERS + 3):
        engine.apply(limit(user, user, BUY, 200, 1, cid="c"))
        assert isinstance(engine.apply(cancel(user, cid="c"))[0], OrderCancelled)
        assert not engine.open_orders_of(user)
    # IDLE_OWNERS + 1 users without an open order: all dropped, user 1's Owner kept.
    assert list(engine.owners) == [1] and engine.client_ids.keys() == {(1, "kept")}
    assert isinstance(engine.apply(cancel_all(5))[0], CancelRejected)
    engine.apply(limit(9_000, 5, BUY, 200, 1, cid="c"))  # a dropped user's next order: a new Owner
    assert engine.client_ids.keys() == {(1, "kept"), (5, "c")} and engine.owners[5].count == 1
    for user in range(2, IDLE_OWNERS + 2):  # kept again while fewer than the others
        engine.apply(limit(10_000 + user, user, BUY, 200, 1))
        engine.apply(cancel(user, oid=10_000 + user))
    assert len(engine.owners) == IDLE_OWNERS + 1 and engine.open_orders_of(5)[0].order_id == 9_000
