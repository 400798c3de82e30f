"""Between the gRPC messages and the REST code path: requests become REST's parameters (so
that validation is REST's); the order path's typed results (gateway.results), REST's market-data
bodies and the WebSocket tier's payloads become messages, with REST's decimal strings
(gateway.formatting). Enum values are the Binance names with the enum's prefix
(SIDE_BUY <-> "BUY")."""

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from exchange_core.klines import Kline
from exchange_core.marketdb import TradeRow
from exchange_core.markets import Market
from exchange_core.records import OrderRecord
from exchange_proto import api_types_pb2 as apb
from exchange_proto import market_data_api_pb2 as mpb
from exchange_proto import trading_api_pb2 as tpb
from gateway.formatting import (
    ORDER_LIST_ID,
    SIDE_NAMES,
    STATUS_NAMES,
    STP_NAMES,
    TIF_NAMES,
    TYPE_NAMES,
    fee_str,
    is_working,
    placed_working_time,
    price_str,
    qty_str,
    quote_str,
)
from gateway.results import AmendedOrder, CancelledOrder, PlacedOrder, StoredOrder
from gateway.routes.market import OrderBook
from matching.enums import OrderStatus, OrderType, Side, StpMode, TimeInForce

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

V = TypeVar("V", bound=int)


class Names(Generic[V]):
    """A proto enum whose value names are Binance's names behind `prefix`."""

    def __init__(self, wrapper: "_EnumTypeWrapper[V]", prefix: str) -> None:
        self.wrapper = wrapper
        self.prefix = prefix
        # Both ways as dictionaries: the order path converts several values per call.
        self._names: dict[int, str] = {}
        for full, number in wrapper.items():
            self._names.setdefault(number, full.removeprefix(prefix))
        self._values: dict[str, V] = {full.removeprefix(prefix): number for full, number in wrapper.items()}

    def name(self, value: int) -> str:
        """The Binance name of `value` ("" for 0, the unspecified value; the number itself for an
        unknown one, which REST's validation then rejects as it is)."""
        if not value:
            return ""
        found = self._names.get(value)
        return str(value) if found is None else found

    def value(self, name: str) -> V:
        """The value of a Binance name (raises ValueError for an unknown one)."""
        found = self._values.get(name)
        if found is None:
            raise ValueError(f"{self.prefix}{name} is not a value of {self.wrapper.DESCRIPTOR.name}")
        return found


_SIDE = Names(apb.Side, "SIDE_")
_TYPE = Names(apb.OrderType, "ORDER_TYPE_")
_TIF = Names(apb.TimeInForce, "TIME_IN_FORCE_")
_STATUS = Names(apb.OrderStatus, "ORDER_STATUS_")
_STP = Names(apb.SelfTradePreventionMode, "SELF_TRADE_PREVENTION_MODE_")
_RESP = Names(tpb.ResponseType, "RESPONSE_TYPE_")
_EXEC = Names(tpb.ExecutionType, "EXECUTION_TYPE_")


def params(**given: str | int) -> dict[str, str]:
    """REST parameters from the given values, leaving out empty strings and zeros (not sent)."""
    return {k: str(v) for k, v in given.items() if v not in ("", 0)}


# ---------------------------------------------------------------- requests


def place_params(r: tpb.PlaceOrderRequest) -> dict[str, str]:
    return params(
        symbol=r.symbol,
        side=_SIDE.name(r.side),
        type=_TYPE.name(r.type),
        timeInForce=_TIF.name(r.time_in_force),
        price=r.price,
        quantity=r.quantity,
        quoteOrderQty=r.quote_order_qty,
        newClientOrderId=r.new_client_order_id,
        newOrderRespType=_RESP.name(r.new_order_resp_type),
        selfTradePreventionMode=_STP.name(r.self_trade_prevention_mode),
        stopPrice=r.stop_price,
        trailingDelta=r.trailing_delta,
        icebergQty=r.iceberg_qty,
    )


def order_ref_params(symbol: str, order_id: int, orig_client_order_id: str) -> dict[str, str]:
    return params(symbol=symbol, orderId=order_id, origClientOrderId=orig_client_order_id)


