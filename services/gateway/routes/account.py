"""Signed account endpoints: account (balances) and myTrades."""

import time
from typing import Any

from fastapi import APIRouter, Request

from exchange_core.units import from_units
from gateway.auth import Caller, context, request_params

router = APIRouter(prefix="/api/v3", tags=["account"])


def asset_decimals(request: Request) -> dict[str, int]:
    out: dict[str, int] = {}
    for market in context(request).markets.values():
        out[market.base.name] = market.base.decimals
        out[market.quote.name] = market.quote.decimals
    return out


@router.get("/account")
async def account(request: Request, who: Caller) -> dict[str, Any]:
    """Balances (free and locked) and permissions, Binance's shape."""
    ctx = context(request)
    params = await request_params(request)
    decimals = asset_decimals(request)
    held = await ctx.ledger.balances(who.user_id)
    omit_zero = params.get("omitZeroBalances", "false").lower() == "true"
    balances = []
    for asset in sorted(set(decimals) | set(held)):
        free, locked = held.get(asset, (0, 0))
        if omit_zero and not free and not locked:
            continue
        d = decimals.get(asset, 8)
        balances.append({"asset": asset, "free": from_units(free, d), "locked": from_units(locked, d)})
    fees = next(iter(ctx.markets.values()))
    maker_bps = int(fees.spec.maker_fee_ppm // 100)
    taker_bps = int(fees.spec.taker_fee_ppm // 100)
    return {
        "makerCommission": maker_bps,
        "takerCommission": taker_bps,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": from_units(fees.spec.maker_fee_ppm * 100, 8),
            "taker": from_units(fees.spec.taker_fee_ppm * 100, 8),
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": time.time_ns() // 1_000_000,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": who.user_id,
    }


@router.get("/myTrades")
async def my_trades(request: Request, who: Caller) -> list[dict[str, Any]]:
    """The user's trades in one market."""
    return await context(request).orders.my_trades(who.user_id, await request_params(request))  # type: ignore[no-any-return]
