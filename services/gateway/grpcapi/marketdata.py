"""exchange.api.v1.MarketData: REST's market-data queries (gateway.routes.market) and the
WebSocket tier's streams (feeds.MarketFeeds). Public: no signature needed; every call weighs 1
against the peer IP's REQUEST_WEIGHT in REST's limiter (gateway.ratelimit)."""

from collections.abc import AsyncIterator
from typing import Any

import grpc

from exchange_core.errors import INVALID_PARAMETER, ApiError
from exchange_proto import market_data_api_pb2 as mpb
from exchange_proto import market_data_api_pb2_grpc as mgrpc
from gateway.context import GatewayContext
from gateway.feeds import Convert, MarketFeeds
from gateway.grpcapi import convert
from gateway.grpcapi.signing import peer_ip
from gateway.grpcapi.status import abort, answer, slow_consumer
from gateway.ratelimit import RateLimiter
from gateway.routes.market import candle_rows, latest_trade_rows, order_book
from gateway.validation import market_of
from marketdata.streams import SPEEDS_MS, depth_name

Context = grpc.aio.ServicerContext[Any, Any]


class MarketDataService(mgrpc.MarketDataServicer):
    def __init__(self, ctx: GatewayContext, feeds: MarketFeeds, limiter: RateLimiter) -> None:
        self.ctx = ctx
        self.feeds = feeds
        self.limiter = limiter

    def _weigh(self, context: Context) -> None:
        """Every call weighs 1 against the peer IP's REQUEST_WEIGHT (RateLimited, -1003)."""
        self.limiter.weigh(peer_ip(context.peer()) or "")

    async def GetOrderBook(self, request: mpb.GetOrderBookRequest, context: Context) -> mpb.OrderBook:
        async def work() -> mpb.OrderBook:
            self._weigh(context)
            book = await order_book(self.ctx, convert.params(symbol=request.symbol, limit=request.limit))
            return convert.order_book(book)

        return await answer(context, work())

    async def GetTrades(self, request: mpb.GetTradesRequest, context: Context) -> mpb.GetTradesResponse:
        async def work() -> mpb.GetTradesResponse:
            self._weigh(context)
            given = convert.params(symbol=request.symbol, limit=request.limit)
            market, rows = await latest_trade_rows(self.ctx, given)
            return mpb.GetTradesResponse(trades=[convert.trade(market, t) for t in rows])

        return await answer(context, work())

    async def GetKlines(self, request: mpb.GetKlinesRequest, context: Context) -> mpb.GetKlinesResponse:
        async def work() -> mpb.GetKlinesResponse:
            self._weigh(context)
            given = convert.params(
                symbol=request.symbol,
                interval=request.interval,
                limit=request.limit,
                startTime=request.start_time,
                endTime=request.end_time,
            )
            market, rows = await candle_rows(self.ctx, given)
            return mpb.GetKlinesResponse(klines=[convert.kline(market, k) for k in rows])

        return await answer(context, work())

    async def StreamDepth(
        self, request: mpb.StreamDepthRequest, context: Context
    ) -> AsyncIterator[mpb.DepthUpdate]:
        symbol = await answer(context, self._symbol(request.symbol, context))
        speed = request.speed_ms or 100
        if speed not in SPEEDS_MS:
            await abort(context, ApiError(INVALID_PARAMETER, "Invalid value for 'speed_ms': 100 or 1000."))
        async for message in self._stream(context, symbol, depth_name(symbol, speed), convert.depth_update):
            yield message

    async def StreamTrades(
        self, request: mpb.StreamTradesRequest, context: Context
    ) -> AsyncIterator[mpb.Trade]:
        async for message in self._symbol_stream(context, request.symbol, "trade", convert.stream_trade):
            yield message

    async def StreamTicker(
        self, request: mpb.StreamTickerRequest, context: Context
    ) -> AsyncIterator[mpb.Ticker]:
        async for message in self._symbol_stream(context, request.symbol, "ticker", convert.ticker):
            yield message

    async def _symbol(self, symbol: str, context: Context) -> str:
        """The market's symbol of a stream's call, once weighed; raises -1003 (the IP's weight
        spent), -1102 (none given) or -1121 (unknown)."""
        self._weigh(context)
        return market_of({"symbol": symbol}, self.ctx.markets).symbol

    async def _symbol_stream(
        self, context: Context, given: str, kind: str, to_message: Convert
    ) -> AsyncIterator[Any]:
        """The <symbol>@`kind` stream of the market `given` names (-1102/-1121 as _symbol)."""
        symbol = await answer(context, self._symbol(given, context))
        async for message in self._stream(context, symbol, f"{symbol.lower()}@{kind}", to_message):
            yield message

    async def _stream(
        self, context: Context, symbol: str, name: str, to_message: Convert
    ) -> AsyncIterator[Any]:
        """Stream `name`'s messages: initial metadata once live, RESOURCE_EXHAUSTED when cut off."""
        async with self.feeds.market_stream(symbol, name, to_message) as sink:
            await context.send_initial_metadata(())
            async for message in sink:
                yield message
        await abort(context, slow_consumer())
