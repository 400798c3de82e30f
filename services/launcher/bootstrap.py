"""`python -m launcher.bootstrap`: what `make run` prepares, for Kubernetes (the chart's Job).

Waits until Redis and PostgreSQL answer (they may still be starting), creates the database if
missing and applies the migrations, then sets up the market maker's user with the API key and
secret given in MM_API_KEY / MM_API_SECRET (the chart generates them once into a Secret, so the
bot's pod reads the same pair) and its funds, the market simulation's agents with the keys of
SIM_ACCOUNTS (`{"agent": ["key", "secret"]}`, the format `python -m marketsim` reads) and their
funds (SIM_FUNDS), and the demo user when RUN_DIR holds a `demo-password` file (the chart mounts
it from the Secret). Safe to run again: every step is idempotent.

`python -m launcher.bootstrap --wait` is the init step of the pods that need the database: it
returns once every migration is applied (and MM_API_KEY and the keys of SIM_ACCOUNTS, when set,
are active keys).

Exit codes: 0 done, 1 a configuration error or timeout (the message says which).
"""

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

import asyncpg
from cryptography.fernet import Fernet
from pydantic import Field

from botkit.account import (
    DEFAULT_FUNDS,
    DEPOSIT_REASON,
    KEY_LABEL,
    MM_EMAIL,
    ensure_user,
    parse_funds,
    top_up,
)
from exchange_core.config import CommonSettings
from exchange_core.db import create_pool, pending_migrations
from exchange_core.errors import ApiError
from exchange_core.keys import Keys
from exchange_core.ledger import Ledger
from exchange_core.markets import Market, load_markets
from exchange_core.store import connect
from gateway.accounts import KEY_LENGTH, asset_decimals
from gateway.settings import GatewaySettings
from launcher.demo import PASSWORD_FILE, ensure_demo_user
from launcher.prepare import PrepareError, check_redis, prepare_database
from marketsim import accounts as sim

log = logging.getLogger("launcher.bootstrap")

RETRY_S = 2.0


class BootstrapError(Exception):
    """The environment is wrong in a way that waiting will not fix; the message says how."""


class BootstrapSettings(CommonSettings):
    secret_key: str = ""
    marketmaker: bool = True
    mm_api_key: str = ""
    mm_api_secret: str = ""
    mm_funds: str = DEFAULT_FUNDS
    # The market simulation's agents and their keys, {"agent": ["key", "secret"]}; empty: none.
    sim_accounts: dict[str, tuple[str, str]] = Field(default_factory=dict)
    sim_funds: str = DEFAULT_FUNDS
    demo_email: str = "demo@exchange.local"
    # A folder holding `demo-password`; empty (or no such file): no demo user.
    run_dir: str = ""
    # How long Redis and PostgreSQL may take to come up (and, with --wait, the migrations).
    timeout_seconds: float = Field(default=600.0, gt=0, validation_alias="BOOTSTRAP_TIMEOUT_SECONDS")


async def ensure_api_key(
    pool: asyncpg.Pool,
    fernet: Fernet,
    user_id: int,
    api_key: str,
    secret: str,
    label: str = KEY_LABEL,
    names: tuple[str, str] = ("MM_API_KEY", "MM_API_SECRET"),
) -> None:
    """Make (`api_key`, `secret`) an active key of `user_id` labelled `label`: inserted when
    missing, its secret rewritten and un-revoked when present. Raises BootstrapError, naming the
    key and the secret by `names`, when either is malformed or the key belongs to another user."""
    for value, what in zip((api_key, secret), names, strict=True):
        if len(value) != KEY_LENGTH or not value.isalnum() or not value.isascii():
            raise BootstrapError(f"{what} must be {KEY_LENGTH} letters and digits")
    owner = await pool.fetchval(
        "INSERT INTO api_keys (user_id, api_key, secret_enc, label) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (api_key) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, revoked_at = NULL"
        " WHERE api_keys.user_id = EXCLUDED.user_id RETURNING user_id",
        user_id,
        api_key,
        fernet.encrypt(secret.encode()),
        label,
    )
    if owner is None:
        raise BootstrapError(f"{names[0]} is already the API key of another user")


async def key_is_active(pool: asyncpg.Pool, api_key: str) -> bool:
    found = await pool.fetchval("SELECT 1 FROM api_keys WHERE api_key = $1 AND revoked_at IS NULL", api_key)
    return found is not None


