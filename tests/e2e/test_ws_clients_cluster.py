"""test_ws_clients' scenarios on a real local Redis Cluster: user data streams (settlement's
SPUBLISH on user.{uid}, the ws tier's shard subscription at the user's master) and ccxt.pro's
watch_trades / watch_ohlcv / watch_order_book (md.{SYMBOL})."""

from tests.e2e.test_ws_clients import (  # noqa: F401 (collected here: the same scenarios on a cluster)
    stack_ws,
    test_ccxt_pro_watch_order_book,
    test_ccxt_pro_watch_trades_and_ohlcv,
    test_user_data_stream_forwards_settlement_payloads,
)

ON_REDIS_CLUSTER = True  # tests/e2e/conftest.py: the stack runs on the local Redis Cluster
