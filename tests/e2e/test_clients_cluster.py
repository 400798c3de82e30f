"""test_clients' scenarios (ccxt and python-binance, unchanged) against the order path on a real
local Redis Cluster (tests/e2e/conftest.py: `stack` with ON_REDIS_CLUSTER)."""

from tests.e2e.test_clients import (  # noqa: F401 (collected here: the same scenarios on a cluster)
    new_binance,
    new_ccxt,
    test_binance_account_and_asset_balance,
    test_binance_exchange_info_and_symbol_info,
    test_binance_insufficient_balance_is_code_2010,
    test_binance_limit_order_get_open_cancel_and_all_orders,
    test_binance_market_buys_fees_and_my_trades,
    test_ccxt_errors_become_ccxt_exceptions,
    test_ccxt_fetch_balance_shows_the_demo_funds,
    test_ccxt_fill_between_two_users_fees_and_my_trades,
    test_ccxt_limit_order_fetch_open_and_cancel,
    test_ccxt_load_markets_gives_precision_and_limits,
    test_ccxt_market_buys_by_amount_and_by_cost,
)

ON_REDIS_CLUSTER = True  # tests/e2e/conftest.py: the stack runs on the local Redis Cluster
