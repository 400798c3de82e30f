"""Users and API keys in PostgreSQL (migrations/001_accounts.sql), and the demo funds of a sign-up.

Passwords are stored as argon2id hashes; API secrets (HMAC keys) only encrypted with the gateway's
Fernet key (settings.secret_key) and shown to their owner once, at creation. Ed25519 and RSA keys
store the public key their owner registered (gateway.keytypes); no private key ever reaches the
exchange. Hashing runs in a worker thread
so that the event loop keeps serving while it works.
"""

import asyncio
import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet

from exchange_core.errors import INVALID_PARAMETER, UNAUTHORIZED, ApiError
from exchange_core.ledger import Ledger
from exchange_core.markets import Market
from exchange_core.units import from_units, to_units
from gateway.keyrules import ApiKeyGrant, parse_allowed_ips
from gateway.keytypes import KeyType, normalize_public_key

MIN_PASSWORD = 8
MAX_PASSWORD = 256  # argon2 would hash anything; a bound keeps sign-up cheap to refuse
MAX_EMAIL = 254
MAX_LABEL = 64
KEY_LENGTH = 64
KEY_ALPHABET = string.ascii_letters + string.digits
SIGNUP_REASON = "signup"

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """An API key as its owner may see it again: never the secret."""

    id: int
    api_key: str
    label: str
    created_at: datetime
    can_trade: bool
    allowed_ips: tuple[str, ...]  # trusted client IPs; empty: any
    key_type: KeyType


class EmailTaken(ApiError):
    """-1130: sign-up with an e-mail that is registered already."""

    def __init__(self) -> None:
        super().__init__(INVALID_PARAMETER, "An account with this email already exists.")


def bad_credentials() -> ApiError:
    return ApiError(UNAUTHORIZED, "Invalid email or password.", 401)


def _encodable(text: str) -> bool:
    """Whether `text` is valid UTF-8 once encoded (JSON may carry lone surrogates)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _storable(text: str) -> bool:
    """Whether PostgreSQL can store `text`: encodable, without NUL characters."""
    return "\x00" not in text and _encodable(text)


def normalize_email(email: str) -> str:
    """`email` trimmed and lower-cased. Raises ApiError(-1130) when it is not shaped like one."""
    normalized = email.strip().lower()
    if len(normalized) > MAX_EMAIL or not _storable(normalized) or not _EMAIL.fullmatch(normalized):
        raise ApiError(INVALID_PARAMETER, "Invalid email address.")
    return normalized


def check_password(password: str) -> None:
    """Raises ApiError(-1130) unless MIN_PASSWORD <= len(password) <= MAX_PASSWORD and it is text
    that UTF-8 can encode."""
    if not _encodable(password):
        raise ApiError(INVALID_PARAMETER, "Password contains characters that cannot be used.")
    if len(password) < MIN_PASSWORD:
        raise ApiError(INVALID_PARAMETER, f"Password must be at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise ApiError(INVALID_PARAMETER, f"Password must be at most {MAX_PASSWORD} characters.")


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the email is unknown, so that both failures cost the same."""
    return _hasher.hash(secrets.token_hex(16))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def create_user(pool: asyncpg.Pool, email: str, password: str) -> int:
    """Register a user; returns the new user id.

    Raises ApiError(-1130, 400) for a malformed email, a password shorter than 8 characters, or an
    email already registered (compared case-insensitively).
    """
    normalized = normalize_email(email)
    check_password(password)
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    try:
        user_id = await pool.fetchval(
            "INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id", normalized, password_hash
        )
    except asyncpg.UniqueViolationError:
        raise EmailTaken from None
    return int(user_id)


