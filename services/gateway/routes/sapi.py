"""The /sapi basics that client libraries call by default (ccxt's fetch_status, fetch_trading_fees,
fetch_currencies and load_markets), answered as Binance answers them for a spot-only venue:

- GET /sapi/v1/system/status (public): {"status": 0, "msg": "normal"}.
- GET /sapi/v1/asset/tradeFee (signed; `symbol` optional): [{symbol, makerCommission,
  takerCommission}] from the markets registry, fees as decimal fractions ("0.001" is 0.1%).
- GET /sapi/v1/capital/config/getall (signed): every asset of the registry as a coin with the
  caller's balance and one network named after the coin; there is no chain here, so deposits and
  withdrawals are disabled and their amounts are zero.
- GET /sapi/v1/account/status (signed): {"data": "Normal"}.
- GET /sapi/v1/account/apiRestrictions (signed with an API key): the key's permissions (reading
  always, spot trading as granted, a trusted-IP list or not); everything else this venue lacks is
  false.
- GET /sapi/v1/account/apiTradingStatus (signed): the API trading lock, never set here (Binance's
  trigger thresholds as documented, updateTime 0: the status never changed).
- GET /sapi/v1/spot/delist-schedule: [] (no market is scheduled for delisting; a halted market
  stays listed).
- GET /sapi/v1/margin/allPairs and /sapi/v1/margin/isolated/allPairs: [] (there is no margin).

Requests count toward the IP's request weight like every other path (gateway.ratelimit).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from exchange_core.markets import Market
from exchange_core.units import from_units
from gateway.accounts import asset_decimals, list_api_keys
from gateway.callers import API_KEY_HEADER, Caller, signed_user
from gateway.context import context
from gateway.keyrules import rejected_key
from gateway.params import request_params
from gateway.principal import Principal
from gateway.responses import JsonObject
from gateway.routes.account import balance_rows
from gateway.routes.web import epoch_ms
from gateway.validation import market_of

router = APIRouter(prefix="/sapi/v1", tags=["sapi"])

KeyHolder = Annotated[Principal, Depends(signed_user)]


@router.get("/system/status")
async def system_status() -> JsonObject:
    """0 normal (1 would be system maintenance)."""
    return {"status": 0, "msg": "normal"}


def trade_fee(market: Market) -> JsonObject:
    return {"symbol": market.symbol, "makerCommission": market.maker_fee, "takerCommission": market.taker_fee}


@router.get("/asset/tradeFee")
async def trade_fees(request: Request, who: Caller) -> list[JsonObject]:
    """Every market's fees, or only `symbol`'s (-1121 for an unknown one)."""
    params = await request_params(request)
    markets = context(request).markets
    if params.get("symbol"):
        return [trade_fee(market_of(params, markets))]
    return [trade_fee(m) for m in markets.values()]


def network(coin: str, decimals: int) -> JsonObject:
    """The one network of `coin`: Binance's fields, deposits and withdrawals disabled."""
    zero = from_units(0, decimals)
    return {
        "network": coin,
        "coin": coin,
        "name": coin,
        "isDefault": True,
        "depositEnable": False,
        "withdrawEnable": False,
        "depositDesc": "Deposits are not available on this exchange.",
        "withdrawDesc": "Withdrawals are not available on this exchange.",
        "specialTips": "",
        "resetAddressStatus": False,
        "addressRegex": "",
        "memoRegex": "",
        "withdrawFee": zero,
        "withdrawMin": zero,
        "withdrawMax": zero,
        "withdrawIntegerMultiple": from_units(1, decimals),
        "depositDust": zero,
        "minConfirm": 0,
        "unLockConfirm": 0,
        "sameAddress": False,
        "estimatedArrivalTime": 0,
        "busy": False,
    }


@router.get("/capital/config/getall")
async def all_coins(request: Request, who: Caller) -> list[JsonObject]:
    """Each asset of the registry as Binance's coin object, with the caller's free and locked."""
    ctx = context(request)
    decimals = asset_decimals(ctx.markets)
    coins = []
    for row in await balance_rows(ctx, who.user_id, omit_zero=False):
        coin, d = row["asset"], decimals.get(row["asset"], 8)
        zero = from_units(0, d)
        coins.append(
            {
                "coin": coin,
                "name": coin,
                "depositAllEnable": False,
                "withdrawAllEnable": False,
                "free": row["free"],
                "locked": row["locked"],
                "freeze": zero,
                "withdrawing": zero,
                "ipoing": zero,
                "ipoable": zero,
                "storage": zero,
                "isLegalMoney": False,
                "trading": coin in decimals,
                "networkList": [network(coin, d)],
            }
        )
    return coins


@router.get("/account/status")
async def account_status(who: Caller) -> JsonObject:
    return {"data": "Normal"}


@router.get("/account/apiRestrictions")
async def api_restrictions(request: Request, who: KeyHolder) -> JsonObject:
    """The calling key's permissions; -2015 should the key have gone meanwhile."""
    api_key = request.headers.get(API_KEY_HEADER, "")
    keys = await list_api_keys(context(request).pool, who.user_id)
    key = next((k for k in keys if k.api_key == api_key), None)
    if key is None:
        raise rejected_key()
    return {
        "ipRestrict": bool(key.allowed_ips),
        "createTime": epoch_ms(key.created_at),
        "enableReading": True,
        "enableSpotAndMarginTrading": key.can_trade,
        "enableWithdrawals": False,
        "enableInternalTransfer": False,
        "enableMargin": False,
        "enableFutures": False,
        "permitsUniversalTransfer": False,
        "enableVanillaOptions": False,
        "enableFixApiTrade": False,
        "enableFixReadOnly": False,
        "enablePortfolioMarginTrading": False,
    }


@router.get("/account/apiTradingStatus")
async def api_trading_status(who: Caller) -> JsonObject:
    return {
        "data": {
            "isLocked": False,
            "plannedRecoverTime": 0,
            "triggerCondition": {"GCR": 150, "IFER": 150, "UFR": 300},
            "updateTime": 0,
        }
    }


@router.get("/spot/delist-schedule")
async def delist_schedule() -> list[JsonObject]:
    return []


@router.get("/margin/allPairs")
async def cross_margin_pairs() -> list[JsonObject]:
    return []


@router.get("/margin/isolated/allPairs")
async def isolated_margin_pairs() -> list[JsonObject]:
    return []
