"""Binance user-data payloads: executionReport for an order's changes, outboundAccountPosition
for balances. Built by settlement, forwarded as they are by the WebSocket tier."""

from typing import Any

from exchange_core.markets import Market
from exchange_core.units import from_units
from matching.enums import OrderStatus, OrderType, Side, StpMode, TimeInForce


def execution_report(
    market: Market,
    info: Any,
    *,
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
) -> dict[str, Any]:
    """An executionReport for order `info` (a settlement.effects.OrderInfo); `orig_client_order_id`
    is the client id it had before (C: a REPLACED report of an amendment)."""
    q, b = market.quote.decimals, market.base.decimals
    fee_decimals = b if fee_asset == market.base.name else q
    is_stop = info.order_type >= OrderType.STOP_LOSS
    trailing = {"d": info.trailing_delta} if info.trailing_delta else {}
    working = (
        status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
        and info.order_type != OrderType.MARKET
        and (not is_stop or bool(info.triggered))
    )
    return {
        "e": "executionReport",
        "E": ts,
        "s": market.symbol,
        "c": info.client_order_id,
        "S": Side(info.side).name,
        "o": OrderType(info.order_type).name,
        "f": TimeInForce(info.time_in_force).name,
        "q": from_units(info.quantity, b),
        "p": from_units(info.price, q),
        "P": from_units(info.stop_price, q),
        "F": from_units(info.iceberg_qty, b),
        "g": -1,
        "C": orig_client_order_id,
        "x": execution,
        "X": OrderStatus(status).name,
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
        "w": working,
        "m": is_maker,
        "M": False,
        "O": info.time,
        "Z": from_units(executed_quote, q),
        "Y": from_units(last_quote, q),
        "Q": from_units(info.quote_quantity, q),
        "W": (info.triggered or -1) if is_stop else info.time,
        "V": StpMode(info.stp_mode).name,
        **trailing,
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
