"""gateway.results.placed_order: a new order's answer read from the engine's events for it."""

import pytest

from exchange_core.markets import load_markets
from exchange_proto import events_pb2 as epb
from gateway.results import Fill, PreventedMatch, placed_order
from matching.enums import OrderStatus, Side

MARKET = load_markets()["BTCUSDT"]
ORDER = 7


def batch(*events: epb.Event) -> epb.EventBatch:
    out = epb.EventBatch(symbol="BTCUSDT")
    for seq, event in enumerate(events, 1):
        event.seq, event.ts = seq, 1_000 + seq
        out.events.append(event)
    return out


def accepted(order_id: int = ORDER) -> epb.Event:
    return epb.Event(
        order_accepted=epb.OrderAccepted(
            order_id=order_id, client_order_id=f"c{order_id}", side=1, order_type=1, price=30, quantity=5
        )
    )


def trade(trade_id: int, maker: int, filled: int, taker: int = ORDER) -> epb.Event:
    return epb.Event(
        trade=epb.Trade(
            trade_id=trade_id, price=30, quantity=1, taker_side=int(Side.BUY), maker_order_id=maker,
            taker_order_id=taker, taker_fee=2, taker_filled=filled, taker_filled_quote=30 * filled,
        )
    )  # fmt: skip


def test_a_resting_order_is_new_without_fills() -> None:
    placed = placed_order(MARKET, ORDER, "RESULT", batch(accepted(6), accepted()))
    assert placed.order.order_id == ORDER and placed.order.client_order_id == "c7"
    assert placed.order.status == OrderStatus.NEW and placed.order.time == 1_001
    assert placed.fills == () and placed.prevented == ()
    assert (placed.order.executed, placed.order.prevented_match_id, placed.order.prevented_qty) == (0, 0, 0)


def test_fills_the_last_done_and_the_prevented_match_of_the_taker() -> None:
    events = batch(
        accepted(),
        trade(11, maker=3, filled=1),
        trade(12, maker=4, filled=2, taker=99),  # another taker's: not this order's
        trade(13, maker=4, filled=2),
        epb.Event(
            order_expired=epb.OrderExpired(
                order_id=5, remaining=1, prevented_match_id=8, counter_order_id=ORDER, price=31
            )
        ),
        epb.Event(
            order_expired=epb.OrderExpired(
                order_id=ORDER, remaining=3, prevented_match_id=8, counter_order_id=5, price=31
            )
        ),
        epb.Event(order_done=epb.OrderDone(order_id=ORDER, status=6, filled=2, filled_quote=60)),
    )
    placed = placed_order(MARKET, ORDER, "FULL", events)
    assert placed.fills == (Fill(30, 1, 2, "BTC", 11), Fill(30, 1, 2, "BTC", 13))
    assert placed.order.status == OrderStatus.EXPIRED_IN_MATCH
    assert (placed.order.executed, placed.order.executed_quote) == (2, 60)
    assert (placed.order.prevented_match_id, placed.order.prevented_qty) == (8, 3)
    assert placed.prevented == (PreventedMatch(8, 5, 31, 3, 1),)


def test_an_expiry_without_prevented_match_leaves_none() -> None:
    events = batch(
        accepted(),
        trade(11, maker=3, filled=1),
        epb.Event(order_expired=epb.OrderExpired(order_id=ORDER, remaining=4)),
    )
    placed = placed_order(MARKET, ORDER, "FULL", events)
    assert placed.order.status == OrderStatus.PARTIALLY_FILLED and placed.order.executed == 1
    assert placed.prevented == () and placed.order.prevented_qty == 0


def test_events_without_the_acceptance_are_an_error() -> None:
    with pytest.raises(LookupError):
        placed_order(MARKET, ORDER, "ACK", batch(accepted(6)))
