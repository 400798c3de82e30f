"""The engine process on the real Redis: batches, outputs, snapshot, recovery without duplicates."""

import asyncio
import json
from collections.abc import Awaitable

import pytest
from redis.asyncio import Redis

import engine.service
from engine.journal import ReadAhead
from engine.service import EngineService
from engine.settings import EngineSettings
from exchange_core import redisio
from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from exchange_core.protocol import decode_events, encode_command
from exchange_core.streamids import entry_ms
from exchange_proto import events_pb2
from matching import (
    Command,
    ContingencyType,
    ListStatus,
    ListStatusType,
    MatchingEngine,
    OrderType,
    PlaceOrder,
    PlaceOrderList,
    Side,
    TimeInForce,
)
from matching.commands import CancelOrder

SPEC = load_markets()["BTCUSDT"].spec
PRICE = 65_000 * 10**8
QTY = 10**6  # 0.01 BTC


def limit(oid: int, user: int, side: Side, price: int, qty: int = QTY) -> PlaceOrder:
    reserve = SPEC.notional(price, qty) if side == Side.BUY else qty
    return PlaceOrder("BTCUSDT", oid, user, side, OrderType.LIMIT, TimeInForce.GTC, price, qty, 0, reserve)


async def append(
    redis: "Redis[bytes]", keys: Keys, command: Command, reply_to: str = "", cid: str = ""
) -> bytes:
    return await redis.xadd(keys.commands("BTCUSDT"), {"c": encode_command(command, reply_to, cid)})


def settings(prefix: str, **extra: object) -> EngineSettings:
    return EngineSettings(symbol="BTCUSDT", key_prefix=prefix, block_ms=50, **extra)  # type: ignore[arg-type]


async def run_until_idle(service: EngineService, expected: int) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    for _ in range(200):
        await asyncio.sleep(0.02)
        if service.processed >= expected:
            break
    stop.set()
    await task


async def all_events(redis: "Redis[bytes]", keys: Keys) -> list[object]:
    out: list[object] = []
    for _, fields in await redis.xrange(keys.events("BTCUSDT")):
        out += decode_events(fields[b"e"])[1]
    return out


def replayed(journal: list[tuple[bytes, Command]]) -> tuple[MatchingEngine, list[object]]:
    """A fresh core and the events of the journal's commands applied to it one by one, each at
    its entry's time."""
    reference = MatchingEngine(SPEC)
    expected: list[object] = []
    for entry_id, command in journal:
        command.ts = entry_ms(entry_id)
        expected += reference.apply(command)
    return reference, expected


async def processed(service: EngineService, count: int) -> None:
    """Wait (4 s at most) until `service` has processed `count` commands."""
    for _ in range(200):
        await asyncio.sleep(0.02)
        if service.processed >= count:
            return


async def assert_written_as_replayed(
    redis: "Redis[bytes]", keys: Keys, service: EngineService, journal: list[tuple[bytes, Command]]
) -> None:
    """evt:{BTCUSDT} holds the events of `journal` applied one by one, and `service`'s book is
    that of the replay."""
    reference, expected = replayed(journal)
    assert await all_events(redis, keys) == expected
    assert service.engine.state_hash() == reference.state_hash()


def commands_stream() -> list[Command]:
    cmds: list[Command] = []
    for i in range(1, 41):
        side = Side.BUY if i % 2 else Side.SELL
        offset = (i % 7) * SPEC.tick_units * 100
        price = PRICE - offset if side == Side.BUY else PRICE + offset - 300 * SPEC.tick_units
        cmds.append(limit(i, i % 5 + 1, side, price))
        if i % 6 == 0:
            cmds.append(CancelOrder("BTCUSDT", (i - 2) % 5 + 1, i - 2))
    return cmds


async def test_batch_outputs_events_refs_depth_and_market_data(
    redis: "Redis[bytes]", keys: Keys, key_prefix: str
) -> None:
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.market_data("BTCUSDT"))
    await append(redis, keys, limit(1, 7, Side.SELL, PRICE))
    command_id = await append(redis, keys, limit(2, 8, Side.BUY, PRICE), reply_to="reply-test", cid="corr-2")
    service = EngineService(settings(key_prefix), redis, SPEC)
    await run_until_idle(service, 2)

    events = await all_events(redis, keys)
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("Trade") == 1 and kinds.count("OrderDone") == 2
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # type: ignore[attr-defined]
    (_, fields), *_ = await redis.xrange(keys.events("BTCUSDT"))
    batch = events_pb2.EventBatch.FromString(fields[b"e"])
    (ref,) = batch.commands
    assert (ref.command_id, ref.reply_to, ref.correlation_id) == (command_id.decode(), "reply-test", "corr-2")
    answered = [e for e in batch.events if ref.first_seq <= e.seq <= ref.last_seq]
    assert {e.WhichOneof("kind") for e in answered} >= {"order_accepted", "trade", "order_done"}

    depth = json.loads(await redis.get(keys.depth("BTCUSDT")) or b"{}")
    assert depth == {"lastUpdateId": events[-1].seq, "bids": [], "asks": []}  # type: ignore[attr-defined]

    md = None
    for _ in range(50):
        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if msg is not None:
            md = events_pb2.MarketData.FromString(msg["data"])
            break
    assert md is not None and md.first_seq == 1 and md.last_seq == events[-1].seq  # type: ignore[attr-defined]
    assert len(md.trades) == 1
    await pubsub.aclose()
    pending = await redis.xpending(keys.commands("BTCUSDT"), "engine")
    assert pending["pending"] == 0


