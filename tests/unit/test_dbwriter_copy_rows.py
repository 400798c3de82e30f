"""The DB writer's binary COPY rows hold each trade, and each order in the state its last event
leaves it, as a model built from the official parser's objects says."""

import struct
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.db_bench import event_entries
from dbwriter.copyformat import decode_rows
from dbwriter.rows import FILLED, NEW, ORDER_COLUMNS, PARTIALLY_FILLED, TRADE_COLUMNS, HistoryRows
from exchange_proto import events_pb2 as epb

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Orders = dict[tuple[str, int], dict[str, Any]]


def model(entries: list[bytes]) -> tuple[list[dict[str, Any]], Orders]:
    """The trade rows and the order rows (by symbol and id) of `entries`, column by column."""
    trades: list[dict[str, Any]] = []
    orders: Orders = {}

    def row(symbol: str, order_id: int, user_id: int) -> dict[str, Any]:
        key = (symbol, order_id)
        if key not in orders:
            orders[key] = dict.fromkeys(ORDER_COLUMNS) | {"symbol": symbol, "order_id": order_id}
            orders[key]["user_id"] = user_id
        return orders[key]

    for data in entries:
        batch = epb.EventBatch.FromString(data)
        symbol = batch.symbol
        for event in batch.events:
            ts, kind = EPOCH + timedelta(milliseconds=event.ts), event.WhichOneof("kind")
            if kind == "order_accepted":
                a = event.order_accepted
                orders[(symbol, a.order_id)] = {
                    "symbol": symbol, "order_id": a.order_id, "user_id": a.user_id,
                    "client_order_id": a.client_order_id, "side": a.side, "type": a.order_type,
                    "time_in_force": a.time_in_force, "price": a.price, "qty": a.quantity,
                    "quote_qty": a.quote_quantity, "created_at": ts, "status": NEW, "executed_qty": 0,
                    "cumulative_quote_qty": 0, "updated_at": ts, "seq": event.seq, "stop_price": a.stop_price,
                    "trailing_delta": a.trailing_delta, "iceberg_qty": a.iceberg_qty,
                }  # fmt: skip
            elif kind == "order_done":
                d = event.order_done
                row(symbol, d.order_id, d.user_id).update(
                    client_order_id=d.client_order_id, status=d.status, executed_qty=d.filled,
                    cumulative_quote_qty=d.filled_quote, updated_at=ts, seq=event.seq,
                )  # fmt: skip
            elif kind == "order_amended":
                m = event.order_amended
                row(symbol, m.order_id, m.user_id).update(
                    client_order_id=m.client_order_id, qty=m.quantity,
                    status=PARTIALLY_FILLED if m.filled else NEW, executed_qty=m.filled,
                    cumulative_quote_qty=m.filled_quote, updated_at=ts, seq=event.seq,
                )  # fmt: skip
            elif kind == "trade":
                t = event.trade
                trades.append(
                    {"symbol": symbol, "id": t.trade_id, "time": ts, "price": t.price, "qty": t.quantity,
                     "quote_qty": t.quote_quantity, "taker_side": t.taker_side,
                     "maker_order_id": t.maker_order_id, "taker_order_id": t.taker_order_id,
                     "maker_user_id": t.maker_user_id, "taker_user_id": t.taker_user_id,
                     "maker_fee": t.maker_fee, "taker_fee": t.taker_fee, "seq": event.seq}
                )  # fmt: skip
                for order_id, user_id, filled, quote in (
                    (t.maker_order_id, t.maker_user_id, t.maker_filled, t.maker_filled_quote),
                    (t.taker_order_id, t.taker_user_id, t.taker_filled, t.taker_filled_quote),
                ):
                    r = row(symbol, order_id, user_id)
                    if r["qty"] is not None:
                        r["status"] = FILLED if r["qty"] and filled >= r["qty"] else PARTIALLY_FILLED
                    r.update(executed_qty=filled, cumulative_quote_qty=quote, updated_at=ts, seq=event.seq)
    return trades, orders


def assert_rows_follow_the_model(entries: list[bytes]) -> None:
    rows = HistoryRows()
    for data in entries:
        rows.add_entry(data)
    trades, orders = model(entries)
    new, new_count, known, known_count = rows.orders_payloads()
    stored_trades = [
        dict(zip(TRADE_COLUMNS, r, strict=True)) for r in decode_rows(rows.trades_payload(), TRADE_COLUMNS)
    ]
    assert stored_trades == trades and rows.trade_count == len(trades)
    stored_new = [dict(zip(ORDER_COLUMNS, r, strict=True)) for r in decode_rows(new, ORDER_COLUMNS)]
    stored_known = [dict(zip(ORDER_COLUMNS, r, strict=True)) for r in decode_rows(known, ORDER_COLUMNS)]
    markets = list(dict.fromkeys(epb.EventBatch.FromString(data).symbol for data in entries))
    by_symbol = sorted(orders.values(), key=lambda o: markets.index(o["symbol"]))  # market by market
    assert stored_new == [o for o in by_symbol if o["created_at"] is not None]
    assert stored_known == [o for o in by_symbol if o["created_at"] is None]
    assert (new_count, known_count) == (len(stored_new), len(stored_known))
    assert bool(rows) == bool(trades or orders)