def amend_params(r: tpb.AmendOrderRequest) -> dict[str, str]:
    """PUT order/amend/keepPriority's parameters."""
    out = order_ref_params(r.symbol, r.order_id, r.orig_client_order_id)
    out.update(params(newClientOrderId=r.new_client_order_id, newQty=r.new_qty))
    return out


# ---------------------------------------------------------------- trading results


def _order_fields(
    out: tpb.PlaceOrderResponse | tpb.Order | tpb.CancelOrderResponse, market: Market, s: OrderRecord
) -> None:
    """What every order answer says of the order's state, as REST's JSON says it."""
    out.price = price_str(market, s.price)
    out.orig_qty = qty_str(market, s.quantity)
    out.executed_qty = qty_str(market, s.executed)
    out.cummulative_quote_qty = quote_str(market, s.executed_quote)
    out.status = _STATUS.value(STATUS_NAMES[s.status])
    out.time_in_force = _TIF.value(TIF_NAMES[s.time_in_force])
    out.type = _TYPE.value(TYPE_NAMES[s.order_type])
    out.side = _SIDE.value(SIDE_NAMES[s.side])
    out.self_trade_prevention_mode = _STP.value(STP_NAMES[s.stp_mode])
    out.order_list_id = s.order_list_id or ORDER_LIST_ID


def _prevented_fields(out: tpb.PlaceOrderResponse | tpb.Order, market: Market, s: OrderRecord) -> None:
    """The prevented match of an order self-trade prevention expired (REST's preventedMatchId and
    preventedQuantity); nothing for any other order."""
    if s.prevented_match_id:
        out.prevented_match_id = s.prevented_match_id
        out.prevented_quantity = qty_str(market, s.prevented_qty)


def placed(p: PlacedOrder) -> tpb.PlaceOrderResponse:
    """POST /api/v3/order's answer (ACK, RESULT or FULL)."""
    market, s = p.market, p.order
    out = tpb.PlaceOrderResponse(
        symbol=market.symbol,
        order_id=s.order_id,
        client_order_id=s.client_order_id,
        transact_time=s.time,
        order_list_id=s.order_list_id or ORDER_LIST_ID,
    )
    if p.resp_type == "ACK":
        return out
    _order_fields(out, market, s)
    out.orig_quote_order_qty = quote_str(market, s.quote_quantity)
    out.working_time = placed_working_time(s)
    if s.iceberg_qty:
        out.iceberg_qty = qty_str(market, s.iceberg_qty)
    _prevented_fields(out, market, s)
    if p.resp_type == "FULL":
        for f in p.fills:
            out.fills.add(
                price=price_str(market, f.price),
                qty=qty_str(market, f.quantity),
                commission=fee_str(market, f.commission, f.commission_asset),
                commission_asset=f.commission_asset,
                trade_id=f.trade_id,
            )
        for m in p.prevented:
            out.prevented_matches.add(
                prevented_match_id=m.prevented_match_id,
                maker_order_id=m.maker_order_id,
                price=price_str(market, m.price),
                taker_prevented_quantity=qty_str(market, m.taker_qty) if m.taker_qty else "",
                maker_prevented_quantity=qty_str(market, m.maker_qty) if m.maker_qty else "",
            )
    return out


def order(stored: StoredOrder) -> tpb.Order:
    """GET /api/v3/order's answer (and openOrders' items)."""
    market, s = stored.market, stored.record
    out = tpb.Order(symbol=market.symbol, order_id=s.order_id, client_order_id=s.client_order_id)
    _order_fields(out, market, s)
    out.time, out.update_time, out.is_working = s.time, s.update_time, is_working(s)
    out.orig_quote_order_qty = quote_str(market, s.quote_quantity)
    out.iceberg_qty = qty_str(market, s.iceberg_qty)
    _prevented_fields(out, market, s)
    return out


def cancelled(c: CancelledOrder) -> tpb.CancelOrderResponse:
    """DELETE /api/v3/order's answer (and DELETE openOrders' items)."""
    out = tpb.CancelOrderResponse(
        symbol=c.market.symbol,
        order_id=c.order.order_id,
        orig_client_order_id=c.order.client_order_id,
        client_order_id=c.client_order_id,
        transact_time=c.transact_time,
    )
    _order_fields(out, c.market, c.order)
    out.orig_quote_order_qty = quote_str(c.market, c.order.quote_quantity)
    return out


