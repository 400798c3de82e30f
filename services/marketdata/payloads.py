"""Binance's stream payloads (JSON bytes) from integer units: prices and quote amounts with the
quote asset's decimals, quantities with the base asset's, as the REST API writes them."""

import json
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from exchange_core.markets import Market
from exchange_core.units import from_units
from marketdata.book import Level
from marketdata.candles import Candle
from marketdata.tickers import Ticker24h

_PERCENT = Decimal("0.001")


def _dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


class Formatter:
    """The payloads of one market."""

    __slots__ = ("bd", "qd", "symbol")

    def __init__(self, market: Market) -> None:
        self.symbol = market.symbol
        self.qd = market.quote.decimals
        self.bd = market.base.decimals

    def levels(self, levels: Iterable[Level]) -> list[list[str]]:
        qd, bd = self.qd, self.bd
        return [[from_units(p, qd), from_units(q, bd)] for p, q in levels]

    def trade(self, now: int, trade_id: int, price: int, qty: int, ts: int, buyer_maker: bool) -> bytes:
        """<symbol>@trade."""
        return (
            f'{{"e":"trade","E":{now},"s":"{self.symbol}","t":{trade_id},"p":"{from_units(price, self.qd)}",'
            f'"q":"{from_units(qty, self.bd)}","T":{ts},"m":{"true" if buyer_maker else "false"},"M":true}}'
        ).encode()

    def agg_trade(
        self,
        now: int,
        agg_id: int,
        price: int,
        qty: int,
        first_id: int,
        last_id: int,
        ts: int,
        buyer_maker: bool,
    ) -> bytes:
        """<symbol>@aggTrade: the fills of one taker order at one price."""
        return (
            f'{{"e":"aggTrade","E":{now},"s":"{self.symbol}","a":{agg_id},"p":"{from_units(price, self.qd)}",'
            f'"q":"{from_units(qty, self.bd)}","f":{first_id},"l":{last_id},"T":{ts},'
            f'"m":{"true" if buyer_maker else "false"},"M":true}}'
        ).encode()

    def depth_update(self, now: int, first: int, last: int, bids: list[Level], asks: list[Level]) -> bytes:
        """<symbol>@depth[@100ms]: changed levels' new totals (0: gone), update ids first..last."""
        return _dumps({"e": "depthUpdate", "E": now, "s": self.symbol, "U": first, "u": last,
                       "b": self.levels(bids), "a": self.levels(asks)})  # fmt: skip

    def partial_depth(self, seq: int, bids: list[Level], asks: list[Level]) -> bytes:
        """<symbol>@depth<N>[@100ms]: the best N levels per side."""
        return _dumps({"lastUpdateId": seq, "bids": self.levels(bids), "asks": self.levels(asks)})

    def book_ticker(self, seq: int, bid: Level | None, ask: Level | None) -> bytes:
        """<symbol>@bookTicker: best bid and ask (zeros for an empty side)."""
        bp, bq = bid or (0, 0)
        ap, aq = ask or (0, 0)
        return _dumps({"u": seq, "s": self.symbol, "b": from_units(bp, self.qd), "B": from_units(bq, self.bd),
                       "a": from_units(ap, self.qd), "A": from_units(aq, self.bd)})  # fmt: skip

    def kline(self, now: int, interval: str, c: Candle, closed: bool) -> bytes:
        """<symbol>@kline_<interval>."""
        qd, bd = self.qd, self.bd
        k = {
            "t": c.start, "T": c.close_time, "s": self.symbol, "i": interval, "f": c.first_id, "L": c.last_id,
            "o": from_units(c.open, qd), "c": from_units(c.close, qd), "h": from_units(c.high, qd),
            "l": from_units(c.low, qd), "v": from_units(c.volume, bd), "n": c.count, "x": closed,
            "q": from_units(c.quote_volume, qd), "V": from_units(c.taker_base, bd),
            "Q": from_units(c.taker_quote, qd), "B": "0",
        }  # fmt: skip
        return _dumps({"e": "kline", "E": now, "s": self.symbol, "k": k})

    def _change(self, t: Ticker24h) -> tuple[str, str, str]:
        """A ticker's price change, its percentage (3 decimals) and the weighted average price."""
        change = t.last - t.open
        percent = Decimal(change * 100) / Decimal(t.open) if t.open else Decimal(0)
        weighted = t.quote_volume * 10**self.bd // t.volume if t.volume else 0
        quantized = str(percent.quantize(_PERCENT, ROUND_HALF_UP))
        return from_units(change, self.qd), quantized, from_units(weighted, self.qd)

    def ticker(self, now: int, t: Ticker24h, bid: Level | None, ask: Level | None) -> bytes:
        """<symbol>@ticker: 24-hour rolling statistics with the best bid and ask."""
        qd, bd = self.qd, self.bd
        bp, bq = bid or (0, 0)
        ap, aq = ask or (0, 0)
        change, percent, weighted = self._change(t)
        return _dumps({
            "e": "24hrTicker", "E": now, "s": self.symbol, "p": change, "P": percent,
            "w": weighted, "x": from_units(t.prev_close, qd),
            "c": from_units(t.last, qd), "Q": from_units(t.last_qty, bd),
            "b": from_units(bp, qd), "B": from_units(bq, bd),
            "a": from_units(ap, qd), "A": from_units(aq, bd),
            "o": from_units(t.open, qd), "h": from_units(t.high, qd), "l": from_units(t.low, qd),
            "v": from_units(t.volume, bd), "q": from_units(t.quote_volume, qd),
            "O": t.open_time, "C": t.close_time, "F": t.first_id, "L": t.last_id, "n": t.count,
        })  # fmt: skip

    def window_ticker(self, now: int, window: str, t: Ticker24h) -> bytes:
        """<symbol>@ticker_<window>: rolling-window statistics (event `1hTicker`, ...)."""
        qd, bd = self.qd, self.bd
        change, percent, weighted = self._change(t)
        return _dumps({
            "e": f"{window}Ticker", "E": now, "s": self.symbol, "p": change, "P": percent,
            "o": from_units(t.open, qd), "h": from_units(t.high, qd), "l": from_units(t.low, qd),
            "c": from_units(t.last, qd), "w": weighted,
            "v": from_units(t.volume, bd), "q": from_units(t.quote_volume, qd),
            "O": t.open_time, "C": t.close_time, "F": t.first_id, "L": t.last_id, "n": t.count,
        })  # fmt: skip

    def avg_price(self, now: int, quote_volume: int, volume: int, last_trade_ms: int) -> bytes:
        """<symbol>@avgPrice: the volume-weighted average price of the last 5 minutes."""
        weighted = quote_volume * 10**self.bd // volume
        return _dumps({"e": "avgPrice", "E": now, "s": self.symbol, "i": "5m",
                       "w": from_units(weighted, self.qd), "T": last_trade_ms})  # fmt: skip

    def mini_ticker(self, now: int, t: Ticker24h) -> bytes:
        """<symbol>@miniTicker."""
        qd, bd = self.qd, self.bd
        return _dumps({"e": "24hrMiniTicker", "E": now, "s": self.symbol, "c": from_units(t.last, qd),
                       "o": from_units(t.open, qd), "h": from_units(t.high, qd), "l": from_units(t.low, qd),
                       "v": from_units(t.volume, bd), "q": from_units(t.quote_volume, qd)})  # fmt: skip


def json_array(items: list[bytes]) -> bytes:
    """The JSON array of ready JSON documents (an all-market stream's payload)."""
    return b"[" + b",".join(items) + b"]"


def listen_key_expired(now: int, key: str) -> bytes:
    return _dumps({"e": "listenKeyExpired", "E": now, "listenKey": key})
