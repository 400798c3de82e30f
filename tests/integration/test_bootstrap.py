"""`python -m launcher.bootstrap` (the chart's bootstrap Job and init step) against the real
PostgreSQL and Redis: a database that does not exist yet is created and migrated, the market
maker's and the market simulation's agents' keys are exactly the ones given, funds are credited
once, the demo user can log in."""

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from cryptography.fernet import Fernet

from botkit.account import MM_EMAIL
from exchange_core.db import pending_migrations
from exchange_core.keys import Keys
from exchange_core.ledger import Ledger
from exchange_core.store import connect
from gateway.accounts import authenticate, create_user, lookup_api_key
from launcher.bootstrap import BootstrapError, BootstrapSettings, bootstrap, is_ready
from marketsim.accounts import KEY_LABEL, agent_email
from tests import services

MM_KEY = "K" * 32 + "1" * 32
MM_SECRET = "s" * 40 + "2" * 24


@pytest.fixture
def fresh_dsn() -> Iterator[str]:
    """The DSN of a database that does not exist yet; dropped afterwards."""
    services.ensure_postgres()
    dsn = services.PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/exchange_boot_{uuid.uuid4().hex[:10]}"
    yield dsn
    asyncio.run(services.drop_test_database(dsn))


def settings_for(dsn: str, prefix: str, run_dir: Path, **extra: object) -> BootstrapSettings:
    values: dict[str, object] = {
        "database_url": dsn,
        "redis_url": services.REDIS_URL,
        "key_prefix": prefix,
        "secret_key": Fernet.generate_key().decode(),
        "mm_api_key": MM_KEY,
        "mm_api_secret": MM_SECRET,
        "mm_funds": "USDT=1000,BTC=2",
        "run_dir": str(run_dir),
        "BOOTSTRAP_TIMEOUT_SECONDS": 10,
        **extra,
    }
    return BootstrapSettings.model_validate(values)


MmState = tuple[tuple[int, bytes] | None, dict[str, tuple[int, int]]]


async def mm_state(settings: BootstrapSettings) -> MmState:
    """The market maker's (user id, secret) of MM_KEY, and its balances."""
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    redis = connect(settings.redis_url)
    try:
        assert pool is not None
        found = await lookup_api_key(pool, Fernet(settings.secret_key.encode()), MM_KEY)
        user_id = await pool.fetchval("SELECT id FROM users WHERE email = $1", MM_EMAIL)
        balances = await Ledger(redis, Keys(settings.key_prefix)).balances(int(user_id))
        return found, balances
    finally:
        await redis.aclose()
        await pool.close()


async def test_bootstrap_creates_migrates_and_sets_up_accounts_once(
    fresh_dsn: str, key_prefix: str, tmp_path: Path
) -> None:
    (tmp_path / "demo-password").write_text("demo-password-from-secret\n")
    settings = settings_for(fresh_dsn, key_prefix, tmp_path)
    assert (await is_ready(settings)).startswith("database not reachable")
    await bootstrap(settings)
    assert await is_ready(settings) == ""
    found, balances = await mm_state(settings)
    assert found is not None and found.secret == MM_SECRET.encode()
    assert balances == {"USDT": (1000 * 10**8, 0), "BTC": (2 * 10**8, 0)}

    await bootstrap(settings)  # a second run (a chart upgrade) changes nothing
    again, balances_again = await mm_state(settings)
    assert again == found and balances_again == balances
    pool = await asyncpg.create_pool(fresh_dsn, min_size=1, max_size=1)
    assert pool is not None
    try:
        assert await pool.fetchval("SELECT count(*) FROM api_keys WHERE api_key = $1", MM_KEY) == 1
        assert await pool.fetchval("SELECT count(*) FROM deposits WHERE reason = 'marketmaker'") == 2
        assert await authenticate(pool, "demo@exchange.local", "demo-password-from-secret") > 0
        async with pool.acquire() as conn:
            assert await pending_migrations(conn) == []
    finally:
        await pool.close()


