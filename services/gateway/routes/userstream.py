"""User data streams (Binance USER_STREAM endpoints): a listenKey opens /ws/<listenKey> on the
WebSocket tier, which then carries the user's executionReport and outboundAccountPosition. A
listenKey opened or kept alive with an API key is closed when that key is revoked.

Open to an API key (X-MBX-APIKEY) and to a web session (the cookie; changes with the CSRF header)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from exchange_core import listenkeys
from exchange_core.errors import INVALID_LISTEN_KEY, ApiError
from gateway.callers import session_or_api_key_user
from gateway.context import GatewayContext, context
from gateway.params import request_params
from gateway.principal import Principal
from gateway.responses import JsonObject
from gateway.validation import missing

router = APIRouter(prefix="/api/v3", tags=["user data stream"])

KeyHolder = Annotated[Principal, Depends(session_or_api_key_user)]


async def own_key(request: Request, who: Principal) -> str:
    """The listenKey parameter, if it exists and belongs to the caller (-1125 otherwise)."""
    return await owned_listen_key(context(request), await request_params(request), who.user_id)


async def owned_listen_key(ctx: GatewayContext, params: dict[str, str], user_id: int) -> str:
    """params' listenKey if it exists and belongs to `user_id`: -1102 without one, -1125 for a
    key that expired or is someone else's (REST and the WebSocket API)."""
    key = params.get("listenKey", "")
    if not key:
        raise missing("listenKey")
    if await listenkeys.user_of(ctx.redis, ctx.keys, key) != user_id:
        raise ApiError(INVALID_LISTEN_KEY, "This listenKey does not exist.")
    return key


@router.post("/userDataStream")
async def open_stream(request: Request, who: KeyHolder) -> JsonObject:
    """A new listenKey, valid for 60 minutes unless kept alive."""
    ctx = context(request)
    return {"listenKey": await listenkeys.create(ctx.redis, ctx.keys, who.user_id, who.api_key)}


@router.put("/userDataStream")
async def keep_alive(request: Request, who: KeyHolder) -> JsonObject:
    """Extend a listenKey by 60 minutes."""
    ctx = context(request)
    await listenkeys.keepalive(ctx.redis, ctx.keys, await own_key(request, who), who.api_key)
    return {}


@router.delete("/userDataStream")
async def close_stream(request: Request, who: KeyHolder) -> JsonObject:
    """Close a listenKey: its stream ends."""
    ctx = context(request)
    await listenkeys.close(ctx.redis, ctx.keys, await own_key(request, who))
    return {}
