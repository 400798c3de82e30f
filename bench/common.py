"""Shared by the service benchmarks: a scratch database and key prefix of their own."""

import asyncio
import uuid

import asyncpg

from exchange_core.db import migrate

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def fresh_database(name: str = "exchange_bench") -> str:
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


def drop_database(name: str = "exchange_bench") -> None:
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
