"""test_prevented_matches' scenarios on a real local Redis Cluster (3 masters, 3 replicas): the
prevented match records live under the user's {uid} hash tag with the rest of the user's keys, so
settle.lua writes them in the same slot."""

from tests.e2e.test_prevented_matches import (  # noqa: F401 (collected here: the same scenarios on a cluster)
    test_expire_both_with_the_raw_client_and_binances_refusals,
    test_expire_maker_with_the_websocket_api_and_its_execution_report,
    test_expire_taker_with_python_binance,
)

ON_REDIS_CLUSTER = True  # tests/e2e/conftest.py: the stack runs on the local Redis Cluster