async def set_up_accounts(settings: BootstrapSettings, key: str, markets: dict[str, Market]) -> None:
    """The market maker (user, key, funds) and the demo user, in the migrated database."""
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    redis = connect(settings.redis_url, max_connections=4)
    try:
        ledger = Ledger(redis, Keys(settings.key_prefix))
        if settings.marketmaker:
            if not settings.mm_api_key or not settings.mm_api_secret:
                raise BootstrapError("MM_API_KEY and MM_API_SECRET are required (or MARKETMAKER=false)")
            decimals = asset_decimals(markets)
            targets = parse_funds(settings.mm_funds, decimals)
            user_id = await ensure_user(pool, MM_EMAIL)
            fernet = Fernet(key.encode())
            await ensure_api_key(pool, fernet, user_id, settings.mm_api_key, settings.mm_api_secret)
            credited = await top_up(pool, ledger, user_id, targets, DEPOSIT_REASON, decimals)
            log.info("market maker: user %d, key ready, credited %s", user_id, sorted(credited) or "nothing")
        if settings.sim_accounts:
            await set_up_agents(pool, ledger, Fernet(key.encode()), settings, markets)
        run_dir = Path(settings.run_dir) if settings.run_dir else None
        if run_dir is not None and (run_dir / PASSWORD_FILE).is_file():
            funds = GatewaySettings().demo_funds
            await ensure_demo_user(pool, ledger, markets, settings.demo_email, run_dir, funds)
            log.info("demo user %s ready", settings.demo_email)
    except ApiError as exc:
        raise BootstrapError(f"DEMO_EMAIL: {exc.msg}") from None
    except ValueError as exc:  # MM_FUNDS, SIM_FUNDS or DEMO_FUNDS
        raise BootstrapError(str(exc)) from None
    finally:
        await redis.aclose()
        await pool.close()


async def set_up_agents(
    pool: asyncpg.Pool,
    ledger: Ledger,
    fernet: Fernet,
    settings: BootstrapSettings,
    markets: dict[str, Market],
) -> None:
    """Every agent of SIM_ACCOUNTS: its user, the given key (labelled as marketsim.accounts labels
    the keys it makes) and its funds (SIM_FUNDS)."""
    decimals = asset_decimals(markets)
    targets = parse_funds(settings.sim_funds, decimals)
    for agent, (api_key, secret) in settings.sim_accounts.items():
        user_id = await ensure_user(pool, sim.agent_email(agent))
        names = (f"the API key of agent {agent}", f"the API secret of agent {agent}")
        await ensure_api_key(pool, fernet, user_id, api_key, secret, sim.KEY_LABEL, names)
        await top_up(pool, ledger, user_id, targets, sim.DEPOSIT_REASON, decimals)
    log.info("market simulation agents ready: %s", ", ".join(settings.sim_accounts))


async def until_reachable(settings: BootstrapSettings, deadline: float) -> list[str]:
    """Check Redis, then create and migrate the database, retrying while either is unreachable
    until `deadline` (monotonic); returns the migrations applied. Raises PrepareError at the end."""
    while True:
        try:
            await asyncio.to_thread(check_redis, settings.redis_url)
            return await prepare_database(settings.database_url)
        except PrepareError as exc:
            if time.monotonic() + RETRY_S > deadline:
                raise
            log.info("waiting: %s", exc)
            await asyncio.sleep(RETRY_S)


async def bootstrap(settings: BootstrapSettings) -> None:
    """Migrate and set up the accounts. Raises BootstrapError or PrepareError."""
    try:
        Fernet(settings.secret_key.encode())
    except ValueError:
        raise BootstrapError("SECRET_KEY must be a Fernet key (urlsafe base64 of 32 bytes)") from None
    markets = load_markets(Path(settings.markets_file) if settings.markets_file else None)
    applied = await until_reachable(settings, time.monotonic() + settings.timeout_seconds)
    log.info("database migrated: %s", ", ".join(applied) or "already up to date")
    await set_up_accounts(settings, settings.secret_key, markets)


async def is_ready(settings: BootstrapSettings) -> str:
    """What is still missing ("" when nothing): unapplied migrations, the market maker's key, the
    market simulation's keys."""
    try:
        conn = await asyncio.wait_for(asyncpg.connect(settings.database_url), timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"database not reachable ({exc})"
    try:
        pending = await pending_migrations(conn)
        if pending:
            return f"migrations not applied: {', '.join(pending)}"
    finally:
        await conn.close()
    keys = {"the market maker": settings.mm_api_key} if settings.mm_api_key else {}
    keys |= {f"agent {agent}": api_key for agent, (api_key, _) in settings.sim_accounts.items()}
    if keys:
        pool = await create_pool(settings.database_url, min_size=1, max_size=1)
        try:
            for owner, api_key in keys.items():
                if not await key_is_active(pool, api_key):
                    return f"the API key of {owner} is not set up"
        finally:
            await pool.close()
    return ""


async def wait_ready(settings: BootstrapSettings) -> None:
    """Return once is_ready finds nothing missing; raises BootstrapError after the timeout."""
    deadline = time.monotonic() + settings.timeout_seconds
    while missing := await is_ready(settings):
        if time.monotonic() + RETRY_S > deadline:
            raise BootstrapError(f"not ready after {settings.timeout_seconds:.0f} s: {missing}")
        log.info("waiting for the bootstrap job: %s", missing)
        await asyncio.sleep(RETRY_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher.bootstrap", description=__doc__.split("\n")[0])
    parser.add_argument("--wait", action="store_true", help="only wait until the bootstrap is done")
    args = parser.parse_args(argv)
    settings = BootstrapSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        asyncio.run(wait_ready(settings) if args.wait else bootstrap(settings))
    except (BootstrapError, PrepareError) as exc:
        print(f"bootstrap failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
