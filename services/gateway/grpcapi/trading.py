"""exchange.api.v1.Trading: REST's order path and queries (gateway.orders.OrderService), signed
calls (signing.Signer), Binance errors as statuses (status.answer)."""

from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf.message import Message

from exchange_proto import trading_api_pb2 as tpb
from exchange_proto import trading_api_pb2_grpc as tgrpc
from gateway.context import GatewayContext
from gateway.feeds import MarketFeeds
from gateway.grpcapi import convert
from gateway.grpcapi.signing import Signer
from gateway.grpcapi.status import abort, answer, slow_consumer
from gateway.orders import OrderService
from gateway.routes.account import balance_rows

SERVICE = "exchange.api.v1.Trading"
Context = grpc.aio.ServicerContext[Any, Any]


def method(name: str) -> str:
    return f"/{SERVICE}/{name}"


class TradingService(tgrpc.TradingServicer):
    def __init__(self, ctx: GatewayContext, signer: Signer, feeds: MarketFeeds) -> None:
        self.ctx = ctx
        self.signer = signer
        self.feeds = feeds

    @property
    def orders(self) -> OrderService:
        return self.ctx.orders

    async def _user(self, name: str, request: Message, context: Context) -> int:
        return await self.signer.user_of(method(name), request, context)

    async def PlaceOrder(self, request: tpb.PlaceOrderRequest, context: Context) -> tpb.PlaceOrderResponse:
        async def work() -> tpb.PlaceOrderResponse:
            user_id = await self._user("PlaceOrder", request, context)
            return convert.placed(await self.orders.place(user_id, convert.place_params(request)))

        return await answer(context, work())

    async def CancelOrder(self, request: tpb.CancelOrderRequest, context: Context) -> tpb.CancelOrderResponse:
        async def work() -> tpb.CancelOrderResponse:
            user_id = await self._user("CancelOrder", request, context)
            params = convert.order_ref_params(request.symbol, request.order_id, request.orig_client_order_id)
            params.update(convert.params(newClientOrderId=request.new_client_order_id))
            return convert.cancelled(await self.orders.cancel(user_id, params))

        return await answer(context, work())

    async def CancelAll(self, request: tpb.CancelAllRequest, context: Context) -> tpb.CancelAllResponse:
        async def work() -> tpb.CancelAllResponse:
            user_id = await self._user("CancelAll", request, context)
            done = await self.orders.cancel_all(user_id, convert.params(symbol=request.symbol))
            return tpb.CancelAllResponse(cancelled=[convert.cancelled(d) for d in done])

        return await answer(context, work())

    async def GetOrder(self, request: tpb.GetOrderRequest, context: Context) -> tpb.Order:
        async def work() -> tpb.Order:
            user_id = await self._user("GetOrder", request, context)
            params = convert.order_ref_params(request.symbol, request.order_id, request.orig_client_order_id)
            return convert.order(await self.orders.get_order(user_id, params))

        return await answer(context, work())

    async def ListOpenOrders(
        self, request: tpb.ListOpenOrdersRequest, context: Context
    ) -> tpb.ListOpenOrdersResponse:
        async def work() -> tpb.ListOpenOrdersResponse:
            user_id = await self._user("ListOpenOrders", request, context)
            found = await self.orders.open_orders(user_id, convert.params(symbol=request.symbol))
            return tpb.ListOpenOrdersResponse(orders=[convert.order(d) for d in found])

        return await answer(context, work())

    async def GetBalances(self, request: tpb.GetBalancesRequest, context: Context) -> tpb.GetBalancesResponse:
        async def work() -> tpb.GetBalancesResponse:
            user_id = await self._user("GetBalances", request, context)
            rows = await balance_rows(self.ctx, user_id, request.omit_zero_balances)
            return tpb.GetBalancesResponse(balances=[tpb.Balance(**row) for row in rows])

        return await answer(context, work())

    async def StreamExecutionReports(
        self, request: tpb.StreamExecutionReportsRequest, context: Context
    ) -> AsyncIterator[tpb.ExecutionReport]:
        user_id = await answer(context, self._user("StreamExecutionReports", request, context))
        async with self.feeds.user_stream(user_id, convert.execution_report) as sink:
            await context.send_initial_metadata(())
            async for message in sink:
                assert isinstance(message, tpb.ExecutionReport)
                yield message
        await abort(context, slow_consumer())

    async def StreamAccount(
        self, request: tpb.StreamAccountRequest, context: Context
    ) -> AsyncIterator[tpb.AccountEvent]:
        user_id = await answer(context, self._user("StreamAccount", request, context))
        async with self.feeds.account_stream(user_id, convert.account_event) as sink:
            await context.send_initial_metadata(())
            async for message in sink:
                assert isinstance(message, tpb.AccountEvent)
                yield message
        await abort(context, slow_consumer())
