"""exchange.api.v1.Trading: REST's order path and queries (gateway.orders.OrderService), signed
calls (signing.Signer), Binance errors as statuses (status.answer).

Every call weighs 1 against the peer IP's REQUEST_WEIGHT and PlaceOrder counts against the ORDERS
limits of the key it authenticated with (PlaceOco as two orders), in REST's limiter
(gateway.ratelimit). A user stream ends with PERMISSION_DENIED (-2015) when its key is revoked
(gateway.keywatch)."""

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from exchange_proto import trading_api_pb2 as tpb
from exchange_proto import trading_api_pb2_grpc as tgrpc
from gateway.context import GatewayContext
from gateway.feeds import MarketFeeds, Sink
from gateway.grpcapi import convert, listconvert
from gateway.grpcapi.signing import Signer, peer_ip
from gateway.grpcapi.status import abort, answer, slow_consumer
from gateway.orders import OrderService
from gateway.prevented import prevented_matches
from gateway.principal import Principal
from gateway.ratelimit import RateLimiter
from gateway.results import PlacedOrderList
from gateway.routes.account import balance_rows

SERVICE = "exchange.api.v1.Trading"
M = TypeVar("M", tpb.ExecutionReport, tpb.AccountEvent)
Context = grpc.aio.ServicerContext[Any, Any]


def method(name: str) -> str:
    return f"/{SERVICE}/{name}"


