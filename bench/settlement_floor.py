"""The settlement worker's floor: the same settle.lua calls with their arguments precomputed.

`python -m bench.settlement_floor PREFIX SYMBOL...` settles the events already in
evt:{SYMBOL} under PREFIX (each with a `settlement` group at 0) as one settlement worker does,
minus the work that is ours to make fast: before it starts (it prints "ready", then waits for a
line on stdin) it decodes the events and builds, with the worker's own code (settlement.effects),
every settle.lua call of every batch in the batching the worker sees (XREAD COUNT =
the worker's batch size). Timed: the same XREAD of the same streams, the precomputed settle.lua
calls of each batch on the same auto-pipelined connection (exchange_core.pipelined), and the
market's position recorded through its lease's fence (XGROUP SETID and settled:{SYMBOL}, as
exchange_core.partitions does). No decoding, no effects, no user-update publishes. It exits
once every stream is read.
"""

import asyncio
import logging
import sys
from typing import Any

from redis.asyncio import Redis

from exchange_core.keys import Keys
from exchange_core.lease import Arg, Lease
from exchange_core.ledger import Ledger
from exchange_core.markets import load_markets
from exchange_core.pipelined import PipelinedRedis
from exchange_core.protocol import event_from_proto
from exchange_proto import events_pb2 as epb
from settlement.effects import Effects
from settlement.orderinfo import OrderInfo
from settlement.settings import SettlementSettings

REDIS_URL = "redis://127.0.0.1:6379/0"
Call = list[Arg]


async def precompute(
    redis: Redis, ledger: Ledger, keys: Keys, symbol: str, batch: int, token: int
) -> list[tuple[int, bytes, list[Call]]]:
    """Per XREAD batch of `symbol`: (entries in it, its last command id, its settle.lua calls)."""
    market = load_markets()[symbol]
    known: dict[int, OrderInfo] = {}
    entries = await redis.xrange(keys.events(symbol))
    sha = await redis.script_load(ledger._settle.script)
    out = []
    for i in range(0, len(entries), batch):
        fx = Effects(market, known)
        command_id = b""
        for _, fields in entries[i : i + batch]:
            decoded = epb.EventBatch.FromString(fields[b"e"])
            command_id = decoded.command_id.encode()
            for e in decoded.events:
                fx.apply(event_from_proto(e))
        calls: list[Call] = []
        for user_id, effects in fx.users.items():
            ops = effects.finish()
            if ops:
                settle_keys = ledger.settle_keys(user_id, symbol)
                calls.append(
                    ["EVALSHA", sha, len(settle_keys), *settle_keys, *ledger.settle_args(symbol, ops, token)]
                )
        out.append((len(entries[i : i + batch]), command_id, calls))
    return out


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
        s: await precompute(redis, ledger, keys, s, settings.batch_size, leases[s].token) for s in symbols
    }
    to_read = {s: sum(n for n, _, _ in batches) for s, batches in work.items()}
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    positions: dict[Any, Any] = {keys.events(s): b"0-0" for s in symbols}
    stream_symbol = {keys.events(s): s for s in symbols}
    read = dict.fromkeys(symbols, 0)
    try:
        while any(read[s] < to_read[s] for s in symbols):
            result = await redis.xread(positions, count=settings.batch_size, block=1_000)
            for stream, entries in result or []:
                symbol = stream_symbol[stream.decode()]
                count, command_id, calls = work[symbol].pop(0)
                assert count == len(entries), "the floor's batching differs from the precomputed one"
                answers = [pipelined.execute(*call) for call in calls]
                for answer in answers:
                    await answer
                last = entries[-1][0]
                read[symbol] += count
                positions[stream] = last
                settled = keys.settled_position(symbol)
                await leases[symbol].write(
                    [keys.events(symbol), settled],
                    [
                        (
                            "XGROUP",
                            "SETID",
                            keys.events(symbol),
                            settings.group,
                            last,
                            "ENTRIESREAD",
                            read[symbol],
                        ),
                        ("SET", settled, command_id),
                    ],
                )
    finally:
        for keeper in keepers:
            keeper.cancel()
        for lease in leases.values():
            await lease.release()
        await redis.aclose()


def main() -> None:
    logging.getLogger("exchange_core.lease").setLevel(logging.ERROR)  # "released" at the end is no news
    asyncio.run(run(sys.argv[1], sys.argv[2:]))


if __name__ == "__main__":
    main()
