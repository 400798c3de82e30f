"""The canonical form of a market's state: what a snapshot holds and what the state hash covers.

An order record is `(order_id, user_id, client_order_id, side, price, remaining, filled,
filled_quote, reserve_left, order_type, time_in_force, stp_mode, ts)` with price in quote units
per whole base unit and quantities in base units. Records are listed in book order: bids from
the best price down, then asks from the best price up, each level in time order.
"""

import hashlib
import json
from dataclasses import dataclass

OrderRecord = tuple[int, int, str, int, int, int, int, int, int, int, int, int, int]

SNAPSHOT_VERSION = 1


@dataclass(frozen=True, slots=True)
class MarketState:
    symbol: str
    seq: int
    trade_id: int
    last_price: int
    orders: tuple[OrderRecord, ...]

    def encode(self) -> bytes:
        """Canonical bytes: compact JSON with a version tag."""
        body = [
            SNAPSHOT_VERSION,
            self.symbol,
            self.seq,
            self.trade_id,
            self.last_price,
            [list(r) for r in self.orders],
        ]
        return json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()

    @classmethod
    def decode(cls, data: bytes) -> "MarketState":
        version, symbol, seq, trade_id, last_price, orders = json.loads(data)
        if version != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported snapshot version {version}")
        records = tuple(
            (
                int(r[0]),
                int(r[1]),
                str(r[2]),
                int(r[3]),
                int(r[4]),
                int(r[5]),
                int(r[6]),
                int(r[7]),
                int(r[8]),
                int(r[9]),
                int(r[10]),
                int(r[11]),
                int(r[12]),
            )
            for r in orders
        )
        return cls(str(symbol), int(seq), int(trade_id), int(last_price), records)

    def digest(self) -> str:
        """SHA-256 of the canonical bytes, hex."""
        return hashlib.sha256(self.encode()).hexdigest()
