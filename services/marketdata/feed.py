"""One market's feed: md.{SYMBOL} messages turned into Binance streams.

Contract with the engine (events.proto, MarketData): one message per engine batch, first_seq..
last_seq cover its events, consecutive messages chain (first_seq = previous last_seq + 1), and
depth:{SYMBOL} is written in the same transaction as every md message that changed the book.
Hence, once subscribed to md.{SYMBOL}, a snapshot read from depth:{SYMBOL} at update id L and the
first message received after it with first_seq F > L + 1 only miss batches that changed no level:
the book at L is the book at F - 1. A gap later on (a message lost) is repaired the same way:
the book is loaded again from the snapshot, and the levels that differ from the local book are
sent as part of the next depth diff, so that the diff streams stay gapless (U = previous u + 1).

The feed does no I/O: it asks for a snapshot through `request_snapshot` and is handed it with
`on_snapshot`; it writes to clients through the hub.
"""

import dataclasses
import enum
import logging
from collections.abc import Callable

from google.protobuf.message import DecodeError

from exchange_core.clock import now_ms
from exchange_core.markets import Market
from exchange_proto import events_pb2 as epb
from marketdata.book import Level, LocalBook, Snapshot
from marketdata.candles import INTERVALS, CandleSeries, moves_with_zone
from marketdata.payloads import Formatter
from marketdata.publisher import FeedCounters, Publisher
from marketdata.streams import (
    KLINE_ZONE_OFFSET,
    PARTIAL_LEVELS,
    SPEEDS_MS,
    WINDOWS,
    Kind,
    StreamSpec,
    depth_name,
    kline_name,
    partial_name,
    window_name,
)
from marketdata.tickers import RollingStats, Ticker24h, average_volumes, ticker_window
from matching.enums import Side

log = logging.getLogger("marketdata.feed")

_SELL = int(Side.SELL)


class SyncState(enum.Enum):
    WAITING = 1  # for the md.{SYMBOL} subscription to be confirmed
    SYNCING = 2  # for the depth snapshot
    LIVE = 3


class DiffWindow:
    """The level changes of one depth-diff period, covering update ids first..last."""

    __slots__ = ("asks", "bids", "first", "last")

    def __init__(self) -> None:
        self.first = self.last = 0
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}

    def add(
        self, first: int, last: int, bids: list[Level] | dict[int, int], asks: list[Level] | dict[int, int]
    ) -> None:
        if not self.first:
            self.first = first
        self.last = last
        self.bids.update(bids)
        self.asks.update(asks)

    def take(self) -> tuple[int, int, list[Level], list[Level]]:
        """(U, u, bids best first, asks best first), and start a new period."""
        out = (self.first, self.last, sorted(self.bids.items(), reverse=True), sorted(self.asks.items()))
        self.first = self.last = 0
        self.bids, self.asks = {}, {}
        return out


TradeRow = tuple[int, int, int, int, int, int, bool]  # seq, ts, trade id, price, qty, quote, taker buys


