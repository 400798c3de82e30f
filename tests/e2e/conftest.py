"""A running order path (engines, settlement, gateway) shared by the tests of a module; every
service with metrics, on a database of the module's own, for the observability tests."""

import asyncio
from collections.abc import Iterator

import pytest

from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from launcher.stack import Stack, running_stack
from tests import services
from tests.rediscluster import LocalCluster


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    """The order path on the machine's Redis; in a module that sets `ON_REDIS_CLUSTER = True`, on
    the session's local Redis Cluster (REDIS_URL=redis+cluster://...), the markets' slots moved
    so that every master holds one (tests/e2e/test_order_path_cluster.py)."""
    prefix = services.new_prefix()
    env = {}
    if getattr(request.module, "ON_REDIS_CLUSTER", False):
        cluster: LocalCluster = request.getfixturevalue("redis_cluster")
        cluster.spread([Keys(prefix).commands(symbol) for symbol in load_markets()])
        env["REDIS_URL"] = cluster.url
    try:
        with running_stack(pg_dsn, prefix, **env) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


@pytest.fixture(scope="module")
def own_dsn() -> Iterator[str]:
    """A database of the module's own: its trades stay out of other tests' history."""
    services.ensure_postgres()
    dsn = asyncio.run(services.create_test_database())
    yield dsn
    asyncio.run(services.drop_test_database(dsn))


@pytest.fixture(scope="module")
def metrics_stack(request: pytest.FixtureRequest, own_dsn: str, redis_url: str) -> Iterator[Stack]:
    """Every service (the markets of the module's SYMBOLS, ws tier, DB processor, market maker),
    each serving /metrics (Stack.probe_urls)."""
    prefix = services.new_prefix()
    try:
        with running_stack(
            own_dsn,
            prefix,
            list(request.module.SYMBOLS),
            with_ws=True,
            with_dbwriter=True,
            with_marketmaker=True,
            with_metrics=True,
        ) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))
