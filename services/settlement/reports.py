"""Binance user-data payloads: executionReport for an order's changes, outboundAccountPosition
for balances. Built by settlement, forwarded as they are by the WebSocket tier."""

from typing import Any

from exchange_core.listrecords import (
    CONTINGENCY_NAMES,
    LIST_STATUS_NAMES,
    STATUS_TYPE_NAMES,
    OrderListRecord,
)
from exchange_core.markets import Market
from exchange_core.units import from_units
from matching.enums import OrderStatus, OrderType, Side, StpMode, TimeInForce

_SIDE = {int(v): v.name for v in Side}
_TYPE = {int(v): v.name for v in OrderType}
_TIME_IN_FORCE = {int(v): v.name for v in TimeInForce}
_STATUS = {int(v): v.name for v in OrderStatus}
_STP = {int(v): v.name for v in StpMode}
_WORKING = frozenset({int(OrderStatus.NEW), int(OrderStatus.PARTIALLY_FILLED)})
_MARKET = int(OrderType.MARKET)
_FIRST_STOP = int(OrderType.STOP_LOSS)


class ExecutionReports:
    """executionReports of one market's orders (settlement's hot path: an order's fields that
    no event changes are formatted once and kept on its OrderInfo, in `report_fields`)."""

    __slots__ = ("base", "base_decimals", "prices", "quote_decimals", "symbol", "zero_base", "zero_quote")

    def __init__(self, market: Market) -> None:
        self.symbol = market.symbol
        self.base = market.base.name
        self.quote_decimals = market.quote.decimals
        self.base_decimals = market.base.decimals
        self.zero_base = from_units(0, self.base_decimals)
        self.zero_quote = from_units(0, self.quote_decimals)
        self.prices: dict[int, str] = {}  # price -> its decimal string (a batch's prices repeat)

    def price(self, units: int) -> str:
        """A price (or any amount of the quote asset) as a decimal string."""
        text = self.prices.get(units)
        if text is None:
            text = self.prices[units] = from_units(units, self.quote_decimals)
        return text

    def _fields(self, info: Any) -> tuple[Any, ...]:
        """(c, S, o, f, q, p, P, F, O, Q, V, d, is a stop order, is not a market order) of `info`."""
        b, zero_b, zero_q = self.base_decimals, self.zero_base, self.zero_quote
        fields = (
            info.client_order_id, _SIDE[info.side], _TYPE[info.order_type],
            _TIME_IN_FORCE[info.time_in_force], from_units(info.quantity, b) if info.quantity else zero_b,
            self.price(info.price), self.price(info.stop_price) if info.stop_price else zero_q,
            from_units(info.iceberg_qty, b) if info.iceberg_qty else zero_b, info.time,
            self.price(info.quote_quantity) if info.quote_quantity else zero_q,
            _STP[info.stp_mode], info.trailing_delta,
            info.order_type >= _FIRST_STOP, info.order_type != _MARKET,
        )  # fmt: skip
        info.report_fields = fields
        return fields

    def report(
        self,
        info: Any,
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
        prevented: Any = None,
    ) -> dict[str, Any]:
        """An executionReport for order `info` (a settlement.effects.OrderInfo, whose
        `report_fields` is None after its quantity or client id changed); `orig_client_order_id`
        is the client id it had before (C: a REPLACED report of an amendment);
        `prevented`, the matching.OrderExpired of a self-trade prevention expiry: its prevented
        match id (v), the prevented quantity (A, B), the other order (U, Cs), the trade group (u,
        -1: none here) and the price and quantity that did not trade (pL, pl, pY)."""
        q, b = self.quote_decimals, self.base_decimals
        zero_b, zero_q = self.zero_base, self.zero_quote
        c, side, kind, tif, qty, price, stop, iceberg, created, quote_qty, stp, trailing, is_stop, limit = (
            info.report_fields or self._fields(info)
        )
        triggered = info.triggered
        fee_decimals = b if fee_asset == self.base else q
        report = {
            "e": "executionReport",
            "E": ts,
            "s": self.symbol,
            "c": c,
            "S": side,
            "o": kind,
            "f": tif,
            "q": qty,
            "p": price,
            "P": stop,
            "F": iceberg,
            "g": info.order_list_id or -1,
            "C": orig_client_order_id,
            "x": execution,
            "X": _STATUS[status],
            "r": "NONE",
            "i": info.order_id,
            "l": from_units(last_qty, b) if last_qty else zero_b,
            "z": from_units(executed, b) if executed else zero_b,
            "L": self.price(last_price) if last_price else zero_q,
            "n": from_units(fee, fee_decimals) if fee else (zero_b if fee_decimals == b else zero_q),
            "N": fee_asset,
            "T": ts,
            "t": trade_id,
            "I": 0,
            "w": status in _WORKING and limit and (not is_stop or bool(triggered)),
            "m": is_maker,
            "M": False,
            "O": created,
            "Z": from_units(executed_quote, q) if executed_quote else zero_q,
            "Y": from_units(last_quote, q) if last_quote else zero_q,
            "Q": quote_qty,
            "W": (triggered or -1) if is_stop else created,
            "V": stp,
        }
        if trailing:
            report["d"] = trailing
        if prevented is not None:
            prevented_qty = from_units(prevented.remaining, b)
            report["v"] = prevented.prevented_match_id
            report["A"] = prevented_qty
            report["B"] = prevented_qty
            report["u"] = -1
            report["U"] = prevented.counter_order_id
            report["Cs"] = self.symbol
            report["pl"] = prevented_qty
            report["pL"] = self.price(prevented.price)
            report["pY"] = from_units(prevented.remaining * prevented.price // 10**b, q)
        return report


def list_status_report(record: OrderListRecord, ts: int) -> dict[str, Any]:
    """A listStatus user event for order list `record` at event time `ts`."""
    return {
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


def account_position(
    balances: dict[str, tuple[int, int]], decimals: dict[str, int], ts: int
) -> dict[str, Any]:
    """An outboundAccountPosition with the given assets' (free, locked)."""
    return {
        "e": "outboundAccountPosition",
        "E": ts,
        "u": ts,
        "B": [
            {
                "a": asset,
                "f": from_units(free, decimals.get(asset, 8)),
                "l": from_units(locked, decimals.get(asset, 8)),
            }
            for asset, (free, locked) in sorted(balances.items())
        ],
    }
