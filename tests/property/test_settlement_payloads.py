"""Settlement's user-data payloads, written as JSON text from templates (settlement.reports), are
byte for byte what orjson makes of the dict-based payloads they replaced (`DictReports` below, the
former encoder kept as the reference), over random command sequences and random orders; likewise
the stored order states and trades (exchange_core.records' encode)."""

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange_core.markets import Asset, Market
from exchange_core.records import OrderRecord, TradeRecord
from matching import (
    Command,
    MatchingEngine,
    OrderExpired,
    OrderStatus,
    OrderType,
    Reason,
    Side,
    StpMode,
    TimeInForce,
    Trade,
)
from settlement.effects import Effects, trade_record
from settlement.jsontext import json_text
from settlement.orderinfo import OrderInfo
from settlement.reports import ExecutionReports, account_position, as_filled
from tests.corehelpers import SPEC, limit
from tests.property.strategies import commands

MARKETS = [
    Market(SPEC, Asset("TST", 0), Asset("USD", 2), "0.01", "1", "1", "1000000", "1.00", "0.001", "0.002"),
    Market(SPEC, Asset("TST", 8), Asset("USD", 8), "0.01", "1", "1", "1000000", "1.00", "0.001", "0.002"),
    Market(SPEC, Asset("TST", 3), Asset("USD", 6), "0.01", "1", "1", "1000000", "1.00", "0.001", "0.002"),
]
_SIDE = {int(v): v.name for v in Side}
_TYPE = {int(v): v.name for v in OrderType}
_TIME_IN_FORCE = {int(v): v.name for v in TimeInForce}
_STATUS = {int(v): v.name for v in OrderStatus}
_STP = {int(v): v.name for v in StpMode}
_WORKING = frozenset({int(OrderStatus.NEW), int(OrderStatus.PARTIALLY_FILLED)})
# Client order ids as the engine may carry them: the gateway's alphabet, and anything JSON escapes.
CIDS = st.one_of(st.sampled_from(["", "a", "web_1-x.y", "Z" * 36]), st.text(max_size=12))


def from_units(units: int, decimals: int) -> str:
    """The reference's decimal strings (exchange_core.units' contract, written plainly)."""
    sign, units = ("-", -units) if units < 0 else ("", units)
    whole, frac = divmod(units, 10**decimals)
    return f"{sign}{whole}.{frac:0{decimals}d}" if decimals else f"{sign}{whole}"


class DictReports(ExecutionReports):
    """The former encoder: each executionReport a dict, serialized by orjson (in place of an
    Effects' ExecutionReports)."""

    def __init__(self, market: Market) -> None:
        super().__init__(market)
        self.symbol = orjson.dumps(market.symbol).decode()

    def report(self, *args: Any, **kwargs: Any) -> str:
        return orjson.dumps(dict_report(self, *args, **kwargs)).decode()


def dict_report(
    r: ExecutionReports | DictReports,
    info: OrderInfo,
    execution: str,
    status: int,
    executed: int,
    executed_quote: int,
    ts: int,
    last_qty: int = 0,
    last_price: int = 0,
    last_quote: int = 0,
    fee: int = 0,
    fee_asset: str | None = None,
    trade_id: int = -1,
    is_maker: bool = False,
    orig_client_order_id: str = "",
    prevented: OrderExpired | None = None,
) -> dict[str, Any]:
    q, b = r.quote_decimals, r.base_decimals
    is_stop, limit = info.order_type >= OrderType.STOP_LOSS, info.order_type != OrderType.MARKET
    fee_decimals = b if fee_asset == r.base else q
    report: dict[str, Any] = {
        "e": "executionReport",
        "E": ts,
        "s": orjson.loads(r.symbol),
        "c": info.client_order_id,
        "S": _SIDE[info.side],
        "o": _TYPE[info.order_type],
        "f": _TIME_IN_FORCE[info.time_in_force],
        "q": from_units(info.quantity, b),
        "p": from_units(info.price, q),
        "P": from_units(info.stop_price, q),
        "F": from_units(info.iceberg_qty, b),
        "g": info.order_list_id or -1,
        "C": orig_client_order_id,
        "x": execution,
        "X": _STATUS[status],
        "r": "NONE",
        "i": info.order_id,
        "l": from_units(last_qty, b),
        "z": from_units(executed, b),
        "L": from_units(last_price, q),
        "n": from_units(fee, fee_decimals),
        "N": fee_asset,
        "T": ts,
        "t": trade_id,
        "I": 0,
        "w": status in _WORKING and limit and (not is_stop or bool(info.triggered)),
        "m": is_maker,
        "M": False,
        "O": info.time,
        "Z": from_units(executed_quote, q),
        "Y": from_units(last_quote, q),
        "Q": from_units(info.quote_quantity, q),
        "W": (info.triggered or -1) if is_stop else info.time,
        "V": _STP[info.stp_mode],
    }
    if info.trailing_delta:
        report["d"] = info.trailing_delta
    if prevented is not None:
        prevented_qty = from_units(prevented.remaining, b)
        report["v"] = prevented.prevented_match_id
        report["A"] = prevented_qty
        report["B"] = prevented_qty
        report["u"] = -1
        report["U"] = prevented.counter_order_id
        report["Cs"] = orjson.loads(r.symbol)
        report["pl"] = prevented_qty
        report["pL"] = from_units(prevented.price, q)
        report["pY"] = from_units(prevented.remaining * prevented.price // 10**b, q)
    return report


def settle(
    market: Market, cmds: list[Command], cuts: list[int], dict_based: bool
) -> list[dict[int, list[str]]]:
    """Each batch's payloads per user, the commands' events cut into batches at `cuts`."""
    engine = MatchingEngine(SPEC)
    events = [e for c in cmds for e in engine.apply(c)]
    known: dict[int, OrderInfo] = {}
    out = []
    for start, end in zip([0, *cuts], [*cuts, len(events)], strict=True):
        fx = Effects(market, known)
        if dict_based:
            fx.execution = DictReports(market)
        for e in events[start:end]:
            fx.apply(e)
        out.append({user: effects.reports for user, effects in fx.users.items()})
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands(), st.lists(st.integers(0, 400), max_size=4), st.sampled_from(MARKETS))
def test_the_payloads_of_random_events_are_the_dict_encoders(
    cmds: list[Command], cuts: list[int], market: Market
) -> None:
    engine = MatchingEngine(SPEC)
    count = sum(len(engine.apply(c)) for c in cmds)
    cuts = sorted({min(c, count) for c in cuts})
    ours = settle(market, cmds, cuts, dict_based=False)
    assert ours == settle(market, cmds, cuts, dict_based=True)
    for batch in ours:
        for payloads in batch.values():
            for text in payloads:
                assert orjson.loads(text)["e"] in ("executionReport", "listStatus")


