"""Shared test set-up. Fixtures for Redis and PostgreSQL arrive with the services that need them."""

import asyncio
import os
from pathlib import Path

from hypothesis import settings

import matching

settings.register_profile("ci", deadline=None, print_blob=True)
settings.load_profile("ci")


def _check_compiled_core_is_fresh() -> None:
    """A compiled core older than its source would test stale code: refuse to run."""
    package = Path(matching.__file__).parent
    root = package.parent
    compiled = (root / "compiled-modules.txt").read_text().split()
    sources = [*package.glob("*.py"), *(root / path for path in compiled if path.endswith(".py"))]
    for source in sources:
        built = list(source.parent.glob(f"{source.stem}.cpython-*.so"))
        if built and built[0].stat().st_mtime < source.stat().st_mtime:
            raise RuntimeError(f"{built[0].name} is older than {source.name}: run `make core`")


if not os.environ.get("MATCHING_ALLOW_STALE"):
    _check_compiled_core_is_fresh()


# ---------------------------------------------------------------- real Redis and PostgreSQL
from collections.abc import AsyncIterator, Iterator  # noqa: E402

import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from exchange_core.keys import Keys  # noqa: E402
from tests import services  # noqa: E402
from tests.rediscluster import LocalCluster, local_cluster  # noqa: E402


@pytest.fixture(scope="session")
def redis_url() -> str:
    services.ensure_redis()
    return services.REDIS_URL


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """One migrated database for the test session, dropped at the end."""
    services.ensure_postgres()
    dsn = asyncio.run(services.create_test_database())
    yield dsn
    asyncio.run(services.drop_test_database(dsn))


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    prefix = services.new_prefix()
    yield prefix
    asyncio.run(services.delete_prefix(prefix))


@pytest.fixture
def keys(key_prefix: str) -> Keys:
    return Keys(key_prefix)


@pytest_asyncio.fixture
async def redis(redis_url: str) -> AsyncIterator["Redis[bytes]"]:
    client: Redis[bytes] = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    """A real local Redis Cluster (3 masters, 3 replicas) of the session's own; its URL
    (`redis+cluster://...`) is what services take as REDIS_URL to run on it."""
    with local_cluster() as cluster:
        yield cluster


@pytest.fixture
def own_cluster() -> Iterator[LocalCluster]:
    """A local Redis Cluster of the test's own, for a test that changes its shape (kills a
    master, moves slots with keys)."""
    with local_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def timescale_dsn() -> Iterator[str]:
    """A real TimescaleDB (PGlite + pglite-socket, tests/pglite/) for the session: one connection
    at a time; connect with tests.timescale.CONNECT_OPTIONS."""
    from tests.timescale import pglite_server

    with pglite_server() as dsn:
        yield dsn
