"""Admin actions on the market simulation: scenarios it applies to the fair price and the book.

- `GET /admin/v1/markets/{symbol}/scenario`: the market's scheduled actions.
- `POST /admin/v1/markets/{symbol}/regime`: `{"regime": "calm" | "normal" | "volatile"}` or
  `{"volatility_bps": 6}`, optional `"duration_seconds"` (else until reset).
- `POST /admin/v1/markets/{symbol}/flash-crash`: `{"percent", "fall_seconds", "recover_seconds",
  "direction": "down" | "up"}`.
- `POST /admin/v1/markets/{symbol}/drought`: `{"depth_fraction", "spread_multiple",
  "duration_seconds"}`.
- `POST /admin/v1/markets/{symbol}/reset`: drop every scheduled action of the market.
- `POST /admin/v1/scenarios`: a scenario file (JSON, exchange_core.simscript.Scenario), its steps
  timed from now.

Each starts now and answers what was scheduled. A body that does not parse or fails a bound is
400 {-1130, "Invalid data sent for a parameter."} with the first error in `msg` and nothing
scheduled; an unknown symbol is 400 -1121. The simulation (python -m marketsim) applies the
actions (exchange_core.simcontrol); without it running they are stored and do nothing.
"""

from typing import TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError

from exchange_core.clock import now_ms
from exchange_core.errors import BAD_SYMBOL, INVALID_PARAMETER, ApiError
from exchange_core.simcontrol import ACTION, SimAction, add_actions, read_actions, reset_actions
from exchange_core.simscript import DroughtRequest, FlashCrashRequest, RegimeRequest, Scenario
from gateway.admin.audit import admin_audit
from gateway.admin.auth import Admin
from gateway.context import context
from gateway.responses import JsonObject

router = APIRouter(prefix="/admin/v1", tags=["admin"])

Body = TypeVar("Body", bound=BaseModel)


def _symbol(request: Request, symbol: str, action: str, client: str) -> str:
    symbol = symbol.upper()
    if symbol not in context(request).markets:
        admin_audit(request).record(action, symbol, "invalid", client)
        raise ApiError(BAD_SYMBOL, "Invalid symbol.")
    return symbol


async def _parse(request: Request, model: type[Body], action: str, target: str, client: str) -> Body:
    """The request's JSON body as `model`; 400 -1130 (audited as invalid) when it is not one."""
    try:
        return model.model_validate_json(await request.body() or b"{}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        admin_audit(request).record(action, target, "invalid", client, {"error": f"{where}: {first['msg']}"})
        raise ApiError(
            INVALID_PARAMETER, f"Invalid data sent for a parameter: {where}: {first['msg']}."
        ) from None


def _json(actions: dict[str, SimAction]) -> list[JsonObject]:
    return [{"id": field, **ACTION.dump_python(a, mode="json")} for field, a in actions.items()]


async def _schedule(request: Request, symbol: str, action: SimAction, name: str, client: str) -> JsonObject:
    ctx = context(request)
    fields = await add_actions(ctx.redis, ctx.keys, symbol, [action])
    detail = ACTION.dump_python(action, mode="json")
    admin_audit(request).record(name, symbol, "ok", client, detail)
    return {"symbol": symbol, "scheduled": _json(dict(zip(fields, [action], strict=True)))}


@router.get("/markets/{symbol}/scenario")
async def scenario(request: Request, symbol: str, client: Admin) -> JsonObject:
    """The market's scheduled actions (those in force, to come, or not yet cleared)."""
    symbol = _symbol(request, symbol, "scenario", client)
    ctx = context(request)
    admin_audit(request).record("scenario", symbol, "ok", client)
    return {"symbol": symbol, "scheduled": _json(await read_actions(ctx.redis, ctx.keys, symbol))}


@router.post("/markets/{symbol}/regime")
async def regime(request: Request, symbol: str, client: Admin) -> JsonObject:
    """Set the fair price's volatility (a named regime or bps per second)."""
    symbol = _symbol(request, symbol, "regime", client)
    body = await _parse(request, RegimeRequest, "regime", symbol, client)
    return await _schedule(request, symbol, body.to_action(now_ms()), "regime", client)


@router.post("/markets/{symbol}/flash-crash")
async def flash_crash(request: Request, symbol: str, client: Admin) -> JsonObject:
    """Move the fair price `percent` over `fall_seconds`, then back over `recover_seconds`."""
    symbol = _symbol(request, symbol, "flash_crash", client)
    body = await _parse(request, FlashCrashRequest, "flash_crash", symbol, client)
    return await _schedule(request, symbol, body.to_action(now_ms()), "flash_crash", client)


@router.post("/markets/{symbol}/drought")
async def drought(request: Request, symbol: str, client: Admin) -> JsonObject:
    """Thin the makers' and the deep book's quotes and widen their spreads for a while."""
    symbol = _symbol(request, symbol, "drought", client)
    body = await _parse(request, DroughtRequest, "drought", symbol, client)
    return await _schedule(request, symbol, body.to_action(now_ms()), "drought", client)


@router.post("/markets/{symbol}/reset")
async def reset(request: Request, symbol: str, client: Admin) -> JsonObject:
    """Drop every scheduled action: the market follows its model again."""
    symbol = _symbol(request, symbol, "reset", client)
    ctx = context(request)
    dropped = await reset_actions(ctx.redis, ctx.keys, symbol)
    admin_audit(request).record("reset", symbol, "ok", client, {"dropped": dropped})
    return {"symbol": symbol, "dropped": dropped}


@router.post("/scenarios")
async def upload_scenario(request: Request, client: Admin) -> JsonObject:
    """Schedule a scenario file's steps, timed from now; every market it names must exist."""
    body = await _parse(request, Scenario, "scenario_upload", "*", client)
    unknown = [m for m in body.markets() if m not in context(request).markets]
    if unknown:
        admin_audit(request).record("scenario_upload", ",".join(unknown), "invalid", client)
        raise ApiError(BAD_SYMBOL, "Invalid symbol.")
    ctx = context(request)
    started = now_ms()
    scheduled: dict[str, list[JsonObject]] = {}
    for symbol, actions in body.schedule(started).items():
        fields = await add_actions(ctx.redis, ctx.keys, symbol, actions)
        scheduled[symbol] = _json(dict(zip(fields, actions, strict=True)))
    detail = {"name": body.name, "steps": len(body.steps), "markets": body.markets()}
    admin_audit(request).record("scenario_upload", body.name or "-", "ok", client, detail)
    return {"name": body.name, "started": started, "scheduled": scheduled}