@pytest.mark.parametrize("mode", [StpMode.EXPIRE_TAKER, StpMode.EXPIRE_MAKER, StpMode.EXPIRE_BOTH])
@pytest.mark.parametrize("market", MARKETS)
def test_self_trade_prevention_reports_of_every_mode_are_the_dict_encoders(
    mode: StpMode, market: Market
) -> None:
    """Random sequences may draw few prevented matches: each mode's, after a partial fill by
    another user, in one batch and cut between the expiries."""
    cmds: list[Command] = [
        limit(1, 8, Side.SELL, 150, 1, stp=mode),
        limit(2, 7, Side.SELL, 150, 2, stp=mode),
        limit(3, 7, Side.SELL, 151, 3, stp=mode),
        limit(4, 7, Side.BUY, 151, 6, stp=mode),
    ]
    engine = MatchingEngine(SPEC)
    count = sum(len(engine.apply(c)) for c in cmds)
    for cuts in ([], [count - 1], [count - 2]):
        ours = settle(market, cmds, cuts, dict_based=False)
        assert ours == settle(market, cmds, cuts, dict_based=True)
        reports = [orjson.loads(t) for batch in ours for texts in batch.values() for t in texts]
        prevented = [r for r in reports if r["x"] == "TRADE_PREVENTION"]
        assert {r["V"] for r in prevented} == {mode.name}
        assert sorted(r["v"] for r in prevented) == {
            StpMode.EXPIRE_TAKER: [1], StpMode.EXPIRE_MAKER: [1, 2], StpMode.EXPIRE_BOTH: [1, 1]
        }[mode]  # fmt: skip


ORDERS = st.builds(
    OrderInfo,
    order_id=st.integers(1, 2**62),
    user_id=st.integers(0, 2**40),
    client_order_id=CIDS,
    side=st.sampled_from(list(Side)),
    order_type=st.sampled_from(list(OrderType)),
    time_in_force=st.sampled_from(list(TimeInForce)),
    price=st.integers(0, 10**15),
    quantity=st.integers(0, 10**15),
    quote_quantity=st.integers(0, 10**15),
    stp_mode=st.sampled_from(list(StpMode)),
    time=st.integers(0, 2**45),
    stop_price=st.integers(0, 10**15),
    triggered=st.integers(0, 2**45),
    trailing_delta=st.integers(0, 2000),
    iceberg_qty=st.integers(0, 10**9),
    order_list_id=st.integers(0, 2**40),
    prevented_match_id=st.one_of(st.just(0), st.integers(1, 2**40)),
    prevented_qty=st.one_of(st.just(0), st.integers(1, 10**15)),
)
AMOUNTS = st.one_of(st.just(0), st.integers(1, 10**18))
# The OrderExpired of a self-trade prevention expiry (settlement.reports reads its last 5 fields).
PREVENTED = st.builds(
    OrderExpired,
    seq=st.integers(1, 2**40),
    ts=st.integers(0, 2**45),
    order_id=st.integers(1, 2**62),
    user_id=st.integers(1, 2**40),
    client_order_id=CIDS,
    reason=st.sampled_from([Reason.SELF_TRADE_TAKER, Reason.SELF_TRADE_MAKER]),
    remaining=st.integers(1, 10**15),
    prevented_match_id=st.integers(1, 2**40),
    counter_order_id=st.integers(1, 2**62),
    price=st.integers(0, 10**15),
    stp_mode=st.sampled_from([StpMode.EXPIRE_TAKER, StpMode.EXPIRE_MAKER, StpMode.EXPIRE_BOTH]),
)