async def authenticate(pool: asyncpg.Pool, email: str, password: str) -> int:
    """The id of the user with this email and password.

    Raises ApiError(-1002, 401) otherwise, after the same work (one argon2 verification) whether or
    not the email is known.
    """
    usable = _storable(email) and _encodable(password)
    row = (
        await pool.fetchrow("SELECT id, password_hash FROM users WHERE email = $1", email.strip().lower())
        if usable
        else None
    )
    if row is None or len(password) > MAX_PASSWORD:
        password = password if usable else ""
        await asyncio.to_thread(_verify, _dummy_hash(), password[:MAX_PASSWORD])
        raise bad_credentials()
    if not await asyncio.to_thread(_verify, row["password_hash"], password):
        raise bad_credentials()
    if _hasher.check_needs_rehash(row["password_hash"]):
        new_hash = await asyncio.to_thread(_hasher.hash, password)
        await pool.execute("UPDATE users SET password_hash = $1 WHERE id = $2", new_hash, row["id"])
    return int(row["id"])


async def get_user(pool: asyncpg.Pool, user_id: int) -> User | None:
    row = await pool.fetchrow("SELECT id, email FROM users WHERE id = $1", user_id)
    return None if row is None else User(int(row["id"]), str(row["email"]))


def _random_token() -> str:
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


async def create_api_key(
    pool: asyncpg.Pool,
    fernet: Fernet,
    user_id: int,
    label: str,
    *,
    can_trade: bool = True,
    allowed_ips: Sequence[str] = (),
    key_type: KeyType = KeyType.HMAC,
    public_key: str = "",
) -> tuple[int, str, str]:
    """A new API key for `user_id`: (key id, api key, secret), the key 64 alphanumerics.

    An HMAC key's secret is 64 alphanumerics generated here, stored only encrypted with `fernet`;
    this is the one time it is returned. An ED25519 or RSA key has no secret (returned empty): it
    stores `public_key`, a PEM public key of that type (keytypes.normalize_public_key).
    Reading is always allowed; trading when `can_trade`; from any IP unless `allowed_ips` lists
    the trusted ones. Raises ApiError(-1130) when `label` is longer than 64 characters or holds a
    character that is not printable (a control character such as NUL, a lone surrogate), for an
    invalid IP list (keyrules.parse_allowed_ips), or for a public key refused by
    keytypes.normalize_public_key (any public key given with an HMAC key included).
    """
    label = label.strip()
    if len(label) > MAX_LABEL:
        raise ApiError(INVALID_PARAMETER, f"Label must be at most {MAX_LABEL} characters.")
    if not label.isprintable():
        raise ApiError(INVALID_PARAMETER, "Label must be printable text.")
    ips = parse_allowed_ips(allowed_ips)
    pem: str | None = None
    if key_type is not KeyType.HMAC or public_key.strip():
        pem = normalize_public_key(key_type, public_key)
    api_key = _random_token()
    secret = _random_token() if pem is None else ""
    key_id = await pool.fetchval(
        "INSERT INTO api_keys"
        " (user_id, api_key, secret_enc, label, can_trade, allowed_ips, key_type, public_key)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        user_id,
        api_key,
        fernet.encrypt(secret.encode()) if pem is None else None,
        label,
        can_trade,
        ips,
        key_type.value,
        pem,
    )
    return int(key_id), api_key, secret


_KEY_INFO_COLUMNS = "id, api_key, label, created_at, can_trade, allowed_ips, key_type"


def _key_info(row: asyncpg.Record) -> ApiKeyInfo:
    return ApiKeyInfo(
        int(row["id"]),
        row["api_key"],
        row["label"],
        row["created_at"],
        bool(row["can_trade"]),
        tuple(row["allowed_ips"]),
        KeyType(row["key_type"]),
    )


async def list_api_keys(pool: asyncpg.Pool, user_id: int) -> list[ApiKeyInfo]:
    """The user's active (not revoked) API keys, oldest first."""
    rows = await pool.fetch(
        f"SELECT {_KEY_INFO_COLUMNS} FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id",
        user_id,
    )
    return [_key_info(r) for r in rows]