async def test_a_new_secret_key_rewrites_the_market_makers_secret(
    fresh_dsn: str, key_prefix: str, tmp_path: Path
) -> None:
    await bootstrap(settings_for(fresh_dsn, key_prefix, tmp_path))
    rotated = settings_for(fresh_dsn, key_prefix, tmp_path)
    await bootstrap(rotated)
    found, _ = await mm_state(rotated)
    assert found is not None and found.secret == MM_SECRET.encode()


async def test_a_key_of_another_user_or_a_malformed_key_is_refused(
    fresh_dsn: str, key_prefix: str, tmp_path: Path
) -> None:
    settings = settings_for(fresh_dsn, key_prefix, tmp_path)
    await bootstrap(settings.model_copy(update={"marketmaker": False}))
    pool = await asyncpg.create_pool(fresh_dsn, min_size=1, max_size=1)
    assert pool is not None
    try:
        other = await create_user(pool, "someone@example.com", "a long password")
        await pool.execute(
            "INSERT INTO api_keys (user_id, api_key, secret_enc) VALUES ($1, $2, $3)", other, MM_KEY, b"x"
        )
    finally:
        await pool.close()
    with pytest.raises(BootstrapError, match="another user"):
        await bootstrap(settings)
    with pytest.raises(BootstrapError, match="MM_API_SECRET"):
        await bootstrap(settings.model_copy(update={"mm_api_secret": "short"}))
    with pytest.raises(BootstrapError, match="SECRET_KEY"):
        await bootstrap(settings.model_copy(update={"secret_key": ""}))


def test_wait_mode_exits_non_zero_until_the_bootstrap_ran(
    fresh_dsn: str, key_prefix: str, tmp_path: Path
) -> None:
    settings = settings_for(fresh_dsn, key_prefix, tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": fresh_dsn,
        "REDIS_URL": services.REDIS_URL,
        "KEY_PREFIX": key_prefix,
        "SECRET_KEY": settings.secret_key,
        "MM_API_KEY": MM_KEY,
        "BOOTSTRAP_TIMEOUT_SECONDS": "1",
    }
    command = [sys.executable, "-m", "launcher.bootstrap", "--wait"]
    waiting = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert waiting.returncode == 1 and "not ready after 1 s" in waiting.stderr
    done = subprocess.run(
        [sys.executable, "-m", "launcher.bootstrap"],
        env={**env, "MM_API_SECRET": MM_SECRET, "MM_FUNDS": "USDT=10"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert subprocess.run(command, env=env, capture_output=True, timeout=60).returncode == 0


async def test_the_simulations_agents_get_exactly_the_given_keys_and_their_funds_once(
    fresh_dsn: str, key_prefix: str, tmp_path: Path
) -> None:
    agents = {"maker-tight": ("A" * 63 + "1", "a" * 63 + "1"), "noise": ("B" * 63 + "2", "b" * 63 + "2")}
    settings = settings_for(fresh_dsn, key_prefix, tmp_path, sim_accounts=agents, sim_funds="USDT=500")
    await bootstrap(settings.model_copy(update={"sim_accounts": {}}))
    assert await is_ready(settings) == "the API key of agent maker-tight is not set up"
    await bootstrap(settings)
    await bootstrap(settings)  # a second run (a chart upgrade) credits nothing more
    assert await is_ready(settings) == ""
    pool = await asyncpg.create_pool(fresh_dsn, min_size=1, max_size=1)
    redis = connect(settings.redis_url)
    try:
        assert pool is not None
        ledger = Ledger(redis, Keys(key_prefix))
        for agent, (api_key, secret) in agents.items():
            found = await lookup_api_key(pool, Fernet(settings.secret_key.encode()), api_key)
            user_id = await pool.fetchval("SELECT id FROM users WHERE email = $1", agent_email(agent))
            assert found is not None and found.secret == secret.encode() and found.user_id == user_id
            label = await pool.fetchval("SELECT label FROM api_keys WHERE api_key = $1", api_key)
            assert label == KEY_LABEL
            assert await ledger.balances(int(user_id)) == {"USDT": (500 * 10**8, 0)}
    finally:
        await redis.aclose()
        await pool.close()
    malformed = {"noise": ("short", "b" * 64)}
    with pytest.raises(BootstrapError, match="API key of agent noise"):
        await bootstrap(settings.model_copy(update={"sim_accounts": malformed}))
