"""Shared by the service benchmarks: a scratch database and key prefix of their own."""

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

from exchange_core.db import migrate

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def fresh_database(name: str = "") -> str:
    """A new, migrated database (named `name`, or a unique bench_... name); returns its DSN."""
    name = name or f"exchange_bench_{uuid.uuid4().hex[:8]}"

    async def create() -> str:
        admin = await asyncpg.connect(ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        return dsn

    return asyncio.run(create())


def drop_database(dsn_or_name: str) -> None:
    name = dsn_or_name.rsplit("/", 1)[-1]

    async def drop() -> None:
        admin = await asyncpg.connect(ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(drop())


def new_prefix() -> str:
    return f"bench{uuid.uuid4().hex[:8]}:"


async def delete_prefix(redis_url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        batch = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        for i in range(0, len(batch), 500):
            await client.delete(*batch[i : i + 500])
    finally:
        await client.aclose()


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        kids += [int(k) for k in task.read_text().split()]
    return kids


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by `pid` and its live descendants."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total + sum(cpu_seconds(kid) for kid in _children(pid))
    except FileNotFoundError:
        return total


def redis_server_pid(port: int = 6379) -> int | None:
    """The pid of the redis-server listening on `port` (None if not found)."""
    for stat in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            cmdline = stat.read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "redis-server" in cmdline and f":{port}" in cmdline:
            return int(stat.parent.name)
    return None


async def backend_pids(dsn: str) -> list[int]:
    """The pids of the PostgreSQL backends connected to `dsn`'s database (other than the asker)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


class CpuMeter:
    """CPU seconds used by named processes between start() and stop()."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.before: dict[str, float] = {}

    def start(self) -> None:
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) - self.before[name] for name, pid in self.pids.items()}


async def group_state(redis: Redis, key: str, group: str) -> tuple[int, int]:
    """(lag, pending) of consumer group `group` on stream `key`; (-1, -1) before it exists."""
    if not await redis.exists(key):
        return -1, -1
    for info in await redis.xinfo_groups(key):
        if info["name"] == group.encode():
            return int(info["lag"] or 0), int(info["pending"])
    return -1, -1


async def swap_in_streams(
    redis: Redis,
    group: str,
    field: str,
    streams: Mapping[str, Sequence[bytes]],
    readers: Sequence["subprocess.Popen[bytes]"],
) -> float:
    """Give the `readers` of each stream key in `streams` (blocked on consumer group `group`) all of
    that stream's entries at once, without pausing them for longer than a few milliseconds: a
    reader paused for seconds loses its lease or trips its read timeout, and the run would then
    measure its recovery.

    All but the last entry of each go into a staged stream with `group` at its start; the readers
    are paused (SIGSTOP) while each staged stream is renamed over its key and its last entry is
    appended the ordinary way (waking the blocked reads); then resumed. Returns
    `time.perf_counter()` at the resume."""
    for key, entries in streams.items():
        body = entries[:-1]
        for i in range(0, len(body), 5_000):
            pipe = redis.pipeline(transaction=False)
            for data in body[i : i + 5_000]:
                pipe.xadd(key + ":staged", {field: data})
            await pipe.execute()
        await redis.xgroup_create(key + ":staged", group, id="0", mkstream=True)
    for reader in readers:
        reader.send_signal(signal.SIGSTOP)
    try:
        for key, entries in streams.items():
            await redis.rename(key + ":staged", key)
            await redis.xadd(key, {field: entries[-1]})
    finally:
        start = time.perf_counter()
        for reader in readers:
            reader.send_signal(signal.SIGCONT)
    return start
