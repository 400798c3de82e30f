"""The engine process's floor: the Redis work of one engine process with nothing else.

Run as its own process (`python -m bench.service_floor PREFIX SYMBOL COMMANDS BATCH OUTPUTS`),
it holds the market's engine lease as the engine does and reads cmd:{SYMBOL} after the last read
entry with the same XREAD (COUNT = the engine's batch size) through the engine's own reader
(engine.journal.JournalReader: a hiredis connection of its own); per batch it makes the engine's
one fenced write (exchange_core.lease, lease.lua, on a hiredis connection as the engine sends it): XADD of an
events entry, PUBLISH of a market-data message, SET of the depth snapshot and the `engine`
group's position (XGROUP SETID ... ENTRIESREAD). It decodes nothing and matches nothing: the
events entries are the ones our engine wrote for the same commands (read back by the bench and
passed in OUTPUTS, a pickle of {"events": [bytes], "depth": bytes}), replayed in order; the
market-data message is the events entry (no subscriber listens in the bench, so its size costs
little) and the depth snapshot is our engine's last one. Its Redis work overlaps as the engine's
does: after a full batch the next read is sent at once, and a batch's write is sent without
waiting for its answer (one write in flight, in order), on the engine's event loop (uvloop), so
the floor stays a floor. It prints "ready" once the lease is held, starts on a line on stdin and
exits after COMMANDS entries.
"""

import asyncio
import logging
import pickle
import sys
from pathlib import Path
from typing import Any

import uvloop
from redis.asyncio import Redis

from engine.journal import JournalReader, read_after
from exchange_core.keys import Keys
from exchange_core.lease import Command, Lease, LeaseSettings
from exchange_core.pipelined import PipelinedRedis

REDIS_URL = "redis://127.0.0.1:6379/0"
GROUP = "engine"


async def run(prefix: str, symbol: str, commands: int, batch: int, outputs: dict[str, object]) -> None:
    keys = Keys(prefix)
    cmd_key, evt_key, depth_key = keys.commands(symbol), keys.events(symbol), keys.depth(symbol)
    md_channel = keys.market_data(symbol)
    events: list[bytes] = outputs["events"]  # type: ignore[assignment]
    depth: bytes = outputs["depth"]  # type: ignore[assignment]
    redis = Redis.from_url(REDIS_URL)
    lease = Lease(redis, keys, symbol, GROUP, LeaseSettings())
    reader, writer = JournalReader(redis), PipelinedRedis.like(redis)
    assert await lease.try_acquire(), "the floor's engine lease is held by somebody else"
    keeper = asyncio.create_task(lease.keep())
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    last, read, batches = b"0-0", 0, 0
    ahead: asyncio.Future[Any] | None = None
    writing: asyncio.Future[int] | None = None
    try:
        while read < commands:
            if ahead is not None:
                result, ahead = await ahead, None
            else:
                if writing is not None:
                    await writing
                    writing = None
                result = await read_after(reader, cmd_key, last, batch, 1_000)
            if not result:
                continue
            entries = result
            last = entries[-1][0]
            read += len(entries)
            if len(entries) >= batch:  # backlogged: the next read is sent now, as the engine does
                ahead = asyncio.ensure_future(read_after(reader, cmd_key, last, batch))
                await asyncio.sleep(0)
            entry = events[batches % len(events)]
            batches += 1
            write: list[Command] = [
                ("XADD", evt_key, "*", "e", entry),
                ("PUBLISH", md_channel, entry),
                ("SET", depth_key, depth),
                ("XGROUP", "SETID", cmd_key, GROUP, last, "ENTRIESREAD", read),
            ]
            if writing is not None:  # one write in flight, in order, as the engine does
                await writing
            writing = asyncio.ensure_future(lease.write([evt_key, depth_key, cmd_key], write, via=writer))
            await asyncio.sleep(0)
        if writing is not None:
            await writing
    finally:
        keeper.cancel()
        await lease.release()
        await reader.aclose()
        await writer.aclose()
        await redis.aclose()


def main() -> None:
    logging.getLogger("exchange_core.lease").setLevel(logging.ERROR)  # "released" at the end is no news
    prefix, symbol, commands, batch, outputs = sys.argv[1:6]
    data = pickle.loads(Path(outputs).read_bytes())
    uvloop.run(run(prefix, symbol, int(commands), int(batch), data))  # the engine's event loop


if __name__ == "__main__":
    main()
