"""A prevented match as its user's history keeps it: what self-trade prevention stopped (Binance's
myPreventedMatches). Settlement writes one per prevented match id into the user's sorted set
upm:{uid}:SYMBOL, scored by that id; the gateway reads them back.

Stored as a compact JSON object of integers: id the prevented match id (per market, from 1),
to the taker's order id, mo the maker's order id, stp the taker's STP mode (matching.enums.StpMode),
p the price of the level (quote units), tq the taker's prevented quantity (base units; absent: the
taker did not expire), mq the maker's (absent: the maker did not expire), T the time (ms).
"""

from dataclasses import dataclass, replace
from typing import Final

import orjson

# A user keeps the newest this many prevented matches per market (settle.lua trims the rest).
KEPT_PER_MARKET: Final = 10_000


@dataclass(frozen=True, slots=True)
class PreventedMatch:
    prevented_match_id: int
    taker_order_id: int
    maker_order_id: int
    stp_mode: int
    price: int
    taker_prevented_qty: int
    maker_prevented_qty: int
    time: int

    def encode(self) -> bytes:
        d = {
            "id": self.prevented_match_id,
            "to": self.taker_order_id,
            "mo": self.maker_order_id,
            "stp": self.stp_mode,
            "p": self.price,
            "tq": self.taker_prevented_qty,
            "mq": self.maker_prevented_qty,
            "T": self.time,
        }
        if not self.taker_prevented_qty:
            del d["tq"]
        if not self.maker_prevented_qty:
            del d["mq"]
        return orjson.dumps(d)

    @classmethod
    def decode(cls, raw: str | bytes) -> "PreventedMatch":
        d = orjson.loads(raw)
        return cls(d["id"], d["to"], d["mo"], d["stp"], d["p"], d.get("tq", 0), d.get("mq", 0), d["T"])

    def merged(self, other: "PreventedMatch") -> "PreventedMatch":
        """This record with the side `other` (the same prevented match) knows: an EXPIRE_BOTH
        match is told by the maker's expiry and then the taker's."""
        return replace(
            self,
            taker_prevented_qty=self.taker_prevented_qty or other.taker_prevented_qty,
            maker_prevented_qty=self.maker_prevented_qty or other.maker_prevented_qty,
        )
