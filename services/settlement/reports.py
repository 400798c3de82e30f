"""Binance user-data payloads: executionReport for an order's changes, outboundAccountPosition
for balances. Built by settlement, forwarded as they are by the WebSocket tier."""

from typing import Final

import orjson
from mypy_extensions import mypyc_attr

from exchange_core.listrecords import (
    CONTINGENCY_NAMES,
    LIST_STATUS_NAMES,
    STATUS_TYPE_NAMES,
    OrderListRecord,
)
from exchange_core.markets import Market
from exchange_core.units import from_units
from matching import OrderExpired
from matching.enums import OrderStatus, OrderType, Side, StpMode, TimeInForce
from settlement.jsontext import json_text
from settlement.orderinfo import OrderInfo, ReportFields

_SIDE: Final = {int(v): v.name for v in Side}
_TYPE: Final = {int(v): v.name for v in OrderType}
_TIME_IN_FORCE: Final = {int(v): v.name for v in TimeInForce}
_STATUS: Final = {int(v): v.name for v in OrderStatus}
_STP: Final = {int(v): v.name for v in StpMode}
_WORKING: Final = frozenset({int(OrderStatus.NEW), int(OrderStatus.PARTIALLY_FILLED)})
_MARKET: Final = int(OrderType.MARKET)
_FIRST_STOP: Final = int(OrderType.STOP_LOSS)
_EMPTY: Final = '""'
_TRUE: Final = "true"
_FALSE: Final = "false"
_PARTIAL: Final = ',"X":"PARTIALLY_FILLED",'
_FILLED: Final = ',"X":"FILLED",'
_WORKING_TRUE: Final = ',"w":true,'
_WORKING_FALSE: Final = ',"w":false,'


