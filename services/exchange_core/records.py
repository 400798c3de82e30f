"""The stored order state and user trade: what settlement writes into Redis (the user's order
hash, its trade sets) and what the gateway reads back.

Both are compact JSON objects of integers with single-letter keys (decimals are made at the edge,
from each asset's precision). This module is the one definition of those keys: `encode` writes
the bytes settlement has always written, `decode` reads them back, including states written
before stop orders existed (no "sp", "tr", "td": 0).

Order state keys: i order id, c client order id, S side, t order type, f time in force, p price,
q quantity, qq quote quantity, stp self-trade prevention mode, T creation time, st status,
x executed quantity, xq executed quote, u update time, sp stop price, tr trigger time (0 while a
stop order waits), td trailing delta. The enums are matching.enums' values.

Trade keys: id trade id, o order id, p price, q quantity, qq quote quantity, fee fee (units of
fa), fa fee asset, T time, b the user bought, m the user was the maker.
"""

from dataclasses import dataclass

import orjson


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One order's stored state."""

    order_id: int
    client_order_id: str
    side: int
    order_type: int
    time_in_force: int
    price: int
    quantity: int
    quote_quantity: int
    stp_mode: int
    time: int
    status: int
    executed: int
    executed_quote: int
    update_time: int
    stop_price: int = 0
    triggered: int = 0
    trailing_delta: int = 0

    def encode(self) -> str:
        return orjson.dumps(
            {
                "i": self.order_id,
                "c": self.client_order_id,
                "S": self.side,
                "t": self.order_type,
                "f": self.time_in_force,
                "p": self.price,
                "q": self.quantity,
                "qq": self.quote_quantity,
                "stp": self.stp_mode,
                "T": self.time,
                "st": self.status,
                "x": self.executed,
                "xq": self.executed_quote,
                "u": self.update_time,
                "sp": self.stop_price,
                "tr": self.triggered,
                "td": self.trailing_delta,
            }
        ).decode()

    @classmethod
    def decode(cls, raw: str | bytes) -> "OrderRecord":
        d = orjson.loads(raw)
        return cls(
            order_id=d["i"],
            client_order_id=d["c"],
            side=d["S"],
            order_type=d["t"],
            time_in_force=d["f"],
            price=d["p"],
            quantity=d["q"],
            quote_quantity=d["qq"],
            stp_mode=d["stp"],
            time=d["T"],
            status=d["st"],
            executed=d["x"],
            executed_quote=d["xq"],
            update_time=d["u"],
            stop_price=d.get("sp", 0),
            triggered=d.get("tr", 0),
            trailing_delta=d.get("td", 0),
        )


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One side of a trade, as its user's trade history keeps it."""

    trade_id: int
    order_id: int
    price: int
    quantity: int
    quote_quantity: int
    fee: int
    fee_asset: str
    time: int
    is_buyer: bool
    is_maker: bool

    def encode(self) -> str:
        return orjson.dumps(
            {
                "id": self.trade_id,
                "o": self.order_id,
                "p": self.price,
                "q": self.quantity,
                "qq": self.quote_quantity,
                "fee": self.fee,
                "fa": self.fee_asset,
                "T": self.time,
                "b": self.is_buyer,
                "m": self.is_maker,
            }
        ).decode()

    @classmethod
    def decode(cls, raw: str | bytes) -> "TradeRecord":
        d = orjson.loads(raw)
        return cls(
            trade_id=d["id"],
            order_id=d["o"],
            price=d["p"],
            quantity=d["q"],
            quote_quantity=d["qq"],
            fee=d["fee"],
            fee_asset=d["fa"],
            time=d["T"],
            is_buyer=d["b"],
            is_maker=d["m"],
        )
