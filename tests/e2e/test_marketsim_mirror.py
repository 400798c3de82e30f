"""The simulation mirroring a live venue: a local WebSocket server (here, in the test) serves
Binance's raw `btcusdt@aggTrade` stream, replaying the sample tool's recorded aggTrades at
FEED_SPEED times real time; the exchange's mid (GET /api/v3/ticker/bookTicker) follows the
stream's last price within TOLERANCE_BPS, before the server drops every connection, while it is
gone (the last price holds; once the source is stale, the spread widens and the metric says so),
and after it comes back (the simulation reconnects by itself, and the spread narrows again)."""

import asyncio
import json
import statistics
import threading
import time
from collections.abc import Coroutine, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from launcher.stack import Stack, free_port, running_stack
from marketsim.binance_files import AggTrade, read_agg_trades, replay_files
from marketsim.sample import main as sample_main
from tests import services
from tests.e2e.sim_sources import THIN_MIX

SYMBOL = "BTCUSDT"
FEED_SPEED = 10.0
OUTAGE_S = 9.0
STALE_S = 3.0
STALE_SPREAD_MULTIPLE = 4.0
# The maker's spread: its quotes are at least this far apart (more by the grid's rounding).
MAKER_SPREAD_BPS = float(json.loads(THIN_MIX)["makers"][0]["spread_bps"])
WIDE_BPS = STALE_SPREAD_MULTIPLE * MAKER_SPREAD_BPS
WATCH_S = 20.0
SAMPLE_EVERY_S = 0.25
# 90% of the samples within this distance of the source: the maker re-quotes every 0.5 s (the
# source moves about 5 bps a second at 10x), plus the 1 bps half spread and the request's time.
TOLERANCE_BPS = 12.0


