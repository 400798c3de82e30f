"""The market maker's account, set up by the launcher (never by the bot, which is an API client).

One user (MM_EMAIL), one API key labelled "marketmaker" reused across restarts (its secret is
read back through the gateway's encryption key), and large balances of every asset, topped up
with an audit row in `deposits` (reason 'marketmaker') before each ledger credit, as
gateway.accounts.grant_demo_funds does. In Kubernetes the key comes from MM_API_KEY and
MM_API_SECRET instead (credentials_from_env).
"""

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg
from cryptography.fernet import Fernet, InvalidToken

from exchange_core.db import create_pool
from exchange_core.errors import ApiError
from exchange_core.keys import Keys
from exchange_core.ledger import MAX_AMOUNT, Ledger
from exchange_core.markets import Market
from exchange_core.store import connect
from exchange_core.units import UnitError, from_units, to_units
from gateway.accounts import (
    asset_decimals,
    create_api_key,
    create_user,
    list_api_keys,
    lookup_api_key,
    revoke_api_key,
)
from gateway.keytypes import KeyType

log = logging.getLogger("marketmaker.account")

MM_EMAIL = "marketmaker@exchange.local"
KEY_LABEL = "marketmaker"
DEPOSIT_REASON = "marketmaker"
# Whole units per asset; an asset of the registry not named here gets no funds (a warning).
DEFAULT_FUNDS = "USDT=20000000,BTC=300,ETH=5000,SOL=100000"


@dataclass(frozen=True, slots=True)
class Credentials:
    """The bot's API key. `user_id` is 0 when the key came from the environment."""

    user_id: int
    api_key: str
    secret: str

    def env(self) -> dict[str, str]:
        """The environment that hands this key to `python -m marketmaker`."""
        return {"MM_API_KEY": self.api_key, "MM_API_SECRET": self.secret}


def credentials_from_env(env: Mapping[str, str] = os.environ) -> Credentials | None:
    """MM_API_KEY and MM_API_SECRET when both are set (Kubernetes: a Secret), else None."""
    api_key, secret = env.get("MM_API_KEY", ""), env.get("MM_API_SECRET", "")
    return Credentials(0, api_key, secret) if api_key and secret else None


def parse_funds(spec: str, decimals: Mapping[str, int]) -> dict[str, int]:
    """`spec` ("USDT=20000000,BTC=300") as {asset: smallest units} for the assets in `decimals`;
    other assets are skipped with a warning. Raises ValueError for a malformed or non-positive
    amount, or one above the ledger's exact range."""
    funds: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        asset, sep, amount = (s.strip() for s in item.partition("="))
        if not sep:
            raise ValueError(f"MM_FUNDS: malformed entry {item!r}")
        if asset not in decimals:
            log.warning("MM_FUNDS names %s, which no market trades; skipped", asset)
            continue
        try:
            units = to_units(amount, decimals[asset])
        except UnitError as exc:
            raise ValueError(f"MM_FUNDS: {asset}: {exc}") from None
        if not 0 < units <= MAX_AMOUNT:
            raise ValueError(f"MM_FUNDS: {asset} must be positive and at most {MAX_AMOUNT} units")
        funds[asset] = units
    for asset in sorted(set(decimals) - set(funds)):
        log.warning("the market maker gets no %s (add it to MM_FUNDS)", asset)
    return funds


async def ensure_user(pool: asyncpg.Pool, email: str) -> int:
    """The id of the user `email`, created (with a random password nobody knows) if missing."""
    for _ in range(2):
        user_id = await pool.fetchval("SELECT id FROM users WHERE email = $1", email)
        if user_id is not None:
            return int(user_id)
        try:
            return await create_user(pool, email, secrets.token_urlsafe(32))
        except ApiError:
            continue  # created concurrently: read it again
    raise RuntimeError(f"could not create or find the user {email}")


async def ensure_api_key(
    pool: asyncpg.Pool, fernet: Fernet, user_id: int, label: str = KEY_LABEL
) -> tuple[str, str]:
    """(api key, secret) of the user's newest active key labelled `label`, or of a new one. A key
    whose secret the current SECRET_KEY cannot decrypt is revoked and replaced."""
    for key in reversed(await list_api_keys(pool, user_id)):
        if key.label != label or key.key_type is not KeyType.HMAC:
            continue
        try:
            found = await lookup_api_key(pool, fernet, key.api_key)
        except InvalidToken:
            await revoke_api_key(pool, user_id, key.id)
            continue
        if found is not None:
            return key.api_key, found.secret.decode()
    _, api_key, secret = await create_api_key(pool, fernet, user_id, label)
    return api_key, secret


async def top_up(
    pool: asyncpg.Pool,
    ledger: Ledger,
    user_id: int,
    targets: Mapping[str, int],
    reason: str,
    decimals: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Bring every asset whose holdings (free + locked) fell under half its target back to the
    target; returns what was credited, in smallest units. Audit rows are committed before the
    credits (a crash in between leaves an audit row without credit, never the reverse). With the
    assets' `decimals`, each credit is announced to the user's streams as a balanceUpdate."""
    held = await ledger.balances(user_id)
    credits = {}
    for asset, target in targets.items():
        free, locked = held.get(asset, (0, 0))
        if free + locked < target // 2:
            credits[asset] = target - free - locked
    if not credits:
        return {}
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO deposits (user_id, asset, amount, reason) VALUES ($1, $2, $3, $4)",
            [(user_id, asset, units, reason) for asset, units in credits.items()],
        )
    for asset, units in credits.items():
        shown = from_units(units, decimals[asset]) if decimals is not None else None
        await ledger.deposit(user_id, asset, units, shown)
    return credits


async def ensure_marketmaker_account(
    pool: asyncpg.Pool,
    ledger: Ledger,
    fernet: Fernet,
    markets: Mapping[str, Market],
    funds: str = DEFAULT_FUNDS,
    email: str = MM_EMAIL,
) -> Credentials:
    """The market maker's user, API key and funds, created or topped up as needed."""
    decimals = asset_decimals(dict(markets))
    targets = parse_funds(funds, decimals)
    user_id = await ensure_user(pool, email)
    api_key, secret = await ensure_api_key(pool, fernet, user_id)
    credited = await top_up(pool, ledger, user_id, targets, DEPOSIT_REASON, decimals)
    if credited:
        log.info("market maker (user %d) funded: %s", user_id, ", ".join(sorted(credited)))
    return Credentials(user_id, api_key, secret)


async def setup_marketmaker(
    database_url: str,
    redis_url: str,
    key_prefix: str,
    secret_key: str,
    markets: Mapping[str, Market],
    funds: str = DEFAULT_FUNDS,
) -> Credentials:
    """ensure_marketmaker_account with its own connections (the database must be migrated)."""
    pool = await create_pool(database_url, min_size=1, max_size=2)
    redis = connect(redis_url, max_connections=4)
    try:
        ledger = Ledger(redis, Keys(key_prefix))
        return await ensure_marketmaker_account(pool, ledger, Fernet(secret_key.encode()), markets, funds)
    finally:
        await redis.aclose()
        await pool.close()