def amended(a: AmendedOrder) -> tpb.AmendOrderResponse:
    """PUT order/amend/keepPriority's answer (gateway.formatting.amend_json's fields)."""
    market, s = a.market, a.order
    order = tpb.AmendedOrder(
        symbol=market.symbol,
        order_id=s.order_id,
        orig_client_order_id=a.orig_client_order_id,
        client_order_id=s.client_order_id,
        price=price_str(market, s.price),
        qty=qty_str(market, s.quantity),
        executed_qty=qty_str(market, s.executed),
        prevented_qty=qty_str(market, 0),
        quote_order_qty=quote_str(market, s.quote_quantity),
        cumulative_quote_qty=quote_str(market, s.executed_quote),
        status=_STATUS.value(OrderStatus(s.status).name),
        time_in_force=_TIF.value(TimeInForce(s.time_in_force).name),
        type=_TYPE.value(OrderType(s.order_type).name),
        side=_SIDE.value(Side(s.side).name),
        working_time=s.triggered or placed_working_time(s),
        iceberg_qty=qty_str(market, s.iceberg_qty) if s.iceberg_qty else "",
        self_trade_prevention_mode=_STP.value(StpMode(s.stp_mode).name),
    )
    return tpb.AmendOrderResponse(
        transact_time=a.transact_time, execution_id=a.execution_id, amended_order=order
    )


def execution_report(d: dict[str, Any]) -> tpb.ExecutionReport:
    """From a user-data executionReport payload (settlement.reports.execution_report)."""
    return tpb.ExecutionReport(
        event_time=d["E"],
        symbol=d["s"],
        client_order_id=d["c"],
        side=_SIDE.value(d["S"]),
        type=_TYPE.value(d["o"]),
        time_in_force=_TIF.value(d["f"]),
        quantity=d["q"],
        price=d["p"],
        execution_type=_EXEC.value(d["x"]),
        status=_STATUS.value(d["X"]),
        order_id=d["i"],
        last_executed_qty=d["l"],
        cumulative_filled_qty=d["z"],
        last_executed_price=d["L"],
        commission=d["n"],
        commission_asset=d["N"] or "",
        transaction_time=d["T"],
        trade_id=d["t"],
        is_working=d["w"],
        is_maker=d["m"],
        order_creation_time=d["O"],
        cumulative_quote_qty=d["Z"],
        last_quote_qty=d["Y"],
        quote_order_qty=d["Q"],
        self_trade_prevention_mode=_STP.value(d["V"]),
        iceberg_qty=d["F"],
        prevented_match_id=d.get("v", 0),
        prevented_quantity=d.get("A", ""),
        last_prevented_quantity=d.get("B", ""),
        counter_order_id=d.get("U", 0),
        counter_symbol=d.get("Cs", ""),
        prevented_execution_qty=d.get("pl", ""),
        prevented_execution_price=d.get("pL", ""),
        prevented_execution_quote_qty=d.get("pY", ""),
    )


def prevented_params(r: tpb.ListPreventedMatchesRequest) -> dict[str, str]:
    """GET myPreventedMatches' parameters of a ListPreventedMatches request."""
    return params(
        symbol=r.symbol,
        preventedMatchId=r.prevented_match_id,
        orderId=r.order_id,
        fromPreventedMatchId=r.from_prevented_match_id,
        limit=r.limit,
    )


def prevented_match(row: dict[str, Any]) -> tpb.PreventedMatch:
    """One record of gateway.prevented.prevented_matches (REST's JSON object) as a message."""
    return tpb.PreventedMatch(
        symbol=row["symbol"],
        prevented_match_id=row["preventedMatchId"],
        taker_order_id=row["takerOrderId"],
        maker_symbol=row["makerSymbol"],
        maker_order_id=row["makerOrderId"],
        trade_group_id=row["tradeGroupId"],
        self_trade_prevention_mode=_STP.value(row["selfTradePreventionMode"]),
        price=row["price"],
        taker_prevented_quantity=row.get("takerPreventedQuantity", ""),
        maker_prevented_quantity=row.get("makerPreventedQuantity", ""),
        transact_time=row["transactTime"],
    )