def test_an_engine_workloads_rows_follow_the_model() -> None:
    entries = event_entries(20_000)[0]
    half = len(entries) // 2
    assert_rows_follow_the_model(entries)
    assert_rows_follow_the_model(entries[half:])  # orders accepted earlier: rows with NULLs


# Values in their columns' ranges (bigint, smallint, integer).
ids = st.integers(min_value=0, max_value=4)
int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)
smallints = st.integers(min_value=-(2**15), max_value=2**15 - 1)
events = st.one_of(
    st.builds(epb.OrderAccepted, order_id=ids, user_id=ids, client_order_id=st.text(max_size=5),
              side=smallints, order_type=smallints, time_in_force=smallints, price=int64s,
              quantity=int64s, quote_quantity=int64s, stop_price=int64s,
              trailing_delta=st.integers(-(2**31), 2**31 - 1),
              iceberg_qty=int64s).map(lambda m: epb.Event(order_accepted=m)),
    st.builds(epb.Trade, trade_id=ids, price=int64s, quantity=int64s, quote_quantity=int64s,
              taker_side=smallints, maker_order_id=ids, maker_user_id=ids, taker_order_id=ids,
              taker_user_id=ids, maker_fee=int64s,
              taker_fee=int64s, maker_filled=st.integers(0, 9), maker_filled_quote=int64s,
              taker_filled=st.integers(0, 9), taker_filled_quote=int64s).map(lambda m: epb.Event(trade=m)),
    st.builds(epb.OrderDone, order_id=ids, user_id=ids, client_order_id=st.text(max_size=5), status=smallints,
              filled=int64s, filled_quote=int64s).map(lambda m: epb.Event(order_done=m)),
    st.builds(epb.OrderAmended, order_id=ids, user_id=ids, client_order_id=st.text(max_size=5),
              quantity=st.integers(0, 9), filled=st.integers(0, 9),
              filled_quote=int64s).map(lambda m: epb.Event(order_amended=m)),
)  # fmt: skip


@st.composite
def entry(draw: st.DrawFn) -> bytes:
    batch = epb.EventBatch(symbol=draw(st.sampled_from(["BTCUSDT", "ETHBTC"])))
    for event in draw(st.lists(events, max_size=6)):
        event.seq = draw(st.integers(0, 2**63 - 1))
        event.ts = draw(st.integers(0, 4_102_444_800_000))  # ms since the epoch, up to 2100
        batch.events.append(event)
    return batch.SerializeToString()


@settings(max_examples=200, deadline=None)
@given(st.lists(entry(), min_size=1, max_size=3))
def test_any_entries_rows_follow_the_model(entries: list[bytes]) -> None:
    assert_rows_follow_the_model(entries)


def test_a_value_out_of_its_columns_range_is_refused() -> None:
    too_big = epb.EventBatch(symbol="BTCUSDT", events=[epb.Event(trade=epb.Trade(taker_side=40_000))])
    with pytest.raises(struct.error, match="format requires"):
        HistoryRows().add_entry(too_big.SerializeToString())


def test_payloads_sealed_before_more_entries_are_made_again() -> None:
    entries = event_entries(3_000)[0][:4]
    rows, whole = HistoryRows(), HistoryRows()
    for data in entries[:2]:
        rows.add_entry(data)
    rows.seal()
    sealed = rows.trades_payload(), rows.orders_payloads()
    for data in entries[2:]:
        rows.add_entry(data)
    for data in entries:
        whole.add_entry(data)
    expected = whole.trades_payload(), whole.orders_payloads()
    assert (rows.trades_payload(), rows.orders_payloads()) == expected != sealed


def test_payloads_sealed_part_by_part_equal_those_sealed_at_once() -> None:
    entries = event_entries(3_000)[0]
    at_once, in_parts = HistoryRows(), HistoryRows()
    for data in entries:
        at_once.add_entry(data)
        in_parts.add_entry(data)
    calls = 1
    while not in_parts.seal(100):
        calls += 1
    assert calls > 2
    assert (in_parts.trades_payload(), in_parts.orders_payloads()) == (
        at_once.trades_payload(),
        at_once.orders_payloads(),
    )