class ReplayingVenue:
    """A WebSocket server replaying `trades` as `<symbol>@aggTrade` events at `speed`x in its own
    thread and event loop; `drop()` closes every connection and stops listening, `restore()`
    listens again on the same port. The recorded clock runs on while the server is down."""

    def __init__(self, trades: list[AggTrade], speed: float) -> None:
        self.trades = trades
        self.speed = speed
        self.port = free_port()
        self.price = trades[0].price
        self.connections: set[ServerConnection] = set()
        self.accepted = 0
        self.loop = asyncio.new_event_loop()
        self.server: Server | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/{{symbol}}@aggTrade"

    def start(self) -> None:
        self.thread.start()
        self._call(self._listen())
        self.player = asyncio.run_coroutine_threadsafe(self._play(), self.loop)

    def drop(self) -> None:
        self._call(self._close())

    def restore(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        self.player.cancel()
        self._call(self._close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    async def _listen(self) -> None:
        self.server = await serve(self._client, "127.0.0.1", self.port)

    async def _close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def _client(self, connection: ServerConnection) -> None:
        assert connection.request is not None and connection.request.path == "/ws/btcusdt@aggTrade"
        self.accepted += 1
        self.connections.add(connection)
        try:
            await connection.wait_closed()
        finally:
            self.connections.discard(connection)

    async def _play(self) -> None:
        start, first = time.monotonic(), self.trades[0].time
        for trade in self.trades:
            await asyncio.sleep(max(0.0, start + (trade.time - first) / self.speed - time.monotonic()))
            self.price = trade.price
            now = round(time.time() * 1000)
            event = {
                "e": "aggTrade", "E": now, "s": SYMBOL, "a": trade.agg_id, "p": str(trade.price),
                "q": str(trade.qty), "f": trade.agg_id, "l": trade.agg_id, "T": now,
                "m": trade.is_buyer_maker, "M": True,
            }  # fmt: skip
            message = json.dumps(event)
            for connection in list(self.connections):
                try:
                    await connection.send(message)
                except ConnectionClosed:
                    self.connections.discard(connection)


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayingVenue]:
    out: Path = tmp_path_factory.mktemp("mirror")
    assert (
        sample_main(["--symbol", SYMBOL, "--hours", "1", "--trades-per-second", "2", "--out", str(out)]) == 0
    )
    feed = ReplayingVenue(list(read_agg_trades(replay_files(out, SYMBOL, "aggTrades")[0])), FEED_SPEED)
    feed.start()
    yield feed
    feed.stop()


@pytest.fixture(scope="module")
def mirror_stack(pg_dsn: str, redis_url: str, venue: ReplayingVenue) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(
            pg_dsn,
            prefix,
            [SYMBOL],
            with_marketsim=True,
            with_metrics=True,
            SIM_MIX=THIN_MIX,
            SIM_SKEW_BPS="0",
            SIM_PRICE_SOURCE="mirror",
            SIM_MIRROR_URL=venue.url,
            SIM_MIRROR_STALE_SECONDS=str(STALE_S),
            SIM_MIRROR_STALE_SPREAD_MULTIPLE=str(STALE_SPREAD_MULTIPLE),
            SIM_MAX_BACKOFF_SECONDS="2",
        ) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def best(http: httpx.Client) -> tuple[Decimal, Decimal] | None:
    book = http.get("/api/v3/ticker/bookTicker", params={"symbol": SYMBOL}).json()
    bid, ask = Decimal(book["bidPrice"]), Decimal(book["askPrice"])
    return (bid, ask) if bid > 0 and ask > 0 else None


def mid(http: httpx.Client) -> Decimal | None:
    top = best(http)
    return (top[0] + top[1]) / 2 if top else None


def spread_bps(http: httpx.Client) -> float | None:
    top = best(http)
    return float((top[1] - top[0]) / ((top[0] + top[1]) / 2)) * 10_000 if top else None


def spreads_bps(http: httpx.Client, seconds: float) -> list[float]:
    out: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        spread = spread_bps(http)
        if spread is not None:
            out.append(spread)
        time.sleep(SAMPLE_EVERY_S)
    return out


def source_stale(stack: Stack) -> float:
    """exchange_marketsim_source_stale{symbol=SYMBOL} of the simulation's /metrics."""
    metrics = httpx.get(f"{stack.probe_urls['marketsim']}/metrics", timeout=30).text
    for line in metrics.splitlines():
        if line.startswith(f'exchange_marketsim_source_stale{{symbol="{SYMBOL}"}}'):
            return float(line.split()[-1])
    raise AssertionError(f"no exchange_marketsim_source_stale for {SYMBOL} in the metrics")


def distances_bps(http: httpx.Client, venue: ReplayingVenue, seconds: float) -> list[float]:
    """|mid - source price| in bps, sampled every SAMPLE_EVERY_S for `seconds`."""
    out: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        source = venue.price
        here = mid(http)
        if here is not None:
            out.append(float(abs(here / source - 1)) * 10_000)
        time.sleep(SAMPLE_EVERY_S)
    return out


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def wait_for_quotes(http: httpx.Client, venue: ReplayingVenue, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        here = mid(http)
        if here is not None and abs(here / venue.price - 1) * 10_000 < TOLERANCE_BPS:
            return
        time.sleep(0.5)
    raise AssertionError(f"the mid never came near the source ({mid(http)} vs {venue.price})")


def test_the_mid_follows_the_source_through_a_disconnect(mirror_stack: Stack, venue: ReplayingVenue) -> None:
    with httpx.Client(base_url=mirror_stack.url, timeout=30) as http:
        wait_for_quotes(http, venue, 90.0)
        before = distances_bps(http, venue, WATCH_S)
        narrow = statistics.median(spreads_bps(http, 3.0))
        assert source_stale(mirror_stack) == 0.0

        venue.drop()
        held = venue.price
        time.sleep(1.0)  # the last quotes re-centred on the last price
        during: list[float] = []
        spreads: list[tuple[float, float]] = []  # (seconds since the drop, spread bps)
        dropped = time.monotonic() - 1.0
        gone_until = dropped + 1.0 + OUTAGE_S
        while time.monotonic() < gone_until:
            top = best(http)
            if top is not None:
                here = (top[0] + top[1]) / 2
                during.append(float(abs(here / held - 1)) * 10_000)
                spreads.append((time.monotonic() - dropped, float((top[1] - top[0]) / here) * 10_000))
            time.sleep(SAMPLE_EVERY_S)
        moved = float(abs(venue.price / held - 1)) * 10_000
        stale_metric = source_stale(mirror_stack)

        venue.restore()
        reconnected = venue.accepted
        deadline = time.monotonic() + 30.0
        while venue.accepted == reconnected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert venue.accepted > reconnected, "the simulation did not reconnect"
        wait_for_quotes(http, venue, 10.0)
        after = distances_bps(http, venue, WATCH_S)
        narrow_again = statistics.median(spreads_bps(http, 3.0))
        recovered_metric = source_stale(mirror_stack)

    early = [s for t, s in spreads if t < STALE_S - 0.5]
    late = [s for t, s in spreads if t > STALE_S + 3.0]  # stale, then noticed (1 s) and re-quoted
    print(
        f"\nmid - source, 90th percentile: before {p90(before):.1f} bps, after {p90(after):.1f} bps; "
        f"while gone, from the held price {max(during):.1f} bps (the source moved {moved:.1f} bps); "
        f"median spread: before {narrow:.1f} bps, gone < {STALE_S:g} s {statistics.median(early):.1f}, "
        f"stale {statistics.median(late):.1f}, back {narrow_again:.1f}"
    )
    assert p90(before) < TOLERANCE_BPS
    assert p90(after) < TOLERANCE_BPS
    assert max(during) < TOLERANCE_BPS
    # Stale: the spread widens by the multiple (the maker's own, around the held price), and says so.
    assert narrow < WIDE_BPS / 2 and statistics.median(early) < WIDE_BPS / 2
    assert statistics.median(late) >= WIDE_BPS * 0.99
    assert stale_metric == 1.0
    # Back: the spread narrows again and the metric is 0.
    assert narrow_again < WIDE_BPS / 2
    assert recovered_metric == 0.0
    log = (mirror_stack.log_dir / "marketsim.log").read_text()
    assert "mirror source lost" in log and "holding the last price" in log
    assert "price source stale: spreads 4x wider" in log and "price source trading again" in log
