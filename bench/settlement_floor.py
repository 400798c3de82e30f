"""The settlement worker's floor: the same settle.lua calls with their arguments precomputed.

`python -m bench.settlement_floor PREFIX SYMBOL...` settles the events already in
evt:{SYMBOL} under PREFIX (each with a `settlement` group at 0) as one settlement worker does,
minus the work that is ours to make fast: before it starts (it prints "ready", then waits for a
line on stdin) it decodes the events and builds, with the worker's own code (settlement.effects),
every settle.lua call of every batch in the batching the worker sees (XREAD COUNT =
the worker's batch size, each read cut by events bytes as settlement.batching cuts it), with
Ledger.settle_calls as the worker. Timed, per market as the
worker: the XREAD of its stream on a hiredis connection of its own, the batch's settle.lua
calls (many users each) on the shared auto-pipelined connection (exchange_core.pipelined),
and the market's position recorded through its lease's fence on that connection (XGROUP SETID,
settled:{SYMBOL} and the ZREM of the reservations the batch confirms, 1,000 members a command,
as exchange_core.partitions and the worker do). No decoding, no effects, no user-update
publishes. It exits once every stream is read.
"""

import asyncio
import logging
import sys

from redis.asyncio import Redis

from exchange_core import redisio
from exchange_core.keys import Keys
from exchange_core.lease import Arg, Command, Lease, chunked
from exchange_core.ledger import Ledger
from exchange_core.markets import load_markets
from exchange_core.pipelined import PipelinedRedis
from exchange_core.protocol import event_from_proto
from exchange_proto import events_pb2 as epb
from settlement.batching import byte_bounded
from settlement.effects import Effects
from settlement.orderinfo import OrderInfo
from settlement.settings import SettlementSettings

REDIS_URL = "redis://127.0.0.1:6379/0"
Call = list[Arg]


# One batch of a market, precomputed: its entry count, its last command id, its settle.lua calls
# (whole EVALSHA commands, Ledger.settle_calls as the worker) and the ZREM commands of the
# reservations it confirms.
Batch = tuple[int, bytes, list[Call], list[Command]]
# The batches of one XREAD, cut as the worker cuts them (settlement.batching).
Work = list[Batch]


async def precompute(
    redis: Redis, ledger: Ledger, keys: Keys, symbol: str, batch: int, max_bytes: int, token: int
) -> list[Work]:
    """Per XREAD of `symbol`, what the worker sends for it (see Work)."""
    market = load_markets()[symbol]
    known: dict[int, OrderInfo] = {}
    entries = await redis.xrange(keys.events(symbol))
    await ledger.load_scripts()
    out: list[Work] = []
    for i in range(0, len(entries), batch):
        work: Work = []
        for part in byte_bounded(entries[i : i + batch], max_bytes):
            fx = Effects(market, known)
            command_id = b""
            for _, fields in part:
                decoded = epb.EventBatch.FromString(fields[b"e"])
                command_id = decoded.command_id.encode()
                for e in decoded.events:
                    fx.apply(event_from_proto(e))
            users = [(user_id, ops) for user_id, effects in fx.users.items() if (ops := effects.finish())]
            calls = ledger.settle_calls(symbol, users, token)
            confirmed = chunked("ZREM", keys.pending_reservations(symbol), fx.confirmed)
            work.append((len(part), command_id, calls, confirmed))
        out.append(work)
    return out


async def settle_market(
    symbol: str, work: list[Work], keys: Keys, lease: Lease, pipelined: PipelinedRedis, group: str, batch: int
) -> None:
    """Read `symbol`'s events on a hiredis connection of its own and send each batch's
    precomputed calls, as the worker does, until every precomputed batch is done."""
    reader = PipelinedRedis.like(lease.redis)
    stream, settled = keys.events(symbol), keys.settled_position(symbol)
    position, read = b"0-0", 0
    landing: asyncio.Future[int] | None = None  # the previous batch's fenced write
    try:
        for batches in work:
            # As the worker: the next read goes out with the previous batch's write.
            reading = reader.execute("XREAD", "COUNT", batch, "BLOCK", 1_000, "STREAMS", stream, position)
            ((_, entries),) = redisio.stream_entries(await reading)
            assert sum(b[0] for b in batches) == len(entries), (
                "the floor's batching differs from the precomputed one"
            )
            done = 0
            for count, command_id, calls, confirmed in batches:
                if landing is not None:
                    await landing
                answers = [pipelined.execute(*call) for call in calls]
                for answer in answers:
                    await answer
                done += count
                position = entries[done - 1][0]
                read += count
                commands: list[Command] = [
                    ("XGROUP", "SETID", stream, group, position, "ENTRIESREAD", read),
                    ("SET", settled, command_id),
                    *confirmed,
                ]
                written = [stream, settled, *([keys.pending_reservations(symbol)] if confirmed else [])]
                landing = asyncio.ensure_future(lease.write(written, commands, via=pipelined))
        if landing is not None:
            await landing
    finally:
        await reader.aclose()


async def run(prefix: str, symbols: list[str]) -> None:
    settings = SettlementSettings()
    keys = Keys(prefix)
    redis = Redis.from_url(REDIS_URL)
    pipelined = PipelinedRedis.like(redis)
    ledger = Ledger(redis, keys, pipelined)
    leases = {s: Lease(redis, keys, s, "settlement", settings) for s in symbols}
    for lease in leases.values():
        assert await lease.try_acquire(), "the floor's settlement lease is held by somebody else"
    keepers = [asyncio.create_task(lease.keep()) for lease in leases.values()]
    work = {
        s: await precompute(
            redis, ledger, keys, s, settings.batch_size, settings.batch_bytes, leases[s].token
        )
        for s in symbols
    }
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    try:
        await asyncio.gather(
            *(
                settle_market(s, work[s], keys, leases[s], pipelined, settings.group, settings.batch_size)
                for s in symbols
            )
        )
    finally:
        for keeper in keepers:
            keeper.cancel()
        for lease in leases.values():
            await lease.release()
        await pipelined.aclose()
        await redis.aclose()


def main() -> None:
    logging.getLogger("exchange_core.lease").setLevel(logging.ERROR)  # "released" at the end is no news
    asyncio.run(run(sys.argv[1], sys.argv[2:]))


if __name__ == "__main__":
    main()