@mypyc_attr(allow_interpreted_subclasses=True)
class ExecutionReports:
    """executionReports of one market's orders, as JSON text (settlement's hot path: each report
    is one f-string over fragments, not a dict for orjson; an order's fields that no event changes
    are formatted once and kept on its OrderInfo, in `report_fields`). The text is what
    orjson.dumps makes of the Binance payload, byte for byte (tests/property/test_settlement_payloads.py
    holds it to the dict-based encoder, a subclass put in an Effects' place)."""

    __slots__ = (
        "base", "base_decimals", "prices", "quantities", "quote_decimals", "symbol", "zero_base",
        "zero_quote",
    )  # fmt: skip

    def __init__(self, market: Market) -> None:
        self.symbol = json_text(market.symbol)
        self.base = market.base.name
        self.quote_decimals = market.quote.decimals
        self.base_decimals = market.base.decimals
        self.zero_base = from_units(0, self.base_decimals)
        self.zero_quote = from_units(0, self.quote_decimals)
        # amounts -> their decimal strings (a batch's prices and quantities repeat)
        self.prices: dict[int, str] = {}
        self.quantities: dict[int, str] = {}

    def price(self, units: int) -> str:
        """A price (or any amount of the quote asset) as a decimal string."""
        text = self.prices.get(units)
        if text is None:
            text = self.prices[units] = from_units(units, self.quote_decimals)
        return text

    def quantity(self, units: int) -> str:
        """An amount of the base asset as a decimal string."""
        text = self.quantities.get(units)
        if text is None:
            text = self.quantities[units] = from_units(units, self.base_decimals)
        return text

    def _fields(self, info: OrderInfo) -> ReportFields:
        """`info`'s fixed fragments (see ReportFields)."""
        zero_b, zero_q = self.zero_base, self.zero_quote
        qty = self.quantity(info.quantity) if info.quantity else zero_b
        stop = self.price(info.stop_price) if info.stop_price else zero_q
        iceberg = self.quantity(info.iceberg_qty) if info.iceberg_qty else zero_b
        head = (
            f',"s":{self.symbol},"c":{json_text(info.client_order_id)},"S":"{_SIDE[info.side]}",'
            f'"o":"{_TYPE[info.order_type]}","f":"{_TIME_IN_FORCE[info.time_in_force]}","q":"{qty}",'
            f'"p":"{self.price(info.price)}","P":"{stop}","F":"{iceberg}","g":{info.order_list_id or -1}'
        )
        quote_qty = self.price(info.quote_quantity) if info.quote_quantity else zero_q
        tail = f',"V":"{_STP[info.stp_mode]}"'
        if info.trailing_delta:
            tail += f',"d":{info.trailing_delta}'
        is_stop = info.order_type >= _FIRST_STOP
        fields = (
            head,
            f'","r":"NONE","i":{info.order_id},"l":"',
            f',"M":false,"O":{info.time},"Z":"',
            f'","Q":"{quote_qty}","W":' if is_stop else f'","Q":"{quote_qty}","W":{info.time}{tail}',
            tail if is_stop else "",
            is_stop,
            info.order_type != _MARKET,
        )
        info.report_fields = fields
        return fields

    def report(
        self,
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
    ) -> str:
        """An executionReport for order `info` (whose `report_fields` is None after its quantity
        or client id changed); `orig_client_order_id` is the client id it had before (C: a
        REPLACED report of an amendment); `prevented`, the OrderExpired of a self-trade prevention
        expiry: its prevented match id (v), the prevented quantity (A, B), the trade group (u, -1:
        none here), the other order (U, Cs) and the quantity, price and quote that did not trade
        (pl, pL, pY)."""
        zero_b, zero_q = self.zero_base, self.zero_quote
        fields = info.report_fields
        if fields is None:
            fields = self._fields(info)
        head, ident, opened, closing, stop_tail, is_stop, limit = fields
        triggered = info.triggered
        if fee_asset is None:
            fee_text, asset = (self.price(fee) if fee else zero_q), "null"
        elif fee_asset == self.base:
            fee_text, asset = (self.quantity(fee) if fee else zero_b), json_text(fee_asset)
        else:
            fee_text, asset = (self.price(fee) if fee else zero_q), json_text(fee_asset)
        working = status in _WORKING and limit and (not is_stop or triggered != 0)
        time = str(ts)
        text = (
            f'{{"e":"executionReport","E":{time}{head},'
            f'"C":{json_text(orig_client_order_id) if orig_client_order_id else _EMPTY},'
            f'"x":"{execution}","X":"{_STATUS[status]}{ident}'
            f'{self.quantity(last_qty) if last_qty else zero_b}",'
            f'"z":"{self.quantity(executed) if executed else zero_b}",'
            f'"L":"{self.price(last_price) if last_price else zero_q}","n":"{fee_text}","N":{asset},'
            f'"T":{time},"t":{trade_id},"I":0,"w":{_TRUE if working else _FALSE},'
            f'"m":{_TRUE if is_maker else _FALSE}{opened}'
            f'{self.price(executed_quote) if executed_quote else zero_q}",'
            f'"Y":"{self.price(last_quote) if last_quote else zero_q}{closing}'
        )
        if is_stop:
            text = f"{text}{triggered or -1}{stop_tail}"
        if prevented is not None:
            return f"{text}{self._prevented(prevented)}}}"
        return f"{text}}}"

    def _prevented(self, e: OrderExpired) -> str:
        """The fields of a TRADE_PREVENTION report (see `report`), from a comma on."""
        qty = from_units(e.remaining, self.base_decimals)
        quote = from_units(e.remaining * e.price // 10**self.base_decimals, self.quote_decimals)
        return (
            f',"v":{e.prevented_match_id},"A":"{qty}","B":"{qty}","u":-1,"U":{e.counter_order_id},'
            f'"Cs":{self.symbol},"pl":"{qty}","pL":"{self.price(e.price)}","pY":"{quote}"'
        )


def as_filled(report: str) -> str:
    """A TRADE report of a PARTIALLY_FILLED order made FILLED (X) and not working (w), as Binance's
    last report of a completed order says. (A string value in the JSON text holds no unescaped
    quote, so the two keys' patterns can only be the keys themselves.)"""
    return report.replace(_PARTIAL, _FILLED, 1).replace(_WORKING_TRUE, _WORKING_FALSE, 1)


def list_status_report(record: OrderListRecord, ts: int) -> str:
    """A listStatus user event for order list `record` at event time `ts`, as JSON text."""
    payload = {
        "e": "listStatus",
        "E": ts,
        "s": record.symbol,
        "g": record.order_list_id,
        "c": CONTINGENCY_NAMES[record.contingency],
        "l": STATUS_TYPE_NAMES[record.status_type],
        "L": LIST_STATUS_NAMES[record.list_status],
        "r": "NONE",
        "C": record.list_client_order_id,
        "T": ts,
        "O": [{"s": record.symbol, "i": m.order_id, "c": m.client_order_id} for m in record.orders],
    }
    return orjson.dumps(payload).decode()


def account_position(balances: dict[str, tuple[int, int]], decimals: dict[str, int], ts: int) -> str:
    """An outboundAccountPosition with the given assets' (free, locked), as JSON text (what
    orjson.dumps makes of the payload)."""
    assets = ",".join(
        f'{{"a":{json_text(asset)},"f":"{from_units(free, decimals.get(asset, 8))}",'
        f'"l":"{from_units(locked, decimals.get(asset, 8))}"}}'
        for asset, (free, locked) in sorted(balances.items())
    )
    return f'{{"e":"outboundAccountPosition","E":{ts},"u":{ts},"B":[{assets}]}}'