class TradingService(tgrpc.TradingServicer):
    def __init__(self, ctx: GatewayContext, signer: Signer, feeds: MarketFeeds, limiter: RateLimiter) -> None:
        self.ctx = ctx
        self.signer = signer
        self.feeds = feeds
        self.limiter = limiter

    @property
    def orders(self) -> OrderService:
        return self.ctx.orders

    async def _caller(self, name: str, request: Message, context: Context) -> Principal:
        """The signed caller of method `name`, once its call is weighed (RateLimited, -1003)."""
        self.limiter.weigh(peer_ip(context.peer()) or "")
        return await self.signer.caller(method(name), request, context)

    async def _user(self, name: str, request: Message, context: Context) -> int:
        return (await self._caller(name, request, context)).user_id

    async def PlaceOrder(self, request: tpb.PlaceOrderRequest, context: Context) -> tpb.PlaceOrderResponse:
        async def work() -> tpb.PlaceOrderResponse:
            who = await self._caller("PlaceOrder", request, context)
            self.limiter.count_order(who.api_key)
            placed = await self.orders.place(who.user_id, convert.place_params(request), who.api_key)
            return convert.placed(placed)

        return await answer(context, work())

    async def CancelOrder(self, request: tpb.CancelOrderRequest, context: Context) -> tpb.CancelOrderResponse:
        async def work() -> tpb.CancelOrderResponse:
            user_id = await self._user("CancelOrder", request, context)
            params = convert.order_ref_params(request.symbol, request.order_id, request.orig_client_order_id)
            params.update(convert.params(newClientOrderId=request.new_client_order_id))
            return convert.cancelled(await self.orders.cancel(user_id, params))

        return await answer(context, work())

    async def AmendOrder(self, request: tpb.AmendOrderRequest, context: Context) -> tpb.AmendOrderResponse:
        async def work() -> tpb.AmendOrderResponse:
            user_id = await self._user("AmendOrder", request, context)
            return convert.amended(await self.orders.amend(user_id, convert.amend_params(request)))

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

    async def PlaceOco(self, request: tpb.PlaceOcoRequest, context: Context) -> tpb.PlaceOcoResponse:
        async def work() -> tpb.PlaceOcoResponse:
            who = await self._caller("PlaceOco", request, context)
            for _ in range(2):  # an OCO counts as two orders
                self.limiter.count_order(who.api_key)
            placed = await self.ctx.order_lists.place_oco(who.user_id, listconvert.oco_params(request))
            return listconvert.placed_list(placed)

        return await answer(context, work())

    async def PlaceOto(self, request: tpb.PlaceOtoRequest, context: Context) -> tpb.PlaceOcoResponse:
        place = self.ctx.order_lists.place_oto
        return await self._place_list(
            "PlaceOto", request, context, 2, lambda u: place(u, listconvert.oto_params(request))
        )

    async def PlaceOtoco(self, request: tpb.PlaceOtocoRequest, context: Context) -> tpb.PlaceOcoResponse:
        place = self.ctx.order_lists.place_otoco
        return await self._place_list(
            "PlaceOtoco", request, context, 3, lambda u: place(u, listconvert.otoco_params(request))
        )

    async def _place_list(
        self,
        name: str,
        request: Message,
        context: Context,
        orders: int,
        place: Callable[[int], Awaitable[PlacedOrderList]],
    ) -> tpb.PlaceOcoResponse:
        """Place an OTO or OTOCO for the caller through `place` (given the user id), the list
        counted as `orders` orders against the ORDERS limits."""

        async def work() -> tpb.PlaceOcoResponse:
            who = await self._caller(name, request, context)
            for _ in range(orders):
                self.limiter.count_order(who.api_key)
            return listconvert.placed_list(await place(who.user_id))

        return await answer(context, work())

    async def CancelOrderList(
        self, request: tpb.CancelOrderListRequest, context: Context
    ) -> tpb.CancelOrderListResponse:
        async def work() -> tpb.CancelOrderListResponse:
            user_id = await self._user("CancelOrderList", request, context)
            params = listconvert.list_ref_params(
                request.symbol, request.order_list_id, "listClientOrderId", request.list_client_order_id
            )
            params.update(convert.params(newClientOrderId=request.new_client_order_id))
            return listconvert.cancelled_list(await self.ctx.order_lists.cancel(user_id, params))

        return await answer(context, work())

    async def GetOrderList(self, request: tpb.GetOrderListRequest, context: Context) -> tpb.OrderList:
        async def work() -> tpb.OrderList:
            user_id = await self._user("GetOrderList", request, context)
            params = listconvert.list_ref_params(
                request.symbol, request.order_list_id, "origClientOrderId", request.orig_client_order_id
            )
            return listconvert.order_list((await self.ctx.order_lists.get(user_id, params)).record)

        return await answer(context, work())

    async def ListOpenOrderLists(
        self, request: tpb.ListOpenOrderListsRequest, context: Context
    ) -> tpb.ListOpenOrderListsResponse:
        async def work() -> tpb.ListOpenOrderListsResponse:
            user_id = await self._user("ListOpenOrderLists", request, context)
            found = await self.ctx.order_lists.open_lists(user_id)
            return tpb.ListOpenOrderListsResponse(
                order_lists=[listconvert.order_list(s.record) for s in found]
            )

        return await answer(context, work())

    async def ListPreventedMatches(
        self, request: tpb.ListPreventedMatchesRequest, context: Context
    ) -> tpb.ListPreventedMatchesResponse:
        async def work() -> tpb.ListPreventedMatchesResponse:
            user_id = await self._user("ListPreventedMatches", request, context)
            found = await prevented_matches(self.ctx, user_id, convert.prevented_params(request))
            matches = [convert.prevented_match(m) for m in found]
            return tpb.ListPreventedMatchesResponse(prevented_matches=matches)

        return await answer(context, work())

    async def StreamExecutionReports(
        self, request: tpb.StreamExecutionReportsRequest, context: Context
    ) -> AsyncIterator[tpb.ExecutionReport]:
        reports = self._user_events(
            "StreamExecutionReports", request, context, self.feeds.user_stream, convert.execution_report
        )
        async with contextlib.aclosing(reports):
            async for message in reports:
                yield message

    async def StreamAccount(
        self, request: tpb.StreamAccountRequest, context: Context
    ) -> AsyncIterator[tpb.AccountEvent]:
        events = self._user_events(
            "StreamAccount", request, context, self.feeds.account_stream, convert.account_event
        )
        async with contextlib.aclosing(events):
            async for message in events:
                yield message

    async def _user_events(
        self,
        name: str,
        request: Message,
        context: Context,
        open_stream: Callable[
            [int, Callable[[dict[str, Any]], M]], contextlib.AbstractAsyncContextManager[Sink]
        ],
        to_message: Callable[[dict[str, Any]], M],
    ) -> AsyncGenerator[M, None]:
        """The caller's user stream `name`, live once its initial metadata is sent; it ends with
        RESOURCE_EXHAUSTED when cut off, PERMISSION_DENIED when its key is revoked
        (gateway.keywatch)."""
        who = await answer(context, self._caller(name, request, context))
        assert who.api_key is not None, "a signed call has a key"
        async with open_stream(who.user_id, to_message) as sink:
            with self.ctx.key_watch.watching(who.api_key, peer_ip(context.peer()), sink.cut_off):
                await context.send_initial_metadata(())
                async for message in sink:
                    yield message
        await abort(context, sink.ended_by or slow_consumer())