class SymbolFeed:
    def __init__(
        self,
        market: Market,
        hub: Publisher,
        counters: FeedCounters,
        depth_levels: int,
        request_snapshot: Callable[["SymbolFeed"], None],
    ) -> None:
        self.market = market
        self.symbol = market.symbol
        self.fmt = Formatter(market)
        self.hub = hub
        self.counters = counters
        self.depth_levels = depth_levels
        self.request_snapshot = request_snapshot
        lower = self.symbol.lower()
        self.trade_name = f"{lower}@trade"
        self.agg_name = f"{lower}@aggTrade"
        self.book_ticker_name = f"{lower}@bookTicker"
        self.ticker_name = f"{lower}@ticker"
        self.mini_ticker_name = f"{lower}@miniTicker"
        self.depth_names = {speed: depth_name(self.symbol, speed) for speed in SPEEDS_MS}
        self.partial_names = {
            speed: [(n, partial_name(self.symbol, n, speed)) for n in PARTIAL_LEVELS] for speed in SPEEDS_MS
        }
        self.window_names = {w: window_name(self.symbol, w) for w in WINDOWS}
        self.avg_price_name = f"{lower}@avgPrice"
        self.state = SyncState.WAITING
        self.book: LocalBook | None = None
        self.pending: list[epb.MarketData] = []
        self.windows = {speed: DiffWindow() for speed in SPEEDS_MS}
        self.top: tuple[Level | None, Level | None] = (None, None)
        self.trades_seq = 0
        self.candles = {i: CandleSeries(i) for i in INTERVALS}
        # Kline streams in KLINE_ZONE have series of their own where the zone moves the
        # boundaries; elsewhere they are the UTC series' streams under a second name.
        self.zoned_candles = {
            i: CandleSeries(i, KLINE_ZONE_OFFSET) for i in INTERVALS if moves_with_zone(i, KLINE_ZONE_OFFSET)
        }
        self.kline_outputs = self._kline_outputs()
        self.array_sent: dict[str, Ticker24h] = {}
        self.stats = RollingStats()
        self.stats_ready = False
        self.stats_seq = 0
        self.stats_backlog: list[TradeRow] = []

    def _kline_outputs(self) -> list[tuple[str, CandleSeries, tuple[str, ...]]]:
        """(interval, series, the stream names its candles go to) for every candle series."""
        out = []
        for interval, series in self.candles.items():
            names = [kline_name(self.symbol, interval, False)]
            if interval not in self.zoned_candles:
                names.append(kline_name(self.symbol, interval, True))
            out.append((interval, series, tuple(names)))
        for interval, series in self.zoned_candles.items():
            out.append((interval, series, (kline_name(self.symbol, interval, True),)))
        return out

    # ------------------------------------------------------------------ sync

    def on_subscribed(self) -> None:
        """The md.{SYMBOL} subscription is confirmed: every later message will arrive."""
        if self.state is SyncState.WAITING:
            self.state = SyncState.SYNCING
            self.request_snapshot(self)

    def on_snapshot(self, raw: bytes | None) -> None:
        """Load the book from depth:{SYMBOL} (`raw`; None when absent), then the messages that
        arrived meanwhile. On a resync, the differences go into the depth diffs."""
        old = self.book
        snap = Snapshot.decode(raw)
        book = LocalBook.from_snapshot(snap, self.depth_levels, old)
        if old is not None:
            book.seq = max(book.seq, old.seq)
            bids, asks = old.changes_to(book)
            if book.seq > old.seq:
                for window in self.windows.values():
                    window.add(old.seq + 1, book.seq, bids, asks)
            elif bids or asks:
                log.warning("%s: snapshot at %d differs from the book at %d", self.symbol, snap.seq, old.seq)
                for window in self.windows.values():
                    if window.first:
                        window.add(window.first, window.last, bids, asks)
        self.book = book
        self.state = SyncState.LIVE
        pending, self.pending = self.pending, []
        first = True
        for i, md in enumerate(pending):
            if md.last_seq <= book.seq:
                continue
            if not first and md.first_seq != book.seq + 1:
                self.counters.md_gaps += 1
                self._resync(pending[i:])
                return
            self._apply(md)
            first = False
        self._publish_top()

    def _resync(self, pending: list[epb.MarketData]) -> None:
        self.counters.resyncs += 1
        self.state = SyncState.SYNCING
        self.pending = pending
        self.request_snapshot(self)

    # ------------------------------------------------------------------ md messages

    def on_md(self, data: bytes) -> None:
        """One md.{SYMBOL} message (a MarketData). One that does not decode is logged and
        skipped: the next message then shows a gap, which a resync repairs."""
        try:
            md = epb.MarketData.FromString(data)
        except DecodeError:
            log.error("%s: undecodable md message (%d bytes)", self.symbol, len(data))
            return
        self.counters.md_messages += 1
        if md.last_seq > self.trades_seq:
            if md.trades:
                self._trades(md)
            self.trades_seq = md.last_seq
        if self.state is not SyncState.LIVE:
            self.pending.append(md)
            return
        book = self.book
        assert book is not None
        if md.last_seq <= book.seq:
            return
        if md.first_seq != book.seq + 1:
            log.warning("%s: md gap: %d after %d, resyncing", self.symbol, md.first_seq, book.seq)
            self.counters.md_gaps += 1
            self._resync([md])
            return
        self._apply(md)
        self._publish_top()
        if book.needs_refill():
            self._resync([])

    def _apply(self, md: epb.MarketData) -> None:
        book = self.book
        assert book is not None
        first = book.seq + 1
        bids = [(lv.price, lv.quantity) for lv in md.bids]
        asks = [(lv.price, lv.quantity) for lv in md.asks]
        book.apply(bids, asks)
        book.seq = md.last_seq
        for window in self.windows.values():
            window.add(first, md.last_seq, bids, asks)

    def _publish_top(self) -> None:
        book = self.book
        if book is None:
            return
        top = (book.best_bid(), book.best_ask())
        if top != self.top:
            self.top = top
            if self.hub.has(self.book_ticker_name):
                self.hub.publish(self.book_ticker_name, self.fmt.book_ticker(book.seq, top[0], top[1]))

    def _trades(self, md: epb.MarketData) -> None:
        hub, fmt = self.hub, self.fmt
        now = now_ms()
        want_trades = hub.has(self.trade_name)
        want_aggs = hub.has(self.agg_name)
        rows: list[TradeRow] = []
        for ev in md.trades:
            t = ev.trade
            if ev.seq <= self.trades_seq:
                continue
            taker_buy = t.taker_side != _SELL
            rows.append((ev.seq, ev.ts, t.trade_id, t.price, t.quantity, t.quote_quantity, taker_buy))
            if want_trades:
                hub.publish(
                    self.trade_name, fmt.trade(now, t.trade_id, t.price, t.quantity, ev.ts, not taker_buy)
                )
        if want_aggs:
            self._agg_trades(now, md)
        if self.stats_ready:
            self._count(rows, live=True)
        else:
            self.stats_backlog += rows

    def _agg_trades(self, now: int, md: epb.MarketData) -> None:
        """One aggTrade per run of fills of one taker order at one price; its id is the first
        fill's trade id (the same on every replica)."""
        run: list[epb.Event] = []
        for ev in md.trades:
            if ev.seq <= self.trades_seq:
                continue
            t = ev.trade
            if run and (run[0].trade.taker_order_id != t.taker_order_id or run[0].trade.price != t.price):
                self._publish_agg(now, run)
                run = []
            run.append(ev)
        if run:
            self._publish_agg(now, run)

    def _publish_agg(self, now: int, run: list[epb.Event]) -> None:
        first, last = run[0], run[-1]
        t = first.trade
        qty = sum(ev.trade.quantity for ev in run)
        payload = self.fmt.agg_trade(now, t.trade_id, t.price, qty, t.trade_id, last.trade.trade_id, last.ts,
                                     t.taker_side == _SELL)  # fmt: skip
        self.hub.publish(self.agg_name, payload)

    # ------------------------------------------------------------------ candles and 24h stats

    def seed(self, history: list[TradeRow]) -> None:
        """Count earlier trades (ascending seq) into candles and stats, then those that arrived
        while they were read; from now on trades are counted as they come."""
        self._count(history, live=False)
        backlog, self.stats_backlog = self.stats_backlog, []
        self._count(backlog, live=False)
        for _, series, _ in self.kline_outputs:
            series.take_closed()
            series.dirty = True
        self.stats_ready = True

    def _count(self, rows: list[TradeRow], live: bool) -> None:
        stats, candles = self.stats, [series for _, series, _ in self.kline_outputs]
        for seq, ts, trade_id, price, qty, quote, taker_buy in rows:
            if seq <= self.stats_seq:
                continue
            self.stats_seq = seq
            stats.add_trade(ts, price, qty, quote, trade_id)
            for series in candles:
                series.add_trade(ts, price, qty, quote, trade_id, taker_buy)
        if live:
            self._publish_closed(now_ms())

    def _publish_closed(self, now: int) -> None:
        hub, fmt = self.hub, self.fmt
        for interval, series, names in self.kline_outputs:
            if series.closed:
                wanted = [name for name in names if hub.has(name)]
                for candle in series.take_closed():
                    if wanted:
                        payload = fmt.kline(now, interval, candle, True)
                        for name in wanted:
                            hub.publish(name, payload)

    def on_subscribe(self, spec: StreamSpec) -> None:
        """A client subscribed to `spec`: a kline stream sends its current candle at the next tick."""
        if spec.kind is Kind.KLINE:
            zoned = self.zoned_candles.get(spec.interval) if spec.zoned else None
            (zoned or self.candles[spec.interval]).dirty = True

    # ------------------------------------------------------------------ periodic output

    def flush_depth(self, speed: int, now: int) -> None:
        """End a depth-diff period: send its diff if any md message arrived in it."""
        window = self.windows[speed]
        if not window.first:
            return
        first, last, bids, asks = window.take()
        name = self.depth_names[speed]
        if self.hub.has(name):
            self.hub.publish(name, self.fmt.depth_update(now, first, last, bids, asks))

    def publish_partials(self, speed: int) -> None:
        """The partial book depth streams of period `speed`."""
        book = self.book
        if book is None or self.state is not SyncState.LIVE:
            return
        top: tuple[list[Level], list[Level]] | None = None
        for levels, name in self.partial_names[speed]:
            if self.hub.has(name):
                if top is None:
                    top = book.top(PARTIAL_LEVELS[-1])
                bids, asks = top
                self.hub.publish(name, self.fmt.partial_depth(book.seq, bids[:levels], asks[:levels]))

    def publish_klines(self, now: int) -> None:
        """Close candles whose time is over, send the changed current candles."""
        if not self.stats_ready:
            return
        outputs = self.kline_outputs
        for _, series, _ in outputs:
            series.roll(now)
        self._publish_closed(now)
        hub, fmt = self.hub, self.fmt
        for interval, series, names in outputs:
            if series.dirty and series.current is not None:
                series.dirty = False
                payload = b""
                for name in names:
                    if hub.has(name):
                        payload = payload or fmt.kline(now, interval, series.current, False)
                        hub.publish(name, payload)

    def wants_ticker(self) -> bool:
        return self.hub.has(self.ticker_name) or self.hub.has(self.mini_ticker_name)

    def publish_tickers(self, now: int, ticker: Ticker24h) -> None:
        bid, ask = self.top
        if self.hub.has(self.ticker_name):
            self.hub.publish(self.ticker_name, self.fmt.ticker(now, ticker, bid, ask))
        if self.hub.has(self.mini_ticker_name):
            self.hub.publish(self.mini_ticker_name, self.fmt.mini_ticker(now, ticker))

    def publish_windows(self, now: int) -> None:
        """The rolling-window tickers and the average price of the trades seen (once a second)."""
        if not self.stats_ready:
            return
        hub = self.hub
        for window, name in self.window_names.items():
            if hub.has(name):
                ticker = ticker_window(self.stats, now, WINDOWS[window])
                if ticker is not None:
                    hub.publish(name, self.fmt.window_ticker(now, window, ticker))
        if hub.has(self.avg_price_name):
            volumes = average_volumes(self.stats, now)
            if volumes is not None:
                payload = self.fmt.avg_price(now, volumes[0], volumes[1], self.stats.last_seen_ms)
                hub.publish(self.avg_price_name, payload)

    def window_ticker(self, now: int, window: str) -> Ticker24h | None:
        """The rolling `window` ticker of the trades seen; None before the feed is seeded or
        without trades in the window."""
        return ticker_window(self.stats, now, WINDOWS[window]) if self.stats_ready else None

    def changed_since_sent(self, array: str, ticker: Ticker24h) -> bool:
        """Does `ticker` differ (its times aside) from the one last put in the all-market stream
        `array`? Remembers it as sent when it does."""
        key = dataclasses.replace(ticker, open_time=0, close_time=0)
        if self.array_sent.get(array) == key:
            return False
        self.array_sent[array] = key
        return True
