"""A market feed of the WebSocket tier without I/O: md messages, snapshots and gaps in, stream
payloads out (a hub that records what it is given)."""

import json
from typing import Any

from exchange_core.markets import load_markets
from exchange_core.wire import encode_event, encode_market_data
from marketdata.feed import SymbolFeed
from marketdata.publisher import FeedCounters
from matching import Side, Trade

MARKET = load_markets()["BTCUSDT"]
P = 10**MARKET.quote.decimals  # one USDT in price units


class RecordingHub:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def has(self, name: str) -> bool:
        return True

    def publish(self, name: str, payload: bytes) -> None:
        self.sent.append((name, json.loads(payload)))

    def of(self, name: str) -> list[Any]:
        return [payload for n, payload in self.sent if n == name]


def make_feed() -> tuple[SymbolFeed, RecordingHub, list[SymbolFeed]]:
    hub = RecordingHub()
    requests: list[SymbolFeed] = []
    feed = SymbolFeed(MARKET, hub, FeedCounters(), 1000, requests.append)  # type: ignore[arg-type]
    feed.seed([])
    return feed, hub, requests


def md(first: int, last: int, bids: tuple[tuple[int, int], ...] = (), asks: tuple[tuple[int, int], ...] = (),
       trades: tuple[Trade, ...] = ()) -> bytes:  # fmt: skip
    return encode_market_data("BTCUSDT", first, last, 1_000, [encode_event(t) for t in trades], bids, asks)


def snapshot(seq: int, bids: list[list[int]], asks: list[list[int]]) -> bytes:
    return json.dumps({"lastUpdateId": seq, "bids": bids, "asks": asks}).encode()


def trade(seq: int, trade_id: int, taker_order: int, price: int, qty: int, taker: Side) -> Trade:
    return Trade(
        seq, 1_000, trade_id, price, qty, price * qty // 10**8, taker, 1, 1, taker_order, 2, 0, 0, 0, 0, 0, 0
    )


def test_first_message_after_the_snapshot_may_skip_batches_that_changed_nothing() -> None:
    feed, hub, requests = make_feed()
    feed.on_md(md(9, 10, bids=((100 * P, 5),)))  # before the subscription was confirmed: kept
    feed.on_subscribed()
    assert requests == [feed]
    feed.on_md(md(14, 15, bids=((101 * P, 7),)))
    feed.on_snapshot(snapshot(12, [[100 * P, 5]], []))  # 13 changed nothing
    feed.on_md(md(16, 16, asks=((105 * P, 1),)))
    feed.flush_depth(100, 5)
    (diff,) = hub.of("btcusdt@depth@100ms")
    assert (diff["U"], diff["u"]) == (13, 16)
    assert diff["b"] == [["101.00000000", "0.00000007"]] and diff["a"] == [["105.00000000", "0.00000001"]]
    assert feed.book is not None and feed.book.seq == 16
    top = {
        "u": 16,
        "s": "BTCUSDT",
        "b": "101.00000000",
        "B": "0.00000007",
        "a": "105.00000000",
        "A": "0.00000001",
    }
    assert hub.of("btcusdt@bookTicker")[-1] == top


def test_a_gap_resyncs_and_the_diffs_stay_gapless() -> None:
    feed, hub, requests = make_feed()
    feed.on_subscribed()
    feed.on_snapshot(snapshot(10, [[100 * P, 5], [99 * P, 3]], [[101 * P, 2]]))
    feed.on_md(md(11, 12, bids=((100 * P, 6),)))
    feed.flush_depth(100, 1)
    feed.on_md(md(20, 21, asks=((102 * P, 4),)))  # 13..19 lost
    assert len(requests) == 2
    feed.on_md(md(22, 22, asks=((103 * P, 1),)))  # arrives while resyncing
    feed.on_snapshot(snapshot(21, [[100 * P, 6]], [[101 * P, 2], [102 * P, 4]]))  # 99 went in the lost part
    feed.flush_depth(100, 2)
    first, second = hub.of("btcusdt@depth@100ms")
    assert (first["U"], first["u"]) == (11, 12)
    assert (second["U"], second["u"]) == (13, 22)
    assert second["b"] == [["99.00000000", "0.00000000"]]
    assert second["a"] == [["102.00000000", "0.00000004"], ["103.00000000", "0.00000001"]]
    book = feed.book
    assert book is not None and book.seq == 22
    assert dict(book.bids) == {100 * P: 6} and dict(book.asks) == {101 * P: 2, 102 * P: 4, 103 * P: 1}
    feed.on_md(md(22, 22))  # a duplicate: ignored
    feed.on_md(md(23, 23))  # no level change: still a diff, so that the chain goes on
    feed.flush_depth(100, 3)
    assert [(d["U"], d["u"], d["b"], d["a"]) for d in hub.of("btcusdt@depth@100ms")][-1] == (23, 23, [], [])
    feed.flush_depth(1000, 4)
    (slow,) = hub.of("btcusdt@depth")
    assert (slow["U"], slow["u"]) == (11, 23)


def test_trades_aggregates_and_partial_depth() -> None:
    feed, hub, _ = make_feed()
    feed.on_subscribed()
    feed.on_snapshot(snapshot(0, [], []))
    fills = (
        trade(1, 7, 50, 100 * P, 10, Side.BUY),
        trade(2, 8, 50, 100 * P, 20, Side.BUY),
        trade(3, 9, 50, 101 * P, 5, Side.BUY),
        trade(4, 10, 51, 101 * P, 1, Side.SELL),
    )
    feed.on_md(md(1, 5, asks=((101 * P, 3),), trades=fills))
    feed.on_md(md(1, 5, trades=fills))  # redelivered: no second copy
    assert [(t["t"], t["q"], t["m"]) for t in hub.of("btcusdt@trade")] == [
        (7, "0.00000010", False), (8, "0.00000020", False), (9, "0.00000005", False), (10, "0.00000001", True)
    ]  # fmt: skip
    assert [(a["a"], a["f"], a["l"], a["q"], a["p"]) for a in hub.of("btcusdt@aggTrade")] == [
        (7, 7, 8, "0.00000030", "100.00000000"), (9, 9, 9, "0.00000005", "101.00000000"),
        (10, 10, 10, "0.00000001", "101.00000000"),
    ]  # fmt: skip
    feed.publish_partials(100)
    assert hub.of("btcusdt@depth5@100ms") == [
        {"lastUpdateId": 5, "bids": [], "asks": [["101.00000000", "0.00000003"]]}
    ]
    feed.publish_klines(2_000)
    (kline,) = hub.of("btcusdt@kline_1m")
    k = kline["k"]
    assert (k["o"], k["h"], k["l"], k["c"], k["n"], k["f"], k["L"], k["x"]) == (
        "100.00000000", "101.00000000", "100.00000000", "101.00000000", 4, 7, 10, False
    )  # fmt: skip
    feed.publish_klines(61_000)
    closed = [m["k"] for m in hub.of("btcusdt@kline_1m") if m["k"]["x"]]
    assert len(closed) == 1 and closed[0]["t"] == 0
