"""The settlement worker: settles the events of the markets whose settlement lease it holds.

Workers share the markets (SettlementSettings.workers / worker_index): each takes the leases of
its own markets, and claims any market whose lease nobody has held for `claim_after_ms`.
Per market it reads evt:{SYMBOL} after its position (XREAD, on a connection of the market's own
on one Redis) and per batch runs settle.lua for every affected user: many users a call on one
Redis, one call per user on a cluster (all in one round trip): balances, reservations, order states and
trades, each skipped when the user's last applied seq for the market is not below it, so a batch
applied twice changes nothing, and refused when a worker with a higher fencing token has
settled the market for that user. Then it answers the gateways waiting for those commands (so
a client's next request sees its order and balances), publishes user updates, and records how
far it got (settled:{SYMBOL}, the `settlement` group's position, and the confirmed
reservations out of the market's pending index) through the lease's fence.
A market whose lease is lost is dropped (another worker settles it from the recorded position);
the worker goes on with the others. It also releases orphaned reservations of its markets: ones
whose command never reached an engine.
"""

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

from redis.asyncio import Redis

from exchange_core import redisio, tracing
from exchange_core.clock import now_ms
from exchange_core.keys import Keys
from exchange_core.lease import Command, Fenced, chunked
from exchange_core.lease_telemetry import LeaseCollector
from exchange_core.ledger import Ledger, parse_settled
from exchange_core.linger import LingeredCollector, cpu_pressure, linger
from exchange_core.markets import Market
from exchange_core.partitions import StreamPartitions
from exchange_core.pipelined import PipelinedRedis, ReplyError
from exchange_core.protocol import events_from_protos, reply_for
from exchange_core.protowire import Irregular
from exchange_core.streamids import entry_ms, stream_id
from exchange_core.telemetry import redis_ready
from exchange_proto import events_pb2 as epb
from matching import (
    Event,
    ListStatus,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderDone,
    OrderExpired,
    OrderTriggered,
    Trade,
)
from settlement.batching import byte_bounded
from settlement.effects import Effects
from settlement.orderinfo import OrderInfo
from settlement.reports import account_position
from settlement.scan import read_events
from settlement.settings import SettlementSettings
from settlement.telemetry import SettlementMetrics, settle_spans

log = logging.getLogger("settlement")

_UNSETTLED = frozenset({"book_delta"})  # events with nothing to settle, not decoded
# What settlement.scan leaves to the official parser.
_LEFT_TO_THE_PARSER = (Irregular, UnicodeDecodeError, IndexError, ValueError)
# Events of one order that settlement needs the order's facts for.
_ORDER_EVENTS = (OrderDone, OrderCancelled, OrderExpired, OrderTriggered, OrderAmended)
# Events between two looks at the clock while a batch is decoded and its effects computed.
_CHECK_EVERY = 1_000


