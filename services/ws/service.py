"""The WebSocket tier's state in one process: clients, their subscriptions, the market feeds
and user channels those need, and the periodic work (depth periods, klines, tickers, sweeps).

Stateless across replicas: everything here is rebuilt from Redis (depth:{SYMBOL}, md.{SYMBOL},
evt:{SYMBOL}, user.{uid}, listen keys), and payload ids come from the engine's seq and trade ids,
so every replica sends the same ids.
"""

import asyncio
import functools
import json
import logging
import time
import uuid
from collections.abc import Coroutine
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from websockets.asyncio.server import ServerConnection

from exchange_core import listenkeys
from exchange_core.clock import now_ms
from exchange_core.keys import Keys
from exchange_core.markets import Market
from exchange_core.telemetry import redis_ready
from marketdata.bus import connect_bus
from marketdata.candles import DAY
from marketdata.feed import SymbolFeed
from marketdata.payloads import listen_key_expired
from marketdata.seed import recent_trades
from marketdata.snapshots import load_depth_snapshot
from marketdata.streams import StreamSpec, parse_stream
from marketdata.tickers import Ticker24h, TickerSource, ticker_24h
from ws.alltickers import publish_tickers
from ws.fanout import Client, Counters, Hub
from ws.requests import INVALID_REQUEST, Request, RequestError, result_reply
from ws.settings import WsSettings
from ws.telemetry import ws_registry

log = logging.getLogger("ws")

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008


