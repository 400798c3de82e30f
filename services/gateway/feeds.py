"""The streams the gateway itself serves (gRPC streams, the WebSocket API's user data
subscriptions): market feeds (marketdata.feed.SymbolFeed, as the WebSocket tier runs them:
md.{SYMBOL} decoding, depth snapshot sync and gap repair, diff periods, 24h statistics) and user
channels (user.{uid}, settlement's payloads), run inside the gateway on one pub/sub connection.

A stream is a Sink: a bounded queue of messages. A market stream (`<symbol>@depth@100ms`,
`<symbol>@trade`, `<symbol>@ticker`) gets each payload converted once per kind of message its sinks
take (a gRPC stream's protobuf message, the WebSocket API's payload as it is). A user's channel (one
subscription however many of the user's streams need it) feeds three streams: `user:{uid}`
(executionReports), `account:{uid}` (executionReports and outboundAccountPositions) and
`userdata:{uid}` (every payload, listStatus too, for the WebSocket API). A sink that falls
MAX_PENDING messages behind is cut off (the call ends with RESOURCE_EXHAUSTED, a WebSocket API
subscription with eventStreamTerminated; a depth client then resynchronizes from a snapshot), never
buffered without bound; so is every stream when the pub/sub connection fails. Feeds and channels are
subscribed while some stream needs them.
"""

import asyncio
import collections
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from exchange_core.clock import now_ms
from exchange_core.errors import ApiError
from exchange_core.keys import Keys
from exchange_core.markets import Market
from marketdata.bus import connect_bus
from marketdata.candles import DAY
from marketdata.feed import SymbolFeed
from marketdata.publisher import FeedCounters
from marketdata.seed import recent_trades
from marketdata.snapshots import load_depth_snapshot
from marketdata.tickers import ticker_24h

log = logging.getLogger("gateway.feeds")

MAX_PENDING = 10_000
DEPTH_LEVELS = 1_000  # levels per side in depth:{SYMBOL}
SEED_MAX_ENTRIES = 20_000

# A stream's message: a protobuf message (gRPC) or the payload itself (the WebSocket API).
Message = Any
Convert = Callable[[dict[str, Any]], Message]


class Sink:
    """One stream's pending messages. Iterating yields them until the sink is cut off; `ended_by`
    then says why, when the reason is not the usual one (behind, or the source lost)."""

    def __init__(self) -> None:
        self.pending: collections.deque[Message] = collections.deque()
        self.wake = asyncio.Event()
        self.overflowed = False
        self.ended_by: ApiError | None = None

    def put(self, message: Message) -> None:
        if self.overflowed:
            return
        self.pending.append(message)
        if len(self.pending) > MAX_PENDING:
            self.cut_off()
        self.wake.set()

    def cut_off(self, reason: ApiError | None = None) -> None:
        """End the stream: nothing more is delivered, what is pending is dropped."""
        if not self.overflowed:
            self.ended_by = reason
        self.overflowed = True
        self.pending.clear()
        self.wake.set()

    async def __aiter__(self) -> AsyncIterator[Message]:
        while True:
            await self.wake.wait()
            self.wake.clear()
            if self.overflowed:
                return
            while self.pending:
                yield self.pending.popleft()


class StreamHub:
    """Sinks by stream name; a marketdata.publisher.Publisher, so that market feeds write to it.

    The sinks of one name are grouped by their converter: each payload is converted once per
    converter in use, so a gRPC stream (protobuf messages) and a WebSocket API subscription (the
    payload itself) of the same name each get their own kind of message."""

    def __init__(self, on_first: Callable[[str], None], on_last: Callable[[str], None]) -> None:
        self.on_first = on_first
        self.on_last = on_last
        self.sinks: dict[str, dict[Convert, dict[Sink, None]]] = {}

    def has(self, name: str) -> bool:
        return name in self.sinks

    def publish(self, name: str, payload: bytes) -> None:
        if self.sinks.get(name):
            self.deliver(name, json.loads(payload))

    def deliver(self, name: str, document: dict[str, Any]) -> None:
        """Convert `document` once per converter and hand the message to every sink of `name`."""
        groups = self.sinks.get(name)
        if not groups:
            return
        for convert, sinks in groups.items():
            message = convert(document)
            for sink in sinks:
                sink.put(message)

    def all_sinks(self) -> list[Sink]:
        return [sink for groups in self.sinks.values() for sinks in groups.values() for sink in sinks]

    def attach(self, name: str, sink: Sink, convert: Convert) -> None:
        groups = self.sinks.get(name)
        first = groups is None
        if groups is None:
            groups = self.sinks[name] = {}
        groups.setdefault(convert, {})[sink] = None
        if first:
            self.on_first(name)

    def detach(self, name: str, sink: Sink, convert: Convert) -> None:
        groups = self.sinks.get(name)
        if groups is None:
            return
        sinks = groups.get(convert)
        if sinks is not None:
            sinks.pop(sink, None)
            if not sinks:
                del groups[convert]
        if not groups:
            del self.sinks[name]
            self.on_last(name)


