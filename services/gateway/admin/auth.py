"""Who may call the admin API: the holder of ADMIN_TOKEN, shown as `Authorization: Bearer <token>`.

The token is compared in constant time (hmac.compare_digest), so a wrong guess's answer time
says nothing about how much of it was right. A refused call is answered 401 with Binance's
{-1002, "You are not authorized to execute this request."} and is logged and counted as an
action like any other (outcome "unauthorized").
"""

import hmac
from typing import Annotated

from fastapi import Depends, Request

from exchange_core.errors import UNAUTHORIZED, ApiError
from gateway.admin.audit import admin_audit
from gateway.context import context

# A shorter ADMIN_TOKEN is refused at start-up: it could be guessed.
MIN_TOKEN_LENGTH = 16
BEARER = "bearer "


def check_admin_token(token: str) -> None:
    """Raises ValueError for an ADMIN_TOKEN too short to keep the admin API closed."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"ADMIN_TOKEN must be at least {MIN_TOKEN_LENGTH} characters")


def client_of(request: Request) -> str:
    return request.client.host if request.client else "-"


def action_of(request: Request) -> str:
    """The admin action a request asks for: its route's name (few, fixed: a metric label)."""
    return str(getattr(request.scope.get("route"), "name", "unknown"))


async def require_admin(request: Request) -> str:
    """The caller's address when it shows the admin token; else 401 (-1002)."""
    expected = context(request).settings.admin_token.encode()
    shown = request.headers.get("authorization", "")
    token = shown[len(BEARER) :].strip() if shown[: len(BEARER)].lower() == BEARER else ""
    if not expected or not hmac.compare_digest(token.encode(), expected):
        admin_audit(request).record(action_of(request), "-", "unauthorized", client_of(request))
        raise ApiError(UNAUTHORIZED, "You are not authorized to execute this request.", 401)
    return client_of(request)


Admin = Annotated[str, Depends(require_admin)]
