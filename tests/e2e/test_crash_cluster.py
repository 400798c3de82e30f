"""test_crash on a real local Redis Cluster: the engine SIGKILLed at random moments while orders
flow; no order lost, no event duplicated, the journals replay equal, funds conserved."""

import pytest

from tests.e2e.test_crash import (  # noqa: F401 (collected here: the same scenario on a cluster)
    crash_stack,
    test_engine_sigkill_under_load_loses_and_duplicates_nothing,
)
from tests.rediscluster import LocalCluster


@pytest.fixture(scope="module")
def crash_redis_url(redis_cluster: LocalCluster) -> str:
    return redis_cluster.url