async def set_api_key_permissions(
    pool: asyncpg.Pool,
    user_id: int,
    key_id: int,
    *,
    can_trade: bool | None = None,
    allowed_ips: Sequence[str] | None = None,
) -> ApiKeyInfo:
    """Change the permissions of one of the user's own active keys (None: leave as it is); returns
    the key as it now is. Gateways that cached the key see the change within their cache's life.

    Raises ApiError(-1130, 400) for an invalid IP list, (-1130, 404) for a key that is unknown,
    revoked or someone else's.
    """
    ips = None if allowed_ips is None else parse_allowed_ips(allowed_ips)
    row = await pool.fetchrow(
        "UPDATE api_keys SET can_trade = COALESCE($3, can_trade), allowed_ips = COALESCE($4, allowed_ips)"
        f" WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING {_KEY_INFO_COLUMNS}",
        key_id,
        user_id,
        can_trade,
        ips,
    )
    if row is None:
        raise ApiError(INVALID_PARAMETER, "Unknown API key.", 404)
    return _key_info(row)


async def revoke_api_key(pool: asyncpg.Pool, user_id: int, key_id: int) -> str:
    """Revoke one of the user's own active keys; returns the api key (to evict it from caches).

    Raises ApiError(-1130, 404) for a key that is unknown, already revoked or someone else's.
    """
    api_key = await pool.fetchval(
        "UPDATE api_keys SET revoked_at = now()"
        " WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING api_key",
        key_id,
        user_id,
    )
    if api_key is None:
        raise ApiError(INVALID_PARAMETER, "Unknown API key.", 404)
    return str(api_key)


async def lookup_api_key(pool: asyncpg.Pool, fernet: Fernet, api_key: str) -> ApiKeyGrant | None:
    """What an active API key may do (owner, secret or public key, permissions), or None when it
    is unknown or revoked."""
    row = await pool.fetchrow(
        "SELECT user_id, secret_enc, can_trade, allowed_ips, key_type, public_key FROM api_keys"
        " WHERE api_key = $1 AND revoked_at IS NULL",
        api_key,
    )
    if row is None:
        return None
    secret_enc = row["secret_enc"]
    return ApiKeyGrant(
        int(row["user_id"]),
        fernet.decrypt(bytes(secret_enc)) if secret_enc is not None else b"",
        bool(row["can_trade"]),
        frozenset(row["allowed_ips"]),
        key_type=str(row["key_type"]),
        public_key=row["public_key"] or "",
    )


def asset_decimals(markets: dict[str, Market]) -> dict[str, int]:
    """The decimals of every asset traded in `markets`."""
    decimals: dict[str, int] = {}
    for market in markets.values():
        decimals[market.base.name] = market.base.decimals
        decimals[market.quote.name] = market.quote.decimals
    return decimals


def parse_demo_funds(spec: str, decimals: dict[str, int]) -> list[tuple[str, int]]:
    """`spec` ("USDT=10000,BTC=0.5") as [(asset, amount in the asset's smallest unit)].

    Zero amounts are left out. Raises ValueError for an unknown asset, a malformed or negative
    amount, or an asset listed twice: a configuration error, not a user's.
    """
    funds: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        asset, sep, amount = (s.strip() for s in item.partition("="))
        if not sep or asset not in decimals:
            raise ValueError(f"demo funds: unknown asset or malformed entry {item!r}")
        if asset in funds:
            raise ValueError(f"demo funds: {asset} is listed twice")
        units = to_units(amount, decimals[asset])
        if units < 0:
            raise ValueError(f"demo funds: negative amount for {asset}")
        funds[asset] = units
    return [(asset, units) for asset, units in funds.items() if units > 0]


async def grant_demo_funds(
    pool: asyncpg.Pool, ledger: Ledger, markets: dict[str, Market], user_id: int, spec: str
) -> list[tuple[str, int]]:
    """Credit the demo funds of `spec` to `user_id`; returns what was credited, in smallest units.

    The audit rows (`deposits`, reason 'signup') are committed first, in one transaction, then the
    ledger is credited: a crash in between leaves an audit row without its credit, which a
    reconciliation can find, never a credit without its audit row. Each credit is announced to the
    user's streams as a balanceUpdate.
    """
    decimals = asset_decimals(markets)
    funds = parse_demo_funds(spec, decimals)
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO deposits (user_id, asset, amount, reason) VALUES ($1, $2, $3, $4)",
            [(user_id, asset, units, SIGNUP_REASON) for asset, units in funds],
        )
    for asset, units in funds:
        await ledger.deposit(user_id, asset, units, from_units(units, decimals[asset]))
    return funds