class MarketFeeds:
    """The feeds and user channels the gateway's streams need, on one pub/sub connection."""

    def __init__(self, redis: Redis, keys: Keys, markets: dict[str, Market]) -> None:
        self.redis = redis
        self.keys = keys
        self.markets = markets
        self.counters = FeedCounters()
        self.bus = connect_bus(redis, keys.prefix + f"grpc.control.{uuid.uuid4().hex[:12]}")
        self.hub = StreamHub(self._first, self._last)
        self.feeds: dict[str, SymbolFeed] = {}
        self.ready: dict[str, asyncio.Event] = {}
        self.names_of_symbol: dict[str, set[str]] = {}
        self.symbol_of_name: dict[str, str] = {}
        self.user_of_name: dict[str, int] = {}
        self.names_of_user: dict[int, set[str]] = {}
        self.tasks: set[asyncio.Task[Any]] = set()

    async def run(self) -> None:
        """The pub/sub reader, the depth-period clock and the ticker loop, until cancelled. When
        one fails (Redis lost), every stream is cut off and all starts again a second later."""
        while True:
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(self.bus.run())
                    group.create_task(self._clock())
                    group.create_task(self._tickers())
            except* Exception:
                log.exception("gRPC stream source failed; streams cut off, restarting")
            finally:
                for task in list(self.tasks):
                    task.cancel()
            self._reset()
            await asyncio.sleep(1.0)

    def _reset(self) -> None:
        """End every stream and forget every feed and channel (a new pub/sub connection)."""
        for sink in self.hub.all_sinks():
            sink.cut_off()
        self.hub.sinks.clear()
        for ready in self.ready.values():
            ready.set()  # streams still waiting to go live find their sink cut off
        self.feeds.clear()
        self.ready.clear()
        self.names_of_symbol.clear()
        self.symbol_of_name.clear()
        self.user_of_name.clear()
        self.names_of_user.clear()
        self.bus = connect_bus(self.redis, self.keys.prefix + f"grpc.control.{uuid.uuid4().hex[:12]}")

    @contextlib.asynccontextmanager
    async def market_stream(self, symbol: str, name: str, convert: Convert) -> AsyncIterator[Sink]:
        """A sink of market stream `name` (a ws stream name of `symbol`), live once this yields:
        the md.{SYMBOL} subscription is confirmed."""
        sink = Sink()
        self.symbol_of_name[name] = symbol
        self.hub.attach(name, sink, convert)
        try:
            await self.ready[symbol].wait()
            yield sink
        finally:
            self.hub.detach(name, sink, convert)

    def user_stream(self, user_id: int, convert: Convert) -> contextlib.AbstractAsyncContextManager[Sink]:
        """A sink of the user's executionReport payloads, live once this is entered."""
        return self._user_sink(f"user:{user_id}", user_id, convert)

    def account_stream(self, user_id: int, convert: Convert) -> contextlib.AbstractAsyncContextManager[Sink]:
        """A sink of the user's executionReport and outboundAccountPosition payloads, in the order
        settlement published them, live once this is entered."""
        return self._user_sink(f"account:{user_id}", user_id, convert)

    def user_data_stream(
        self, user_id: int, convert: Convert
    ) -> contextlib.AbstractAsyncContextManager[Sink]:
        """A sink of every user-data payload of the user (executionReport, outboundAccountPosition,
        listStatus), in the order settlement published them, live once this is entered."""
        return self._user_sink(f"userdata:{user_id}", user_id, convert)

    @contextlib.asynccontextmanager
    async def _user_sink(self, name: str, user_id: int, convert: Convert) -> AsyncIterator[Sink]:
        sink = Sink()
        self.user_of_name[name] = user_id
        self.hub.attach(name, sink, convert)
        try:
            await self.ready[self.keys.user_channel(user_id)].wait()
            yield sink
        finally:
            self.hub.detach(name, sink, convert)

    # ------------------------------------------------------------------ subscriptions

    def _first(self, name: str) -> None:
        user_id = self.user_of_name.get(name)
        if user_id is not None:
            names = self.names_of_user.setdefault(user_id, set())
            names.add(name)
            if len(names) == 1:
                channel = self.keys.user_channel(user_id)
                ready = self.ready[channel] = asyncio.Event()
                self.bus.subscribe(channel, lambda data: self._on_user(user_id, data), ready.set)
            return
        symbol = self.symbol_of_name[name]
        self.names_of_symbol.setdefault(symbol, set()).add(name)
        if symbol not in self.feeds:
            self._start_feed(self.markets[symbol])

    def _last(self, name: str) -> None:
        user_id = self.user_of_name.pop(name, None)
        if user_id is not None:
            names = self.names_of_user.get(user_id)
            if names is not None:
                names.discard(name)
                if not names:
                    del self.names_of_user[user_id]
                    channel = self.keys.user_channel(user_id)
                    self.ready.pop(channel, None)
                    self.bus.unsubscribe(channel)
            return
        symbol = self.symbol_of_name.pop(name)
        names = self.names_of_symbol[symbol]
        names.discard(name)
        if not names:
            del self.names_of_symbol[symbol]
            self.feeds.pop(symbol, None)
            self.ready.pop(symbol, None)
            self.bus.unsubscribe(self.keys.market_data(symbol))

    def _start_feed(self, market: Market) -> None:
        feed = SymbolFeed(market, self.hub, self.counters, DEPTH_LEVELS, self._request_snapshot)
        self.feeds[market.symbol] = feed
        ready = self.ready[market.symbol] = asyncio.Event()

        def subscribed() -> None:
            feed.on_subscribed()
            ready.set()

        self.bus.subscribe(self.keys.market_data(market.symbol), feed.on_md, subscribed)
        self._spawn(self._seed(feed))

    def _on_user(self, user_id: int, data: bytes) -> None:
        """user.{uid} carries a JSON array of user-data payloads: every one goes to
        `userdata:{uid}`, executionReports to `user:{uid}` and `account:{uid}` too,
        outboundAccountPositions and balanceUpdates to `account:{uid}`."""
        try:
            items = json.loads(data)
        except ValueError:
            log.warning("user %d: not JSON: %r", user_id, data[:200])
            return
        for item in items if isinstance(items, list) else [items]:
            if not isinstance(item, dict):
                continue
            kind = item.get("e")
            self.hub.deliver(f"userdata:{user_id}", item)
            if kind == "executionReport":
                self.hub.deliver(f"user:{user_id}", item)
                self.hub.deliver(f"account:{user_id}", item)
            elif kind in ("outboundAccountPosition", "balanceUpdate"):
                self.hub.deliver(f"account:{user_id}", item)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _request_snapshot(self, feed: SymbolFeed) -> None:
        self._spawn(
            load_depth_snapshot(self.redis, self.keys, feed, lambda: self.feeds.get(feed.symbol) is feed)
        )

    async def _seed(self, feed: SymbolFeed) -> None:
        """Seed the 24h statistics from evt:{SYMBOL} (from the trades seen if it cannot be read)."""
        try:
            history = await recent_trades(
                self.redis, self.keys.events(feed.symbol), now_ms() - DAY, SEED_MAX_ENTRIES
            )
        except RedisError as exc:
            log.warning("%s: no trade history (%s)", feed.symbol, exc)
            history = []
        feed.seed(history)

    # ------------------------------------------------------------------ periodic work

    async def _clock(self) -> None:
        """Every 100 ms end the 100 ms depth periods; every 10th tick the 1000 ms ones."""
        tick = 0
        while True:
            await asyncio.sleep(0.1)
            tick += 1
            now = now_ms()
            for feed in list(self.feeds.values()):
                feed.flush_depth(100, now)
                if tick % 10 == 0:
                    feed.flush_depth(1000, now)

    async def _tickers(self) -> None:
        """Once a second, the 24h ticker of each market with a ticker stream that has traded."""
        while True:
            await asyncio.sleep(1.0)
            now = now_ms()
            for feed in list(self.feeds.values()):
                if feed.wants_ticker() and feed.stats_ready:
                    ticker = ticker_24h(feed.stats, now)
                    if ticker is not None:
                        feed.publish_tickers(now, ticker)
