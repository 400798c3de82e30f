"""What `make run` does before starting any process: check Redis, create and migrate the
database, settle the secret key, check the ports. Each failure is a PrepareError whose message
tells the user what to do."""

import asyncio
import os
import socket
from collections.abc import Callable
from pathlib import Path

import asyncpg
from cryptography.fernet import Fernet
from redis import Redis
from redis.exceptions import RedisError

from exchange_core.db import ensure_database, migrate
from exchange_core.store import cluster_seed

SECRET_FILE = "secret.key"


class PrepareError(Exception):
    """The machine is not ready to run the exchange; the message says why and what to do."""


def check_redis(url: str) -> None:
    """Raises PrepareError unless Redis at `url` (a cluster's node it names) answers PING within 2 s."""
    client: Redis = Redis.from_url(cluster_seed(url) or url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except RedisError as exc:
        raise PrepareError(
            f"Redis is not reachable at {url} ({exc}). Start it (redis-server) or set REDIS_URL."
        ) from None
    finally:
        client.close()


async def prepare_database(dsn: str) -> list[str]:
    """Create the database of `dsn` if missing and apply the migrations; returns those applied.
    Raises PrepareError when PostgreSQL cannot be reached or refuses."""
    try:
        await asyncio.wait_for(ensure_database(dsn), timeout=15)
        conn = await asyncio.wait_for(asyncpg.connect(dsn), timeout=15)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise PrepareError(
            f"PostgreSQL is not reachable at {dsn} ({exc}). Start it or set DATABASE_URL."
        ) from None
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only (0600) holding `text`; fails if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")


def read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The first line of `path`, or `make()` written there (0600) on first use."""
    if not path.exists():
        write_private(path, make())
    return path.read_text().strip()


def secret_key(configured: str, run_dir: Path) -> str:
    """SECRET_KEY if set, else the key in run_dir/secret.key (created once, 0600), so that API
    keys made in one run still work in the next. Raises PrepareError for a malformed key."""
    key = configured or read_or_create(run_dir / SECRET_FILE, lambda: Fernet.generate_key().decode())
    try:
        Fernet(key.encode())
    except ValueError:
        where = "SECRET_KEY" if configured else str(run_dir / SECRET_FILE)
        raise PrepareError(f"{where} is not a Fernet key (urlsafe base64 of 32 bytes).") from None
    return key


def check_port_free(port: int, variable: str) -> None:
    """Raises PrepareError when 127.0.0.1:`port` is taken (`variable` names the setting)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise PrepareError(
                f"127.0.0.1:{port} is in use: stop what listens there or set {variable}."
            ) from None