@settings(max_examples=800, deadline=None)
@given(
    st.sampled_from(MARKETS),
    ORDERS,
    st.sampled_from(["NEW", "TRADE", "CANCELED", "EXPIRED", "REPLACED", "TRADE_PREVENTION"]),
    st.sampled_from(list(OrderStatus)),
    st.tuples(AMOUNTS, AMOUNTS, st.integers(0, 2**45), AMOUNTS, AMOUNTS, AMOUNTS, AMOUNTS),
    st.sampled_from([None, "TST", "USD"]),
    st.integers(-1, 2**40),
    st.booleans(),
    CIDS,
    st.one_of(st.none(), PREVENTED),
)
def test_an_execution_report_is_the_dict_encoders(
    market: Market,
    info: OrderInfo,
    execution: str,
    status: OrderStatus,
    amounts: tuple[int, int, int, int, int, int, int],
    fee_asset: str | None,
    trade_id: int,
    is_maker: bool,
    orig: str,
    prevented: OrderExpired | None,
) -> None:
    executed, executed_quote, ts, last_qty, last_price, last_quote, fee = amounts
    ours = ExecutionReports(market)
    args = (info, execution, int(status), executed, executed_quote, ts, last_qty, last_price, last_quote,
            fee, fee_asset, trade_id, is_maker, orig, prevented)  # fmt: skip
    expected = dict_report(ours, *args)
    text = ours.report(*args)
    assert text == orjson.dumps(expected).decode()
    assert ours.report(*args) == text  # again, from the fragments it kept on the order
    if status == OrderStatus.PARTIALLY_FILLED or status == OrderStatus.FILLED:
        assert as_filled(text) == orjson.dumps(expected | {"X": "FILLED", "w": False}).decode()


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.one_of(st.sampled_from(["BTC", "USDT", "ETH"]), st.text(max_size=6)),
        st.tuples(st.integers(-(10**18), 10**18), st.integers(0, 10**18)),
        max_size=5,
    ),
    st.dictionaries(st.sampled_from(["BTC", "USDT"]), st.integers(0, 18)),
    st.integers(0, 2**45),
)
def test_an_account_position_is_the_dict_encoders(
    balances: dict[str, tuple[int, int]], decimals: dict[str, int], ts: int
) -> None:
    expected = {
        "e": "outboundAccountPosition",
        "E": ts,
        "u": ts,
        "B": [
            {"a": a, "f": from_units(f, decimals.get(a, 8)), "l": from_units(lk, decimals.get(a, 8))}
            for a, (f, lk) in sorted(balances.items())
        ],
    }
    assert account_position(balances, decimals, ts) == orjson.dumps(expected).decode()


@settings(max_examples=800, deadline=None)
@given(ORDERS, st.sampled_from(list(OrderStatus)), AMOUNTS, AMOUNTS, st.integers(0, 2**45))
def test_an_order_state_is_the_records_encoding(
    info: OrderInfo, status: OrderStatus, executed: int, executed_quote: int, update_time: int
) -> None:
    record = OrderRecord(
        info.order_id, info.client_order_id, info.side, info.order_type, info.time_in_force, info.price,
        info.quantity, info.quote_quantity, info.stp_mode, info.time, status, executed, executed_quote,
        update_time, info.stop_price, info.triggered, info.trailing_delta, info.iceberg_qty,
        info.order_list_id, info.prevented_match_id, info.prevented_qty,
    )  # fmt: skip
    assert info.state(status, executed, executed_quote, update_time) == record.encode()


@settings(max_examples=800, deadline=None)
@given(
    st.tuples(*[st.integers(0, 2**62)] * 5),
    AMOUNTS,
    st.sampled_from(["TST", "USD"]) | st.text(max_size=5),
    st.integers(0, 2**45),
    st.booleans(),
    st.booleans(),
    st.one_of(st.just(0), st.integers(1, 2**40)),
)
def test_a_trade_record_is_the_records_encoding(
    ids: tuple[int, int, int, int, int],
    fee: int,
    fee_asset: str,
    ts: int,
    is_buyer: bool,
    is_maker: bool,
    order_list_id: int,
) -> None:
    trade_id, order_id, price, quantity, quote_quantity = ids
    t = Trade(1, ts, trade_id, price, quantity, quote_quantity, Side.BUY, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0)
    ours = trade_record(t, order_id, fee, json_text(fee_asset), is_buyer, is_maker, order_list_id)
    record = TradeRecord(trade_id, order_id, price, quantity, quote_quantity, fee, fee_asset, ts, is_buyer,
                         is_maker, order_list_id)  # fmt: skip
    assert ours == record.encode()
