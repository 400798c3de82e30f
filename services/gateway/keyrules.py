"""What an API key may do, as Binance's key settings say it: reading (always), spot trading (a
choice made at creation, editable), and a list of trusted client IPs (empty: any IP).

A key refused for its IP or its permissions gets the same answer as an unknown key: HTTP 401
`{"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}`.
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from exchange_core.errors import INVALID_PARAMETER, REJECTED_MBX_KEY, ApiError

MAX_ALLOWED_IPS = 30  # Binance's limit of trusted IPs per key
REJECTED_MSG = "Invalid API-key, IP, or permissions for action."


@dataclass(frozen=True, slots=True)
class ApiKeyGrant:
    """An active key as the gateway checks it: owner, secret (HMAC keys; empty otherwise),
    trading permission, trusted IPs (normalized by `normalize_ip`; empty: any IP), its type
    (gateway.keytypes.KeyType's value) and public key PEM (ED25519 and RSA keys; empty for HMAC)."""

    user_id: int
    secret: bytes
    can_trade: bool
    allowed_ips: frozenset[str]
    key_type: str = "HMAC"
    public_key: str = ""


def rejected_key() -> ApiError:
    """Binance's -2015 (401): unknown key, IP not trusted, or no permission for the action."""
    return ApiError(REJECTED_MBX_KEY, REJECTED_MSG, 401)


def normalize_ip(text: str) -> str:
    """`text` as one canonical IP address string: IPv6 compressed and lower-case, an IPv4-mapped
    IPv6 address (::ffff:1.2.3.4) as its IPv4 address. Raises ValueError for anything else
    (networks, host names, scoped IPv6 addresses, surrounding junk)."""
    address = ipaddress.ip_address(text.strip())
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            raise ValueError(f"scoped IPv6 address {text!r}")
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
    return str(address)


def parse_allowed_ips(entries: Iterable[str]) -> list[str]:
    """The trusted-IP list of a key: each entry normalized, duplicates dropped, order kept.

    Raises ApiError(-1130, 400) naming the first entry that is not an IPv4 or IPv6 address, or
    when there are more than MAX_ALLOWED_IPS.
    """
    out: list[str] = []
    for entry in entries:
        try:
            address = normalize_ip(entry)
        except ValueError:
            shown = entry[:64].encode("utf-8", "replace").decode() + ("…" if len(entry) > 64 else "")
            raise ApiError(INVALID_PARAMETER, f"Invalid IP address: '{shown}'.") from None
        if address not in out:
            out.append(address)
    if len(out) > MAX_ALLOWED_IPS:
        raise ApiError(INVALID_PARAMETER, f"At most {MAX_ALLOWED_IPS} IP addresses per API key.")
    return out


def ip_allowed(allowed: frozenset[str], client_ip: str | None) -> bool:
    """Whether a request from `client_ip` (the peer as the gateway sees it; None: unknown) may use
    a key trusting `allowed` (empty: any IP)."""
    if not allowed:
        return True
    if client_ip is None:
        return False
    if client_ip in allowed:  # already canonical, as peers usually are: no parsing
        return True
    try:
        return normalize_ip(client_ip) in allowed
    except ValueError:
        return False


def check_key_use(grant: ApiKeyGrant, client_ip: str | None, trading: bool) -> None:
    """Raises -2015 (rejected_key) when the key does not trust `client_ip`, or when `trading` (the
    endpoint places or cancels orders) and the key may only read."""
    if not ip_allowed(grant.allowed_ips, client_ip) or (trading and not grant.can_trade):
        raise rejected_key()