def account_position(d: dict[str, Any]) -> tpb.AccountPosition:
    """From a user-data outboundAccountPosition payload (settlement.reports.account_position)."""
    return tpb.AccountPosition(
        event_time=d["E"],
        last_update_time=d["u"],
        balances=[tpb.Balance(asset=b["a"], free=b["f"], locked=b["l"]) for b in d["B"]],
    )


def account_event(d: dict[str, Any]) -> tpb.AccountEvent:
    """From a user-data payload: an executionReport, an outboundAccountPosition or a
    balanceUpdate (the feed delivers no other kind; anything else raises ValueError)."""
    kind = d.get("e")
    if kind == "executionReport":
        return tpb.AccountEvent(execution_report=execution_report(d))
    if kind == "outboundAccountPosition":
        return tpb.AccountEvent(account_position=account_position(d))
    if kind == "balanceUpdate":
        update = tpb.BalanceUpdate(event_time=d["E"], asset=d["a"], delta=d["d"], clear_time=d["T"])
        return tpb.AccountEvent(balance_update=update)
    raise ValueError(f"not an account event: {kind!r}")


# ---------------------------------------------------------------- market data


def _levels(rows: list[list[str]]) -> list[apb.PriceLevel]:
    return [apb.PriceLevel(price=p, quantity=q) for p, q in rows]


def order_book(book: OrderBook) -> mpb.OrderBook:
    """From GET /api/v3/depth's body (its decimal strings)."""
    return mpb.OrderBook(
        last_update_id=book["lastUpdateId"], bids=_levels(book["bids"]), asks=_levels(book["asks"])
    )


def trade(market: Market, t: TradeRow) -> mpb.Trade:
    """From a row of the market's trade history."""
    return mpb.Trade(
        id=t.id,
        price=price_str(market, t.price),
        qty=qty_str(market, t.qty),
        quote_qty=quote_str(market, t.quote_qty),
        time=t.time,
        is_buyer_maker=t.is_buyer_maker,
    )


def kline(market: Market, k: Kline) -> mpb.Kline:
    """From a candle of the market's history."""
    open_, high, low, close = (price_str(market, p) for p in (k.open, k.high, k.low, k.close))
    return mpb.Kline(
        open_time=k.open_time, open=open_, high=high, low=low, close=close,
        volume=qty_str(market, k.volume), close_time=k.close_time,
        quote_volume=quote_str(market, k.quote_volume), trades=k.trades,
        taker_buy_volume=qty_str(market, k.taker_volume),
        taker_buy_quote_volume=quote_str(market, k.taker_quote_volume),
    )  # fmt: skip


def depth_update(d: dict[str, Any]) -> mpb.DepthUpdate:
    """From a <symbol>@depth payload (marketdata.payloads.Formatter.depth_update)."""
    return mpb.DepthUpdate(
        event_time=d["E"],
        symbol=d["s"],
        first_update_id=d["U"],
        final_update_id=d["u"],
        bids=_levels(d["b"]),
        asks=_levels(d["a"]),
    )


def stream_trade(d: dict[str, Any]) -> mpb.Trade:
    """From a <symbol>@trade payload (marketdata.payloads.Formatter.trade)."""
    return mpb.Trade(id=d["t"], price=d["p"], qty=d["q"], time=d["T"], is_buyer_maker=d["m"])


def ticker(d: dict[str, Any]) -> mpb.Ticker:
    """From a <symbol>@ticker payload (marketdata.payloads.Formatter.ticker)."""
    return mpb.Ticker(
        event_time=d["E"],
        symbol=d["s"],
        price_change=d["p"],
        price_change_percent=d["P"],
        weighted_avg_price=d["w"],
        prev_close_price=d["x"],
        last_price=d["c"],
        last_qty=d["Q"],
        bid_price=d["b"],
        bid_qty=d["B"],
        ask_price=d["a"],
        ask_qty=d["A"],
        open_price=d["o"],
        high_price=d["h"],
        low_price=d["l"],
        volume=d["v"],
        quote_volume=d["q"],
        open_time=d["O"],
        close_time=d["C"],
        first_id=d["F"],
        last_id=d["L"],
        count=d["n"],
    )
