"""Futures exchangeInfo for a spot-only venue: GET /fapi/v1/exchangeInfo (USD-M) and
/dapi/v1/exchangeInfo (COIN-M) answer Binance's shape with no symbols and no assets, so a client
that loads every market type by default (ccxt's load_markets) finds the spot markets alone."""

from fastapi import APIRouter

from exchange_core.clock import now_ms
from gateway.responses import JsonObject

router = APIRouter(tags=["derivatives"])


def no_futures() -> JsonObject:
    return {
        "timezone": "UTC",
        "serverTime": now_ms(),
        "futuresType": "",
        "rateLimits": [],
        "exchangeFilters": [],
        "assets": [],
        "symbols": [],
    }


@router.get("/fapi/v1/exchangeInfo")
async def usd_m_exchange_info() -> JsonObject:
    return no_futures()


@router.get("/dapi/v1/exchangeInfo")
async def coin_m_exchange_info() -> JsonObject:
    return no_futures()
