"""Binance's SIGNED rules ("Endpoint security type"), whatever carries the request (REST, the
WebSocket API, gRPC metadata).

A SIGNED request names its API key and carries `timestamp` (mandatory), `recvWindow` (optional,
default 5000 ms, at most 60000) and `signature` of totalParams (gateway.params.signed_payload) as
the key's type defines it (gateway.keytypes: hex HMAC-SHA256 with the key's secret, or base64
Ed25519 or RSA signature checked with the key's public key). Every key may read; a trading call (placing or
cancelling orders) needs the key's trading permission, and a key with trusted IPs works only from
those (gateway.keyrules): otherwise -2015.
"""

import re

from exchange_core.clock import now_ms
from exchange_core.errors import (
    BAD_API_KEY_FMT,
    BAD_RECV_WINDOW,
    ILLEGAL_CHARS,
    INVALID_SIGNATURE,
    INVALID_TIMESTAMP,
    MANDATORY_PARAM_EMPTY_OR_MALFORMED,
    ApiError,
)
from gateway.context import GatewayContext
from gateway.keycache import ApiKeyCache, resolve_api_key
from gateway.keyrules import check_key_use
from gateway.keytypes import signature_valid
from gateway.principal import Principal

DEFAULT_RECV_WINDOW = 5_000
MAX_RECV_WINDOW = 60_000
MAX_FUTURE_MS = 1_000

_API_KEY = re.compile(r"[A-Za-z0-9]{64}")
_DIGITS = re.compile(r"[0-9]{1,20}")


def _missing(name: str) -> ApiError:
    return ApiError(
        MANDATORY_PARAM_EMPTY_OR_MALFORMED,
        f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
    )


def _timestamp(params: dict[str, str]) -> int:
    value = params.get("timestamp", "")
    if not _DIGITS.fullmatch(value):
        raise _missing("timestamp")
    return int(value)


def _recv_window(params: dict[str, str]) -> int:
    value = params.get("recvWindow")
    if value is None or value == "":
        return DEFAULT_RECV_WINDOW
    if not _DIGITS.fullmatch(value):
        raise ApiError(
            ILLEGAL_CHARS,
            "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,20}$'.",
        )
    window = int(value)
    if not 0 < window <= MAX_RECV_WINDOW:
        raise ApiError(BAD_RECV_WINDOW, "recvWindow must be less than 60000")
    return window


def check_timestamp(timestamp: int, recv_window: int, now_ms: int) -> None:
    """Raises ApiError(-1021) unless now - recvWindow <= timestamp < now + 1000."""
    if timestamp >= now_ms + MAX_FUTURE_MS:
        raise ApiError(INVALID_TIMESTAMP, "Timestamp for this request was 1000ms ahead of the server's time.")
    if now_ms - timestamp > recv_window:
        raise ApiError(INVALID_TIMESTAMP, "Timestamp for this request is outside of the recvWindow.")


def check_api_key_format(api_key: str) -> str:
    """`api_key` if well formed; raises ApiError(-2014, 401) otherwise."""
    if not _API_KEY.fullmatch(api_key):
        raise ApiError(BAD_API_KEY_FMT, "API-key format invalid.", 401)
    return api_key


async def verify_signed(
    ctx: GatewayContext,
    cache: ApiKeyCache,
    api_key: str,
    params: dict[str, str],
    payload: bytes,
    *,
    client_ip: str | None,
    trading: bool,
) -> Principal:
    """The owner of a SIGNED request whose well-formed key is `api_key`, whose parameters are
    `params` and whose totalParams is `payload`, sent from `client_ip` (None: unknown) to an
    endpoint that places or cancels orders when `trading`.

    Rejections, in the order checked: -1102 (timestamp missing or malformed), -1100/-1131 (bad
    recvWindow), -1021 (timestamp ahead by 1000 ms or more, or older than recvWindow: a replay),
    -1102 (no signature), -2015 (unknown or revoked key, an IP the key does not trust, or
    `trading` with a read-only key), -1022 (signature mismatch).
    """
    timestamp = _timestamp(params)
    check_timestamp(timestamp, _recv_window(params), now_ms())
    signature = params.get("signature")
    if not signature:
        raise _missing("signature")
    grant = await resolve_api_key(ctx, cache, api_key)
    check_key_use(grant, client_ip, trading)
    if not signature_valid(grant.key_type, grant.secret, grant.public_key, payload, signature):
        raise ApiError(INVALID_SIGNATURE, "Signature for this request is not valid.", 400)
    return Principal(grant.user_id, "api_key", api_key, grant.key_type)


async def verify_logged_on(
    ctx: GatewayContext,
    cache: ApiKeyCache,
    api_key: str,
    params: dict[str, str],
    *,
    client_ip: str | None,
    trading: bool,
) -> Principal:
    """The owner of a request on a WebSocket API connection logged on with `api_key`
    (session.logon): the SIGNED rules but the signature, which the logon proved. Rejections:
    -1102 (timestamp missing or malformed), -1100/-1131 (bad recvWindow), -1021, -2015 (the key
    revoked since, an IP it does not trust, or `trading` with a read-only key)."""
    check_timestamp(_timestamp(params), _recv_window(params), now_ms())
    grant = await resolve_api_key(ctx, cache, api_key)
    check_key_use(grant, client_ip, trading)
    return Principal(grant.user_id, "api_key", api_key, grant.key_type)
