"""Admin actions on markets: read every market's trading status, halt one, resume it.

- `GET /admin/v1/markets`: `[{"symbol", "status", "reason", "since"}]` for every market.
- `POST /admin/v1/markets/{symbol}/halt`, JSON body optional: `{"status": "HALT" | "BREAK",
  "reason": "..."}` (HALT and no reason by default). New orders are then refused with
  {-1013, "Market is closed."} by every gateway process; cancels and queries go on.
- `POST /admin/v1/markets/{symbol}/resume`: back to TRADING.

Each answers the market's status as stored. An unknown symbol is {-1121, "Invalid symbol."}
(400). Halting a halted market again replaces its status and reason.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from exchange_core.clock import now_ms
from exchange_core.errors import BAD_SYMBOL, INVALID_PARAMETER, ApiError
from exchange_core.marketstatus import TRADING, MarketStatus, TradingStatus, write_status
from gateway.admin.audit import admin_audit
from gateway.admin.auth import Admin
from gateway.context import context
from gateway.marketstatus import status_json
from gateway.responses import JsonObject

router = APIRouter(prefix="/admin/v1", tags=["admin"])

MAX_REASON = 200


class HaltRequest(BaseModel):
    status: TradingStatus = TradingStatus.HALT
    reason: str = Field(default="", max_length=MAX_REASON)


def _symbol(request: Request, symbol: str, action: str, client: str) -> str:
    symbol = symbol.upper()
    if symbol not in context(request).markets:
        admin_audit(request).record(action, symbol, "invalid", client)
        raise ApiError(BAD_SYMBOL, "Invalid symbol.")
    return symbol


@router.get("/markets")
async def statuses(request: Request, client: Admin) -> list[JsonObject]:
    """Every market's trading status, as this gateway process applies it."""
    ctx = context(request)
    admin_audit(request).record("statuses", "*", "ok", client)
    return [status_json(symbol, ctx.statuses.get(symbol)) for symbol in ctx.markets]


@router.post("/markets/{symbol}/halt")
async def halt(
    request: Request, symbol: str, client: Admin, body: Annotated[HaltRequest | None, Body()] = None
) -> JsonObject:
    """Stop trading in a market (HALT, or BREAK): new orders refused, cancels and queries served."""
    symbol = _symbol(request, symbol, "halt", client)
    body = body or HaltRequest()
    if body.status is TradingStatus.TRADING:
        admin_audit(request).record("halt", symbol, "invalid", client)
        raise ApiError(INVALID_PARAMETER, "Invalid data sent for a parameter.")
    return await _set(request, symbol, MarketStatus(body.status, body.reason, now_ms()), "halt", client)


@router.post("/markets/{symbol}/resume")
async def resume(request: Request, symbol: str, client: Admin) -> JsonObject:
    """Trade again in a halted market."""
    symbol = _symbol(request, symbol, "resume", client)
    return await _set(request, symbol, TRADING, "resume", client)


async def _set(request: Request, symbol: str, status: MarketStatus, action: str, client: str) -> JsonObject:
    ctx = context(request)
    await write_status(ctx.redis, ctx.keys, symbol, status)
    await ctx.statuses.reread(symbol)  # this process at once; the others on the published message
    answer = status_json(symbol, status)
    detail = {"status": status.status.value, "reason": status.reason}
    admin_audit(request).record(action, symbol, "ok", client, detail)
    return answer
