"""PostgreSQL: connection pools and the schema migrations in migrations/*.sql (applied in name order)."""

from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TypeAlias

import asyncpg
from asyncpg import Connection, Record
from asyncpg.pool import PoolConnectionProxy

MIGRATION_LOCK = 7_201_001

# A connection of its own or one borrowed from a pool (what `pool.acquire()` gives).
Conn: TypeAlias = "Connection[Record] | PoolConnectionProxy[Record]"


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size)
    if pool is None:
        raise RuntimeError("asyncpg returned no pool")
    return pool


def migration_scripts() -> list[Traversable]:
    """The migration scripts shipped with this package, in the order they are applied."""
    scripts = (p for p in files("exchange_core").joinpath("migrations").iterdir() if p.name.endswith(".sql"))
    return sorted(scripts, key=lambda p: p.name)


async def pending_migrations(conn: Conn) -> list[str]:
    """The names of the migrations not yet applied to the database of `conn` (all of them when
    it was never migrated)."""
    table = await conn.fetchval("SELECT to_regclass('schema_migrations')")
    done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")} if table else set()
    return [p.name for p in migration_scripts() if p.name not in done]


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply the migrations not yet applied; returns their names. Safe to run concurrently."""
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for script in migration_scripts():
            if script.name in done:
                continue
            await conn.execute(script.read_text())
            await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", script.name)
            applied.append(script.name)
    return applied


async def ensure_database(dsn: str) -> None:
    """Create the database named in `dsn` if it does not exist (connects to `postgres`)."""
    head, _, name = dsn.rpartition("/")
    name = name.split("?")[0]
    conn = await asyncpg.connect(f"{head}/postgres")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
