"""The simulation's accounts, set up by the launcher (never by the simulation, an API client):
one user per agent (`sim-<agent>@exchange.local`), its API key labelled "marketsim" and its
funds, made and topped up as the market maker's are (botkit.account)."""

import json
import logging
from collections.abc import Mapping

import asyncpg
from cryptography.fernet import Fernet

from botkit.account import DEFAULT_FUNDS, Credentials, ensure_api_key, ensure_user, parse_funds, top_up
from exchange_core.db import create_pool
from exchange_core.keys import Keys
from exchange_core.ledger import Ledger
from exchange_core.markets import Market
from exchange_core.store import connect
from gateway.accounts import asset_decimals

log = logging.getLogger("marketsim.accounts")

KEY_LABEL = "marketsim"
DEPOSIT_REASON = "marketsim"


def agent_email(agent: str) -> str:
    return f"sim-{agent}@exchange.local"


def accounts_env(credentials: Mapping[str, Credentials]) -> dict[str, str]:
    """The environment that hands the agents' keys to `python -m marketsim` (SIM_ACCOUNTS)."""
    keys = {agent: [c.api_key, c.secret] for agent, c in credentials.items()}
    return {"SIM_ACCOUNTS": json.dumps(keys, separators=(",", ":"))}


async def ensure_agent_accounts(
    pool: asyncpg.Pool,
    ledger: Ledger,
    fernet: Fernet,
    markets: Mapping[str, Market],
    agents: list[str],
    funds: str = DEFAULT_FUNDS,
) -> dict[str, Credentials]:
    """Every agent's user, API key and funds (each agent `funds`), created or topped up."""
    decimals = asset_decimals(dict(markets))
    targets = parse_funds(funds, decimals)
    credentials = {}
    for agent in agents:
        user_id = await ensure_user(pool, agent_email(agent))
        api_key, secret = await ensure_api_key(pool, fernet, user_id, KEY_LABEL)
        await top_up(pool, ledger, user_id, targets, DEPOSIT_REASON, decimals)
        credentials[agent] = Credentials(user_id, api_key, secret)
    log.info("market simulation accounts ready: %s", ", ".join(agents))
    return credentials


async def setup_agents(
    database_url: str,
    redis_url: str,
    key_prefix: str,
    secret_key: str,
    markets: Mapping[str, Market],
    agents: list[str],
    funds: str = DEFAULT_FUNDS,
) -> dict[str, Credentials]:
    """ensure_agent_accounts with its own connections (the database must be migrated)."""
    pool = await create_pool(database_url, min_size=1, max_size=2)
    redis = connect(redis_url, max_connections=4)
    try:
        ledger = Ledger(redis, Keys(key_prefix))
        return await ensure_agent_accounts(pool, ledger, Fernet(secret_key.encode()), markets, agents, funds)
    finally:
        await redis.aclose()
        await pool.close()