async def test_recovery_from_snapshot_and_journal_duplicates_nothing(
    redis: "Redis[bytes]", keys: Keys, key_prefix: str
) -> None:
    cmds = commands_stream()
    half = len(cmds) // 2
    journal: list[tuple[bytes, Command]] = []
    for c in cmds[:half]:
        journal.append((await append(redis, keys, c), c))
    first = EngineService(settings(key_prefix, snapshot_every_commands=7), redis, SPEC)
    await run_until_idle(first, half)
    assert await redis.hget(keys.snapshot("BTCUSDT"), "command_id") is not None
    for c in cmds[half:]:
        journal.append((await append(redis, keys, c), c))
    # The next process starts from the snapshot and replays the journal after it; entries whose
    # events are already in evt:{BTCUSDT} must not be written twice.
    second = EngineService(settings(key_prefix), redis, SPEC)
    await run_until_idle(second, len(cmds) - half)

    reference, expected = replayed(journal)
    assert await all_events(redis, keys) == expected
    assert second.engine.state_hash() == reference.state_hash()


async def test_a_backlog_read_ahead_in_recovery_and_in_the_loop_writes_the_same_events(
    redis: "Redis[bytes]", keys: Keys, key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recovery (chunks of REPLAY_CHUNK) and the loop (batches of batch_size) read the next
    batch while processing a full one: the events, their order and the book are those of the
    commands applied one by one, and the group's position ends past the last entry."""
    monkeypatch.setattr(engine.service, "REPLAY_CHUNK", 5)
    reads_ahead: list[bool] = []
    start = ReadAhead.start

    async def counted(self: ReadAhead, read: Awaitable[list[redisio.Entry]]) -> None:
        reads_ahead.append(service.recovered)
        await start(self, read)

    monkeypatch.setattr(ReadAhead, "start", counted)
    cmds = commands_stream()
    half = len(cmds) // 2
    journal: list[tuple[bytes, Command]] = []
    for c in cmds[:half]:  # before the engine starts: replayed by recovery
        journal.append((await append(redis, keys, c), c))
    service = EngineService(settings(key_prefix, batch_size=4), redis, SPEC)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    await processed(service, half)
    pipe = redis.pipeline(transaction=False)  # a burst: the loop finds full batches
    for c in cmds[half:]:
        pipe.xadd(keys.commands("BTCUSDT"), {"c": encode_command(c)})
    journal += zip(await pipe.execute(), cmds[half:], strict=True)
    await processed(service, len(cmds))
    stop.set()
    await task

    await assert_written_as_replayed(redis, keys, service, journal)
    (group,) = await redis.xinfo_groups(keys.commands("BTCUSDT"))
    assert group["last-delivered-id"] == journal[-1][0] and group["lag"] == 0
    assert False in reads_ahead and True in reads_ahead  # both paths read ahead


async def test_an_open_order_list_survives_a_restart_from_its_snapshot(
    redis: "Redis[bytes]", keys: Keys, key_prefix: str
) -> None:
    far = 100 * SPEC.tick_units
    maker = PlaceOrder(
        "BTCUSDT", 3, 9, Side.SELL, OrderType.LIMIT_MAKER, TimeInForce.GTC, PRICE + far, QTY, 0, QTY,
        client_order_id="a",
    )  # fmt: skip
    loss = PlaceOrder(
        "BTCUSDT", 4, 9, Side.SELL, OrderType.STOP_LOSS, TimeInForce.GTC, 0, QTY, 0, QTY,
        client_order_id="b", stop_price=PRICE - far,
    )  # fmt: skip
    before: list[Command] = [
        limit(1, 7, Side.SELL, PRICE),
        limit(2, 8, Side.BUY, PRICE),
        PlaceOrderList("BTCUSDT", 9, "L1", ContingencyType.OCO, (maker, loss)),
    ]
    journal: list[tuple[bytes, Command]] = [(await append(redis, keys, c), c) for c in before]
    first = EngineService(settings(key_prefix, snapshot_every_commands=3), redis, SPEC)
    await run_until_idle(first, len(before))
    assert first.engine.state().lists == ((1, 9, "L1", ContingencyType.OCO, (3, 4)),)
    snapshot_at = await redis.hget(keys.snapshot("BTCUSDT"), "command_id")
    assert snapshot_at == journal[-1][0]  # taken with the list open
    cancel = CancelOrder("BTCUSDT", 9, 4)  # the stop member: the list goes with it
    journal.append((await append(redis, keys, cancel), cancel))
    second = EngineService(settings(key_prefix), redis, SPEC)
    await run_until_idle(second, 1)

    reference, expected = replayed(journal)
    events = await all_events(redis, keys)
    assert events == expected
    done = [e for e in events if isinstance(e, ListStatus) and e.status_type == ListStatusType.ALL_DONE]
    assert [(e.order_list_id, e.order_ids) for e in done] == [(1, (3, 4))]
    assert second.engine.state().lists == () and second.engine.state_hash() == reference.state_hash()


async def test_oto_and_otoco_lists_with_pending_orders_survive_a_restart_from_a_snapshot(
    redis: "Redis[bytes]", keys: Keys, key_prefix: str
) -> None:
    far = 100 * SPEC.tick_units
    oto_working = limit(3, 9, Side.SELL, PRICE + far)
    oto_pending = PlaceOrder(
        "BTCUSDT", 4, 9, Side.BUY, OrderType.LIMIT_MAKER, TimeInForce.GTC, PRICE - 4 * far, QTY, 0,
        SPEC.notional(PRICE - 4 * far, QTY), client_order_id="p",
    )  # fmt: skip
    otoco_working = limit(5, 10, Side.BUY, PRICE - 2 * far)
    above = PlaceOrder(
        "BTCUSDT", 6, 10, Side.SELL, OrderType.LIMIT_MAKER, TimeInForce.GTC, PRICE + 2 * far, QTY, 0, QTY,
        client_order_id="a",
    )  # fmt: skip
    below = PlaceOrder(
        "BTCUSDT", 7, 10, Side.SELL, OrderType.STOP_LOSS, TimeInForce.GTC, 0, QTY, 0, QTY,
        client_order_id="b", stop_price=PRICE - 3 * far,
    )  # fmt: skip
    before: list[Command] = [
        limit(1, 7, Side.SELL, PRICE),
        limit(2, 8, Side.BUY, PRICE),
        PlaceOrderList("BTCUSDT", 9, "O1", ContingencyType.OTO, (oto_working, oto_pending)),
        PlaceOrderList("BTCUSDT", 10, "O2", ContingencyType.OTOCO, (otoco_working, above, below)),
    ]
    journal: list[tuple[bytes, Command]] = [(await append(redis, keys, c), c) for c in before]
    first = EngineService(settings(key_prefix, snapshot_every_commands=4), redis, SPEC)
    await run_until_idle(first, len(before))
    state = first.engine.state()
    assert [r[0] for r in state.pending] == [4, 6, 7]  # waiting for their working orders
    assert await redis.hget(keys.snapshot("BTCUSDT"), "command_id") == journal[-1][0]
    after: list[Command] = [
        limit(20, 11, Side.BUY, PRICE + far),  # fills the OTO's working order: its pending one rests
        limit(21, 12, Side.SELL, PRICE - 2 * far),  # fills the OTOCO's: its pair is placed
        CancelOrder("BTCUSDT", 10, 0, "b"),  # the pair's stop member: the other goes with it
    ]
    journal += [(await append(redis, keys, c), c) for c in after]
    second = EngineService(settings(key_prefix), redis, SPEC)
    await run_until_idle(second, len(after))

    reference, expected = replayed(journal)
    events = await all_events(redis, keys)
    assert events == expected
    done = [e for e in events if isinstance(e, ListStatus) and e.status_type == ListStatusType.ALL_DONE]
    assert [(e.order_list_id, e.order_ids) for e in done] == [(1, (3, 4)), (2, (5, 6, 7))]
    final = second.engine.state()
    assert final.lists == () and final.pending == () and [r[0] for r in final.orders] == [4]
    assert second.engine.state_hash() == reference.state_hash()


async def test_a_trickle_read_while_the_cpus_are_saturated_lingers_and_writes_the_same_events(
    redis: "Redis[bytes]", keys: Keys, key_prefix: str
) -> None:
    """Commands appended one at a time while the CPU pressure is on (a stand-in reading of 100%)
    are read several to a batch after LINGER_MS waits; the events, their order and the book are
    those of the commands applied one by one."""
    cmds = commands_stream()
    service = EngineService(settings(key_prefix, linger_ms=100.0), redis, SPEC)
    service.linger.pressure = lambda: 1.0
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    journal: list[tuple[bytes, Command]] = []
    for c in cmds:  # one every 2 ms or more: without lingering, about one command a batch
        journal.append((await append(redis, keys, c), c))
        await asyncio.sleep(0.002)
    await processed(service, len(cmds))
    stop.set()
    await task

    await assert_written_as_replayed(redis, keys, service, journal)
    batches = await redis.xlen(keys.events("BTCUSDT"))
    assert service.linger.lingered > 0
    assert batches <= len(cmds) // 3, f"{batches} event batches for {len(cmds)} trickled commands"
