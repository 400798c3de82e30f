"""The demo login `make run` prints: one user with demo funds and a password generated once.

The password is kept in run_dir/demo-password (0600); when the database already holds the user
with another password (a new run dir against an old database), the password is reset to the
file's, so that the printed login always works.
"""

import asyncio
import secrets
from pathlib import Path

import asyncpg
from argon2 import PasswordHasher

from exchange_core.errors import ApiError
from exchange_core.ledger import Ledger
from exchange_core.markets import Market
from gateway.accounts import authenticate, create_user, grant_demo_funds, normalize_email
from launcher.prepare import read_or_create

PASSWORD_FILE = "demo-password"


async def _set_password(pool: asyncpg.Pool, user_id: int, password: str) -> None:
    password_hash = await asyncio.to_thread(PasswordHasher().hash, password)
    await pool.execute("UPDATE users SET password_hash = $1 WHERE id = $2", password_hash, user_id)


async def ensure_demo_user(
    pool: asyncpg.Pool, ledger: Ledger, markets: dict[str, Market], email: str, run_dir: Path, funds: str
) -> str:
    """Make sure `email` (normalized as sign-up does) can log in with the password in
    run_dir/demo-password and holds funds (the demo funds `funds` are granted when the user holds
    nothing at all, e.g. after Redis was emptied); returns the password. A malformed `email`
    raises ApiError."""
    password = read_or_create(run_dir / PASSWORD_FILE, lambda: secrets.token_urlsafe(12))
    email = normalize_email(email)
    user_id = await pool.fetchval("SELECT id FROM users WHERE email = $1", email)
    if user_id is None:
        user_id = await create_user(pool, email, password)
    else:
        try:
            await authenticate(pool, email, password)
        except ApiError:
            await _set_password(pool, int(user_id), password)
    if not await ledger.balances(int(user_id)):
        await grant_demo_funds(pool, ledger, markets, int(user_id), funds)
    return password