class _LoopBudget:
    """How long a batch's computing may hold the event loop: a batch of entries that each carry
    hundreds of commands (an engine catching up) takes seconds of CPU, and the lease keepers
    must renew meanwhile (a 2 s TTL) or the markets are lost and settled again. Shorter ones
    run through, so one market's effects are computed while Redis runs another's scripts (a
    pause at a fixed count of events would interleave the markets' computing instead)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.until = time.monotonic() + seconds

    async def spend(self) -> None:
        """Give the loop back if the budget is spent (then it starts again)."""
        if time.monotonic() >= self.until:
            await asyncio.sleep(0)
            self.until = time.monotonic() + self.seconds


class SettlementService:
    def __init__(self, settings: SettlementSettings, redis: Redis, markets: dict[str, Market]) -> None:
        self.settings = settings
        self.redis = redis
        self.markets = markets
        self.keys = Keys(settings.key_prefix)
        self.pipelined = PipelinedRedis.like(redis)
        self.ledger = Ledger(redis, self.keys, self.pipelined)
        self.known: dict[str, dict[int, OrderInfo]] = {s: {} for s in markets}
        self.streams = {self.keys.events(s): s for s in markets}
        self.decimals = {m.base.name: m.base.decimals for m in markets.values()} | {
            m.quote.name: m.quote.decimals for m in markets.values()
        }
        self.applied_batches = 0
        self.next_sweep = 0.0
        self.metrics = SettlementMetrics(markets)
        self.partitions = StreamPartitions(
            redis, self.keys, list(markets), "settlement", settings.group, settings
        )
        self.metrics.registry.register(LeaseCollector(self.partitions.leases.values))
        pressure = cpu_pressure(settings)  # one reading for every market's loop
        self.lingers = {s: linger(settings, pressure) for s in markets}
        self.metrics.registry.register(LingeredCollector("exchange_settlement_lingered_reads", self.lingers))
        self.scripts_loaded = False

    def reset(self) -> None:
        """Forget cached order facts and the markets held: after a Redis restart that lost its
        last writes, order ids may be handed out again. The next `run()` claims its markets again
        and settles each from its recorded position."""
        self.known = {s: {} for s in self.markets}
        self.scripts_loaded = False
        for symbol in self.partitions.held():
            self.partitions.drop(symbol)

    async def claim(self) -> list[str]:
        """Take the settlement leases this worker may take now (PartitionSettings); returns the
        markets taken."""
        if not self.scripts_loaded:
            await self.ledger.load_scripts()
            await self.pipelined.connect()  # before any batch: not while markets compute theirs
            self.scripts_loaded = True
        taken = await self.partitions.claim()
        for symbol in taken:
            self.known[symbol] = {}  # orders may have changed under another worker
        return taken

    async def run(self, stop: asyncio.Event) -> None:
        """Settle the held markets, each in a task of its own (`settle_market`: one market's
        effects are computed while Redis runs another's scripts), until `stop`; claim markets
        and drop lost ones every `lease_poll_ms`. A market's failure other than a fence stops
        every market and propagates (a batch cut short is read again: settle.lua applies its
        effects once)."""
        partitions, poll_s = self.partitions, self.settings.lease_poll_ms / 1000
        next_claim = 0.0
        markets: dict[str, asyncio.Task[None]] = {}
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                if time.monotonic() >= next_claim:
                    await self.claim()
                    next_claim = time.monotonic() + poll_s
                for symbol in partitions.drop_lost():
                    self.known[symbol] = {}
                for symbol, task in list(markets.items()):
                    if task.done():
                        del markets[symbol]
                        task.result()  # raises its failure
                    elif symbol not in partitions.positions:
                        del markets[symbol]
                        task.cancel()
                for symbol in partitions.positions:
                    if symbol not in markets:
                        markets[symbol] = asyncio.create_task(self.settle_market(symbol))
                if time.monotonic() >= self.next_sweep:
                    await self.sweep_orphans()
                    self.next_sweep = time.monotonic() + self.settings.sweep_every_ms / 1000
                wake = min(next_claim, self.next_sweep) - time.monotonic()
                await asyncio.wait(
                    [stopped, *markets.values()], timeout=max(0.0, wake), return_when=asyncio.FIRST_COMPLETED
                )
        finally:
            stopped.cancel()
            for task in markets.values():
                task.cancel()
            await asyncio.gather(stopped, *markets.values(), return_exceptions=True)
            await partitions.release_all()

    async def settle_market(self, symbol: str) -> None:
        """Settle `symbol`'s entries batch after batch while this worker holds it: a read's
        entries, cut into batches of at most `batch_bytes` of events (settlement.batching). A
        read's last write (its replies and position) and the next read go out together, in one
        round trip: the read asks for what follows, so it needs no answer to the write. A batch
        is settled only once the previous one's write has landed (a fenced write ends the
        market's task)."""
        partitions, lease = self.partitions, self.partitions.leases[symbol]
        block = min(self.settings.block_ms, self.settings.lease_poll_ms)
        position = partitions.positions[symbol][0] if symbol in partitions.positions else b""
        landing: asyncio.Future[None] | None = None  # the previous batch's last write
        lingering, last_read = self.lingers[symbol], 0
        try:
            while symbol in partitions.positions and not lease.lost.is_set():
                if wait := lingering.delay(last_read, self.settings.batch_size):
                    await asyncio.sleep(wait)  # saturated CPUs: batch more (exchange_core.linger)
                reading = asyncio.ensure_future(
                    partitions.read({symbol: position}, self.settings.batch_size, block)
                )
                try:
                    if landing is not None:
                        await landing
                        landing = None
                    if partitions.positions.get(symbol, (b"", 0))[0] != position:
                        return  # dropped (and maybe taken again) meanwhile: the main loop decides
                    read = await reading
                finally:
                    reading.cancel()
                last_read = sum(len(entries) for _, entries in read)
                for _, entries in read:
                    for part in byte_bounded(entries, self.settings.batch_bytes):
                        if landing is not None:  # (a read's parts settle one after the other)
                            await landing
                            landing = None
                            if partitions.positions.get(symbol, (b"", 0))[0] != position:
                                return
                        landing = await self.send(symbol, part)
                        position = part[-1][0]
        except Fenced as exc:
            log.warning("%s: %s; leaving the market to its new holder", symbol, exc)
            partitions.drop_fenced(symbol, str(exc))
            self.known[symbol] = {}
        finally:
            if landing is not None:
                landing.cancel()

    async def settle(self, symbol: str, entries: list[redisio.Entry]) -> None:
        """Apply one market's event entries to every affected user, answer their commands and
        ack them (`send`, waiting until its last write has landed)."""
        await (await self.send(symbol, entries))

    async def send(self, symbol: str, entries: list[redisio.Entry]) -> "asyncio.Future[None]":
        """Apply one market's event entries to every affected user (waits for the ledger's
        scripts); then send, without waiting, the user updates and one fenced write of the
        entries' position with the replies to the gateways (so a command is answered only once
        its effects are in the ledger, and only by the worker that still holds the market).
        Returns the future of that write: raises Fenced when the lease passed on."""
        started = time.perf_counter()
        start_ns = time.time_ns()
        events: list[Event] = []
        batches: list[epb.EventBatch] = []
        budget = _LoopBudget(self.settings.lease_renew_ms / 1000)
        check_at = _CHECK_EVERY
        for _, fields in entries:
            data = fields[b"e"]
            batch = epb.EventBatch.FromString(data)  # (its command refs: the answers, the spans)
            batches.append(batch)
            try:
                read_events(data, events)  # straight from the bytes (settlement.scan)
            except _LEFT_TO_THE_PARSER:
                events += events_from_protos(batch.events, _UNSETTLED)
            if len(events) >= check_at:
                await budget.spend()
                check_at = len(events) + _CHECK_EVERY
        command_id = batches[-1].command_id
        market = self.markets[symbol]
        await self._load_order_infos(symbol, events)
        fx = Effects(market, self.known[symbol])
        apply = fx.apply
        for start in range(0, len(events), _CHECK_EVERY):
            if start:
                await budget.spend()
            for e in events[start : start + _CHECK_EVERY]:
                apply(e)
        ledger, fast, keys = self.ledger, self.pipelined, self.keys
        token = self.partitions.token(symbol)
        users = [
            (user_id, effects, ops) for user_id, effects in fx.users.items() if (ops := effects.finish())
        ]
        # Everything below goes out on the pipelined connection: one write per step. On one
        # Redis settle.lua settles many users per call (Ledger.settle_calls); on a cluster the
        # users' keys are in many slots: one call per user.
        one_redis = fast.ordered_across_slots
        results: list[Any] = []
        if one_redis:
            calls = ledger.settle_calls(symbol, [(u, ops) for u, _, ops in users], token)
            answers = [fast.execute(*call) for call in calls]
            try:
                for answer in answers:
                    results += await answer
            except ReplyError as exc:
                if str(exc).startswith("FENCED"):
                    raise Fenced(str(exc)) from None
                raise
        else:
            settled = [ledger.send_settle(u, symbol, ops, token) for u, _, ops in users]
            refused = ""
            for answer in settled:
                try:
                    results.append((await answer)[0])
                except ReplyError as exc:
                    if not str(exc).startswith("FENCED"):
                        raise
                    refused = str(exc)
            if refused:
                raise Fenced(refused)
        replicas = self.settings.durable_replicas
        if (
            replicas
            and await fast.replicated_everywhere(replicas, self.settings.durable_timeout_ms) < replicas
        ):
            # Not on enough replicas yet: answer nobody and keep the position; the batch is read
            # again (its effects are applied once: settle.lua skips what it has seen).
            raise ConnectionError(f"{symbol}: the ledger's writes are not on {replicas} replica(s)")
        post: list[asyncio.Future[Any]] = []
        ts = events[-1].ts if events else 0
        for (user_id, effects, _), result in zip(users, results, strict=True):
            applied, balances = parse_settled(result)
            if not user_id or not applied:
                continue  # the fee account has no stream; nothing new on a redelivery
            payloads = effects.reports
            if balances:
                payloads.append(account_position(balances, self.decimals, ts))
            message = f"[{','.join(payloads)}]".encode()  # the JSON array of the payloads
            post.append(fast.execute("PUBLISH", keys.user_channel(user_id), message))  # SPUBLISH on a cluster
        settled_key = keys.settled_position(symbol)
        position: list[Command] = [("SET", settled_key, command_id)] if command_id else []
        written = [settled_key]
        if fx.confirmed:
            # The confirmed reservations leave the market's pending index (the market's slot) in
            # the fenced write, in commands short enough for lease.lua (a batch can confirm
            # thousands).
            pending = keys.pending_reservations(symbol)
            position += chunked("ZREM", pending, fx.confirmed)
            written.append(pending)
        # On one Redis the replies go in the fenced write; a cluster's reply channels are shard
        # channels of their own slots (SPUBLISH), published before the position is written.
        replies_in_record = one_redis
        for batch in batches:
            for ref in batch.commands:
                if ref.reply_to:
                    if replies_in_record:
                        position.append(("PUBLISH", ref.reply_to, reply_for(batch, ref)))
                    else:
                        post.append(fast.execute("PUBLISH", ref.reply_to, reply_for(batch, ref)))
        record = self.partitions.record(
            symbol, entries[-1][0], len(entries), position, written, fast if one_redis else None
        )
        return asyncio.ensure_future(
            self._land(symbol, entries, batches, len(events), post, record, started, start_ns)
        )

    async def _land(
        self,
        symbol: str,
        entries: list[redisio.Entry],
        batches: list[epb.EventBatch],
        events: int,
        post: list["asyncio.Future[Any]"],
        record: Coroutine[Any, Any, None],
        started: float,
        start_ns: int,
    ) -> None:
        """Wait for a batch's last writes (`post`, then the fenced `record`: sent only once `post`
        has landed when it holds replies), then count it."""
        if self.pipelined.ordered_across_slots:
            await asyncio.gather(*post, record)
        else:
            try:
                for answer in post:
                    await answer
            except BaseException:
                record.close()  # never sent
                raise
            await record
        self.applied_batches += 1
        self.metrics.settled(
            symbol, len(entries), events, time.perf_counter() - started, entry_ms(entries[-1][0])
        )
        if tracing.ENABLED:
            settle_spans(symbol, batches, start_ns, time.time_ns())

    async def _load_order_infos(self, symbol: str, events: list[Event]) -> None:
        """After a restart the in-memory order infos are gone: read the ones this batch needs
        (but those of orders it accepts itself, which are stored with their acceptance)."""
        known = self.known[symbol]
        wanted: dict[int, set[int]] = {}
        accepted: set[int] = set()
        for e in events:
            if type(e) is OrderAccepted:
                accepted.add(e.order_id)
            elif isinstance(e, Trade):
                if e.maker_order_id not in known:
                    wanted.setdefault(e.maker_user_id, set()).add(e.maker_order_id)
                if e.taker_order_id not in known:
                    wanted.setdefault(e.taker_user_id, set()).add(e.taker_order_id)
            elif isinstance(e, _ORDER_EVENTS):
                if e.order_id not in known:
                    wanted.setdefault(e.user_id, set()).add(e.order_id)
            elif type(e) is ListStatus and e.order_list_id:  # (a rejected list has no id)
                wanted.setdefault(e.user_id, set()).update(o for o in e.order_ids if o not in known)
        for oids in wanted.values():
            oids -= accepted
        wanted = {uid: oids for uid, oids in wanted.items() if oids}
        if not wanted:
            return
        pipe = self.redis.pipeline(transaction=False)
        asked: list[tuple[int, list[int]]] = []
        for uid, oids in wanted.items():
            order_ids = sorted(oids)
            asked.append((uid, order_ids))
            pipe.hmget(self.keys.orders(uid), [f"{symbol}:{o}" for o in order_ids])
        for (uid, order_ids), values in zip(asked, await pipe.execute(), strict=True):
            for oid, raw in zip(order_ids, values, strict=True):
                if raw is not None and oid not in known:
                    known[oid] = OrderInfo.from_state(uid, raw.decode())

    async def sweep_orphans(self) -> int:
        """Release reservations whose command never reached the engine; returns how many."""
        now = now_ms()
        cutoff = now - self.settings.orphan_after_ms
        released = 0
        for held in list(self.partitions.positions):
            pending = self.keys.pending_reservations(held)
            for member, created in await redisio.zrange_by_score(self.redis, pending, cutoff, 500):
                user, symbol, order = member.decode().split(":")
                if held not in self.partitions.positions or not await self._caught_up(symbol, int(created)):
                    continue
                amount = await self.ledger.release_orphan(int(user), symbol, int(order))
                await self.redis.zrem(pending, member)
                if amount:
                    released += 1
                    self.metrics.orphans.inc()
                    log.warning("released orphaned reservation %s (%d units)", member.decode(), amount)
        return released

    async def ready(self) -> bool:
        return await redis_ready(self.redis)

    async def refresh_metrics(self) -> None:
        await self.metrics.refresh_backlog(self.redis, self.streams, self.settings.group)

    async def _caught_up(self, symbol: str, created_ms: int) -> bool:
        """Has every command that could carry a reservation made at `created_ms` been settled?

        Gateways append within submit_guard_ms of reserving, so having settled a command from
        after that, or everything the journal holds, means such a command would have been seen.
        """
        settled = await redisio.get(self.redis, self.keys.settled_position(symbol))
        if settled is not None and entry_ms(settled) > created_ms + self.settings.submit_guard_ms:
            return True
        if not await self.redis.exists(self.keys.commands(symbol)):
            return settled is None
        info = await self.redis.xinfo_stream(self.keys.commands(symbol))
        return settled is not None and stream_id(settled) >= stream_id(info["last-generated-id"])