class WsService:
    def __init__(
        self,
        settings: WsSettings,
        redis: Redis,
        markets: dict[str, Market],
        ticker_source: TickerSource | None = None,
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.markets = markets
        self.keys = Keys(settings.key_prefix)
        self.counters = Counters()
        self.hub = Hub(settings.max_pending_bytes, self.counters, self._stream_started, self._stream_ended)
        self.bus = connect_bus(redis, f"{settings.key_prefix}ws.control.{uuid.uuid4().hex[:12]}")
        self.ticker_source: TickerSource = ticker_source or self.ticker_from_trades_seen
        self.clients: dict[int, Client] = {}
        self.next_client_id = 1
        self.specs: dict[str, StreamSpec] = {}
        self.feeds: dict[str, SymbolFeed] = {}
        self.symbol_streams: dict[str, int] = {}
        self.idle_since: dict[str, float] = {}
        self.listen_keys: dict[str, int] = {}
        self.user_keys: dict[int, set[str]] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.registry = ws_registry(self)

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        """The pub/sub reader, the period clock, the ticker loop and the sweeper, until one
        fails (which stops the process) or they are cancelled."""
        await asyncio.gather(self.bus.run(), self._clock(), self._tickers(), self._sweeper())

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def ready(self) -> bool:
        return await redis_ready(self.redis)

    # ------------------------------------------------------------------ clients

    def connect(self, conn: ServerConnection, combined: bool) -> Client:
        client = Client(self.next_client_id, conn, combined, self.settings.requests_burst)
        self.next_client_id += 1
        self.clients[client.id] = client
        self.counters.clients += 1
        self.counters.connections += 1
        return client

    def disconnect(self, client: Client) -> None:
        if self.clients.pop(client.id, None) is not None:
            self.hub.remove_all(client)
            self.counters.clients -= 1

    def close(self, client: Client, code: int, reason: str) -> None:
        """Close a client's connection politely (a close frame), in the background."""
        self.counters.closed_by_server += 1
        self.hub.remove_all(client)
        self.spawn(client.conn.close(code, reason))

    async def handle_text(self, client: Client, request: Request) -> None:
        """Serve one parsed request and send its answer; raises RequestError for a bad one."""
        self.counters.requests += 1
        if request.method == "SUBSCRIBE":
            await self.subscribe(client, request.params, request.id)
            result: Any = None
        elif request.method == "UNSUBSCRIBE":
            self.unsubscribe(client, request.params)
            result = None
        elif request.method == "LIST_SUBSCRIPTIONS":
            result = list(client.streams)
        elif request.method == "SET_PROPERTY":
            client.combined = bool(request.params[1])
            result = None
        else:
            result = client.combined
        self.hub.send(client, result_reply(result, request.id))

    async def subscribe(self, client: Client, names: list[str], request_id: int | str | None) -> None:
        """Subscribe `client` to market streams and listen keys, all or none.

        Raises RequestError (code 2) for a name that is neither a stream of a known market nor
        a live listen key, or when the client would pass max_streams_per_connection.
        """
        wanted: dict[str, StreamSpec | None] = {}
        keys: dict[str, int] = {}
        for name in names:
            spec = parse_stream(name, self.markets)
            if spec is not None:
                wanted[spec.name] = spec
                continue
            uid = await listenkeys.user_of(self.redis, self.keys, name)
            if uid is None:
                raise RequestError(INVALID_REQUEST, f"Invalid request: unknown stream or listen key `{name}`",
                                   request_id)  # fmt: skip
            wanted[name] = None
            keys[name] = uid
        fresh = [n for n in wanted if n not in client.streams]
        limit = self.settings.max_streams_per_connection
        if len(client.streams) + len(fresh) > limit:
            raise RequestError(INVALID_REQUEST, f"Invalid request: at most {limit} streams per connection",
                               request_id)  # fmt: skip
        if client.dropped or client.id not in self.clients:
            return
        self.listen_keys.update(keys)
        for name, found in wanted.items():
            if found is not None:
                self.specs[name] = found
        self.hub.add(client, fresh)
        for found in wanted.values():
            if found is not None and not found.all_markets:
                self.feeds[found.symbol].on_subscribe(found)

    def unsubscribe(self, client: Client, names: list[str]) -> None:
        canonical = []
        for name in names:
            spec = parse_stream(name, self.markets)
            canonical.append(spec.name if spec is not None else name)
        self.hub.remove(client, canonical)

    # ------------------------------------------------------------------ streams -> feeds and channels

    def _stream_started(self, name: str) -> None:
        spec = self.specs.get(name)
        if spec is not None:
            for symbol in self._symbols_of(spec):
                feed = self.feeds.get(symbol)
                if feed is not None and spec.all_markets:
                    feed.array_sent.pop(name, None)  # a stream's first array holds every market
                self.symbol_streams[symbol] = self.symbol_streams.get(symbol, 0) + 1
                self.idle_since.pop(symbol, None)
                if symbol not in self.feeds:
                    self._start_feed(self.markets[symbol])
            return
        uid = self.listen_keys[name]
        keys = self.user_keys.setdefault(uid, set())
        if not keys:
            channel = self.keys.user_channel(uid)
            self.bus.subscribe(channel, functools.partial(self._on_user_message, uid))
        keys.add(name)

    def _stream_ended(self, name: str) -> None:
        spec = self.specs.pop(name, None)
        if spec is not None:
            for symbol in self._symbols_of(spec):
                self.symbol_streams[symbol] -= 1
                if not self.symbol_streams[symbol]:
                    del self.symbol_streams[symbol]
                    self.idle_since[symbol] = time.monotonic()
            return
        uid = self.listen_keys.pop(name)
        keys = self.user_keys[uid]
        keys.discard(name)
        if not keys:
            del self.user_keys[uid]
            self.bus.unsubscribe(self.keys.user_channel(uid))

    def _symbols_of(self, spec: StreamSpec) -> list[str]:
        """The markets whose feeds `spec` needs: all of them for an all-market stream."""
        return list(self.markets) if spec.all_markets else [spec.symbol]

    def _start_feed(self, market: Market) -> None:
        feed = SymbolFeed(market, self.hub, self.counters, self.settings.depth_levels, self._request_snapshot)
        self.feeds[market.symbol] = feed
        self.bus.subscribe(self.keys.market_data(market.symbol), feed.on_md, feed.on_subscribed)
        self.spawn(self._seed(feed))

    def _stop_feed(self, symbol: str) -> None:
        self.feeds.pop(symbol, None)
        self.idle_since.pop(symbol, None)
        self.bus.unsubscribe(self.keys.market_data(symbol))

    def _request_snapshot(self, feed: SymbolFeed) -> None:
        self.spawn(
            load_depth_snapshot(self.redis, self.keys, feed, lambda: self.feeds.get(feed.symbol) is feed)
        )

    async def _seed(self, feed: SymbolFeed) -> None:
        """Seed candles and 24h statistics from evt:{SYMBOL}; without it, from the trades seen."""
        since = now_ms() - DAY
        try:
            history = await recent_trades(
                self.redis, self.keys.events(feed.symbol), since, self.settings.seed_max_entries
            )
        except RedisError as exc:
            log.warning("%s: no trade history (%s); candles start from the trades seen", feed.symbol, exc)
            history = []
        feed.seed(history)

    def _on_user_message(self, uid: int, data: bytes) -> None:
        """user.{uid} carries a JSON array of ready user-data payloads: one frame each."""
        keys = self.user_keys.get(uid)
        if not keys:
            return
        try:
            items = json.loads(data)
        except ValueError:
            log.warning("user.%d: not JSON: %r", uid, data[:200])
            return
        if not isinstance(items, list):
            items = [items]
        for item in items:
            payload = json.dumps(item, separators=(",", ":")).encode()
            self.counters.user_messages += 1
            for key in keys:
                self.hub.publish(key, payload)

    # ------------------------------------------------------------------ periodic work

    async def _clock(self) -> None:
        """Every 100 ms: end the 100 ms depth periods and send the 100 ms partial depths; every
        10th tick the same for 1000 ms, and candles."""
        loop = asyncio.get_running_loop()
        tick = 0
        deadline = loop.time()
        while True:
            deadline += 0.1
            delay = deadline - loop.time()
            if delay < -1.0:
                deadline = loop.time()
            await asyncio.sleep(max(0.0, delay))
            tick += 1
            now = now_ms()
            second = tick % 10 == 0
            for feed in list(self.feeds.values()):
                feed.flush_depth(100, now)
                feed.publish_partials(100)
                if second:
                    feed.flush_depth(1000, now)
                    feed.publish_partials(1000)
                    feed.publish_klines(now)

    async def _tickers(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            await publish_tickers(self.hub, list(self.feeds.values()), self.ticker_source, now_ms())

    async def ticker_from_trades_seen(self, symbol: str, now: int) -> Ticker24h | None:
        """The default TickerSource: the trades this process saw (seeded from evt:{SYMBOL})."""
        feed = self.feeds.get(symbol)
        if feed is None or not feed.stats_ready:
            return None
        return ticker_24h(feed.stats, now)

    async def _sweeper(self) -> None:
        """Once a second: close idle and too old connections, stop feeds nobody needed for
        feed_linger_s; every listen_key_check_s: close the streams of expired listen keys."""
        s = self.settings
        next_key_check = next_log = time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for client in list(self.clients.values()):
                if client.dropped:
                    continue
                if now - client.connected_at > s.max_connection_age_s:
                    self.close(client, CLOSE_NORMAL, "connection too old")
                elif not client.streams and now - client.last_request > s.idle_timeout_s:
                    self.close(client, CLOSE_NORMAL, "idle")
            for symbol, since in list(self.idle_since.items()):
                if now - since > s.feed_linger_s:
                    self._stop_feed(symbol)
            if self.listen_keys and now >= next_key_check:
                next_key_check = now + s.listen_key_check_s
                await self._expire_listen_keys()
            if s.stats_log_s and now >= next_log:
                next_log = now + s.stats_log_s
                log.info("counters %s", self.counters)

    async def _expire_listen_keys(self) -> None:
        names = list(self.listen_keys)
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.exists(self.keys.listen_key(name))
        alive = await pipe.execute()
        now = now_ms()
        for name, exists in zip(names, alive, strict=True):
            if exists:
                continue
            clients = list(self.hub.subscribers.get(name, {}))
            payload = listen_key_expired(now, name)
            self.hub.publish(name, payload)
            for client in clients:
                self.close(client, CLOSE_NORMAL, "listen key expired")
