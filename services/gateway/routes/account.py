"""Signed account endpoints: account (balances) and myTrades."""

import time
from typing import Any

from fastapi import APIRouter, Request

from exchange_core.units import from_units
from gateway.accounts import asset_decimals
from gateway.auth import Caller, context, request_params
from gateway.context import GatewayContext

router = APIRouter(prefix="/api/v3", tags=["account"])


async def balance_rows(ctx: GatewayContext, user_id: int, omit_zero: bool) -> list[dict[str, str]]:
    """The user's balances, {"asset", "free", "locked"} by asset name: every asset of a market
    and any other held (REST account's `balances`, gRPC GetBalances)."""
    decimals = asset_decimals(ctx.markets)
    held = await ctx.ledger.balances(user_id)
    rows = []
    for asset in sorted(set(decimals) | set(held)):
        free, locked = held.get(asset, (0, 0))
        if omit_zero and not free and not locked:
            continue
        d = decimals.get(asset, 8)
        rows.append({"asset": asset, "free": from_units(free, d), "locked": from_units(locked, d)})
    return rows


@router.get("/account")
async def account(request: Request, who: Caller) -> dict[str, Any]:
    """Balances (free and locked) and permissions, Binance's shape."""
    ctx = context(request)
    params = await request_params(request)
    omit_zero = params.get("omitZeroBalances", "false").lower() == "true"
    balances = await balance_rows(ctx, who.user_id, omit_zero)
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
