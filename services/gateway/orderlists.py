"""Order lists at the gateway: place an OCO (one reservation for the whole list), an OTO or OTOCO
(two reservations), cancel a list, and the orderList, openOrderList and allOrderList queries,
served from the list records settlement keeps in Redis (exchange_core.listrecords).

An OCO's reservation is the larger of its members' (they have the same side and quantity, so
one asset) and is recorded against its first member's order id, as a single order's is: the
engine confirms it with that member's acceptance, or gives it back with the list's rejection.
An OTO or OTOCO reserves twice (docs/matching.md, OTO and OTOCO lists): the working order's
reservation against its id, the pending order's (OTOCO: the larger of the pair's) against the
first pending member's id, each in the asset its side spends; settlement confirms both when the
list starts, releases each with its order, or both with the list's rejection. Before the
engine sees the list, the gateway stores each pending order's state as PENDING_NEW (what
settlement reads to report and store it until it is placed or ends).
"""

import dataclasses

from exchange_core import redisio
from exchange_core.clock import now_ms
from exchange_core.errors import (
    CANCEL_REJECTED,
    INSUFFICIENT_BALANCE_MSG,
    MANDATORY_PARAM_EMPTY_OR_MALFORMED,
    NEW_ORDER_REJECTED,
    NO_SUCH_ORDER,
    ApiError,
    reason_error,
)
from exchange_core.ledger import MAX_AMOUNT, DuplicateClientOrderId, InsufficientFunds
from exchange_core.listrecords import ListMember, OrderListRecord
from exchange_core.markets import Market
from exchange_core.records import OrderRecord
from gateway.ocoparams import OcoRequest, parse_deprecated_oco, parse_oco
from gateway.orders import OrderService
from gateway.otoparams import PendingListRequest, parse_oto, parse_otoco
from gateway.results import (
    CancelledOrder,
    CancelledOrderList,
    PlacedOrder,
    PlacedOrderList,
    StoredOrderList,
    placed_order,
)
from gateway.validation import OrderRequest, client_order_id, int_param, market_of, time_param
from matching.commands import CancelOrder, PlaceOrder, PlaceOrderList
from matching.enums import ContingencyType, ListOrderStatus, OrderStatus

NO_SUCH_LIST_MSG = "Order list does not exist."
DUPLICATE_MSG = "Duplicate order sent."
UNKNOWN_LIST_MSG = "Unknown order list sent."


class OrderListService:
    """The order-list operations of one gateway process, over its OrderService (order ids,
    reservations and the command path are the same as for single orders)."""

    def __init__(self, orders: OrderService) -> None:
        self.orders = orders
        self.ctx = orders.ctx

    # ------------------------------------------------------------------ commands

    async def place_oco(self, user_id: int, params: dict[str, str]) -> PlacedOrderList:
        """POST /api/v3/orderList/oco."""
        return await self.place(user_id, parse_oco(params, self.ctx.markets))

    async def place_deprecated_oco(self, user_id: int, params: dict[str, str]) -> PlacedOrderList:
        """POST /api/v3/order/oco."""
        return await self.place(user_id, parse_deprecated_oco(params, self.ctx.markets))

    async def place(self, user_id: int, req: OcoRequest) -> PlacedOrderList:
        """Reserve once, submit the list, answer it; the engine's refusals as Binance's codes
        (exchange_core.errors.reason_error), -2010 for insufficient funds or a client order id
        of an open or recent order, -1013 for a market that is not trading or a member failing
        a filter of gateway.orderlimits (the members count as open orders)."""
        market = req.market
        symbol = market.symbol
        self.ctx.statuses.ensure_trading(symbol)
        for placing, member in enumerate(req.members):  # each member counts as an open order
            await self.orders.check_filters(user_id, member, placing=placing)
        ids = [await self.orders.next_order_id(symbol) for _ in req.members]
        needs = [await self.orders.reservation(m) for m in req.members]
        asset, amount = needs[0][0], max(n[1] for n in needs)
        if amount > MAX_AMOUNT:
            raise ApiError(NEW_ORDER_REJECTED, INSUFFICIENT_BALANCE_MSG)
        await self._check_list_client_id(user_id, req.list_client_order_id)
        for member in req.members[1:]:
            await self._check_unclaimed(user_id, symbol, member.client_order_id)
        first = req.members[0]
        started = now_ms()
        try:
            await self.ctx.ledger.reserve(
                user_id, asset, amount, symbol, ids[0], first.client_order_id, started
            )
        except InsufficientFunds as exc:
            raise ApiError(NEW_ORDER_REJECTED, INSUFFICIENT_BALANCE_MSG) from exc
        except DuplicateClientOrderId as exc:
            raise ApiError(NEW_ORDER_REJECTED, DUPLICATE_MSG) from exc
        # The other members' client ids find them (origClientOrderId) as the first one's does.
        for oid, member in zip(ids[1:], req.members[1:], strict=True):
            await self.ctx.redis.hset(
                self.ctx.keys.client_ids(user_id), f"{symbol}:{member.client_order_id}", f"{oid}:{started}"
            )
        command = PlaceOrderList(
            symbol,
            user_id,
            req.list_client_order_id,
            ContingencyType.OCO,
            tuple(_member_command(user_id, oid, m, amount) for oid, m in zip(ids, req.members, strict=True)),
        )
        batch = await self.orders.submit(symbol, f"l{user_id}:{ids[0]}", command, started, user_id)
        status = next(e.list_status for e in batch.events if e.WhichOneof("kind") == "list_status")
        if status.list_status == ListOrderStatus.REJECT:
            raise reason_error(status.reason)
        reports = tuple(placed_order(market, oid, req.resp_type, batch) for oid in ids)
        record = OrderListRecord(
            status.order_list_id, symbol, status.contingency, status.status_type, status.list_status,
            status.list_client_order_id, batch.events[0].ts,
            tuple(ListMember(p.order.order_id, p.order.client_order_id) for p in reports),
        )  # fmt: skip
        return PlacedOrderList(market, record, reports)

    async def place_oto(self, user_id: int, params: dict[str, str]) -> PlacedOrderList:
        """POST /api/v3/orderList/oto."""
        return await self.place_pending(user_id, parse_oto(params, self.ctx.markets))

    async def place_otoco(self, user_id: int, params: dict[str, str]) -> PlacedOrderList:
        """POST /api/v3/orderList/otoco."""
        return await self.place_pending(user_id, parse_otoco(params, self.ctx.markets))

    async def place_pending(self, user_id: int, req: PendingListRequest) -> PlacedOrderList:
        """Reserve for the working order and for the pending order(s), store the pending orders'
        PENDING_NEW states, submit the list, answer it (each pending order's report PENDING_NEW
        unless the engine placed it already). The refusals are place's; when the second
        reservation fails, the first is given back before the error is raised."""
        market = req.market
        symbol = market.symbol
        self.ctx.statuses.ensure_trading(symbol)
        for placing, member in enumerate(req.members):  # each member counts as an open order
            await self.orders.check_filters(user_id, member, placing=placing)
        ids = [await self.orders.next_order_id(symbol) for _ in req.members]
        working, pending = req.members[0], req.members[1:]
        working_asset, working_amount = await self.orders.reservation(working)
        needs = [await self.orders.reservation(m) for m in pending]
        pending_asset, pending_amount = needs[0][0], max(n[1] for n in needs)
        if max(working_amount, pending_amount) > MAX_AMOUNT:
            raise ApiError(NEW_ORDER_REJECTED, INSUFFICIENT_BALANCE_MSG)
        await self._check_list_client_id(user_id, req.list_client_order_id)
        for member in pending[1:]:
            await self._check_unclaimed(user_id, symbol, member.client_order_id)
        started = now_ms()
        await self._reserve(
            user_id, working_asset, working_amount, symbol, ids[0], working.client_order_id, started
        )
        try:
            await self._reserve(
                user_id, pending_asset, pending_amount, symbol, ids[1], pending[0].client_order_id, started
            )
        except ApiError:
            await self._unreserve(user_id, symbol, ids[0], working.client_order_id)
            raise
        for oid, member in zip(ids[2:], pending[1:], strict=True):
            await self.ctx.redis.hset(
                self.ctx.keys.client_ids(user_id), f"{symbol}:{member.client_order_id}", f"{oid}:{started}"
            )
        states = [_pending_state(oid, m, started) for oid, m in zip(ids[1:], pending, strict=True)]
        await self._store_states(user_id, symbol, states)
        reserves = (working_amount, *(pending_amount for _ in pending))
        command = PlaceOrderList(
            symbol,
            user_id,
            req.list_client_order_id,
            req.contingency,
            tuple(
                _member_command(user_id, oid, m, r)
                for oid, m, r in zip(ids, req.members, reserves, strict=True)
            ),
        )
        batch = await self.orders.submit(symbol, f"l{user_id}:{ids[0]}", command, started, user_id)
        status = next(e.list_status for e in batch.events if e.WhichOneof("kind") == "list_status")
        if status.list_status == ListOrderStatus.REJECT:
            fields = [f"{symbol}:{s.order_id}" for s in states]
            await self.ctx.redis.hdel(self.ctx.keys.orders(user_id), *fields)
            await self.ctx.redis.zrem(
                self.ctx.keys.user_orders_by_symbol(user_id, symbol), *[s.order_id for s in states]
            )
            raise reason_error(status.reason)
        accepted = {
            e.order_accepted.order_id for e in batch.events if e.WhichOneof("kind") == "order_accepted"
        }
        ended = {
            e.order_done.order_id: e.order_done.status
            for e in batch.events
            if e.WhichOneof("kind") == "order_done"
        }
        ts = batch.events[0].ts
        reports = [placed_order(market, ids[0], req.resp_type, batch)]
        for state in states:
            if state.order_id in accepted:
                reports.append(placed_order(market, state.order_id, req.resp_type, batch))
            else:
                answered = replace_state(
                    state, ts, status.order_list_id, ended.get(state.order_id, state.status)
                )
                reports.append(PlacedOrder(market, req.resp_type, answered, ()))
        record = OrderListRecord(
            status.order_list_id, symbol, status.contingency, status.status_type, status.list_status,
            status.list_client_order_id, ts,
            tuple(ListMember(p.order.order_id, p.order.client_order_id) for p in reports),
        )  # fmt: skip
        return PlacedOrderList(market, record, tuple(reports))

    async def _reserve(
        self, user_id: int, asset: str, amount: int, symbol: str, order_id: int, client_id: str, started: int
    ) -> None:
        try:
            await self.ctx.ledger.reserve(user_id, asset, amount, symbol, order_id, client_id, started)
        except InsufficientFunds as exc:
            raise ApiError(NEW_ORDER_REJECTED, INSUFFICIENT_BALANCE_MSG) from exc
        except DuplicateClientOrderId as exc:
            raise ApiError(NEW_ORDER_REJECTED, DUPLICATE_MSG) from exc

    async def _unreserve(self, user_id: int, symbol: str, order_id: int, client_id: str) -> None:
        """Give back a reservation no command was sent for, and its client order id."""
        await self.ctx.ledger.release_orphan(user_id, symbol, order_id)
        await self.ctx.redis.zrem(
            self.ctx.keys.pending_reservations(symbol), f"{user_id}:{symbol}:{order_id}"
        )
        if await self.ctx.ledger.client_order(user_id, symbol, client_id) == order_id:
            await self.ctx.redis.hdel(self.ctx.keys.client_ids(user_id), f"{symbol}:{client_id}")

    async def _store_states(self, user_id: int, symbol: str, states: list[OrderRecord]) -> None:
        """The pending orders' PENDING_NEW states, where settlement keeps order states."""
        await self.ctx.redis.hset(
            self.ctx.keys.orders(user_id), mapping={f"{symbol}:{s.order_id}": s.encode() for s in states}
        )
        await self.ctx.redis.zadd(
            self.ctx.keys.user_orders_by_symbol(user_id, symbol),
            {str(s.order_id): s.order_id for s in states},
        )

    async def _check_list_client_id(self, user_id: int, list_client_id: str) -> None:
        """-2010 "Duplicate order sent." when `list_client_id` names an open order list of the
        user (Binance accepts a list client id again once its list is done)."""
        field = await redisio.hget(self.ctx.redis, self.ctx.keys.list_client_ids(user_id), list_client_id)
        if field is not None and await self.ctx.redis.sismember(
            self.ctx.keys.open_order_lists(user_id), field.decode()
        ):
            raise ApiError(NEW_ORDER_REJECTED, DUPLICATE_MSG)

    async def _check_unclaimed(self, user_id: int, symbol: str, client_id: str) -> None:
        """-2010 "Duplicate order sent." when `client_id` names an open order of the user (the
        first member's id is checked by the reservation itself, atomically)."""
        owner = await self.ctx.ledger.client_order(user_id, symbol, client_id)
        if owner is not None and await self.ctx.redis.sismember(
            self.ctx.keys.open_orders(user_id), f"{symbol}:{owner}"
        ):
            raise ApiError(NEW_ORDER_REJECTED, DUPLICATE_MSG)

    async def cancel(self, user_id: int, params: dict[str, str]) -> CancelledOrderList:
        """DELETE /api/v3/orderList (symbol, orderListId or listClientOrderId): cancels its
        members through one of them (the engine cancels the other with it); -2011 when the list
        is unknown or done."""
        market = market_of(params, self.ctx.markets)
        found = await self._find(user_id, params, "listClientOrderId", market)
        if found is None or not found.record.is_open:
            raise ApiError(CANCEL_REJECTED, UNKNOWN_LIST_MSG)
        record = found.record
        cancel_id = client_order_id(params)
        member = record.orders[0].order_id
        batch = await self.orders.submit(
            market.symbol, f"c{user_id}:{member}", CancelOrder(market.symbol, user_id, member)
        )
        if any(e.WhichOneof("kind") == "cancel_rejected" for e in batch.events):
            raise ApiError(CANCEL_REJECTED, UNKNOWN_LIST_MSG)
        ts = batch.events[0].ts
        done = next((e.list_status for e in batch.events if e.WhichOneof("kind") == "list_status"), None)
        if done is not None:
            record = OrderListRecord(
                record.order_list_id, record.symbol, record.contingency, done.status_type,
                done.list_status, record.list_client_order_id, record.transaction_time, record.orders,
            )  # fmt: skip
        states = await self.orders.states(user_id, market.symbol, [m.order_id for m in record.orders])
        reports = tuple(CancelledOrder(market, s, client_order_id({}), ts) for s in states)
        return CancelledOrderList(market, record, cancel_id, ts, reports)

    async def cancel_all(
        self, user_id: int, params: dict[str, str]
    ) -> list[CancelledOrder | CancelledOrderList]:
        """DELETE /api/v3/openOrders as Binance answers it: the cancelled orders, the members of a
        list cancelled with it (both members) grouped into that list's cancel answer, in place of
        its first member."""
        done = await self.orders.cancel_all(user_id, params)
        members: dict[int, list[CancelledOrder]] = {}
        for c in done:
            if c.order.order_list_id:
                members.setdefault(c.order.order_list_id, []).append(c)
        if not members:
            return list(done)
        market = done[0].market
        stored = await self._records(user_id, [f"{market.symbol}:{list_id}" for list_id in members])
        lists = {
            s.record.order_list_id: s.record
            for s in stored
            if {m.order_id for m in s.record.orders}
            == {c.order.order_id for c in members[s.record.order_list_id]}
        }
        out: list[CancelledOrder | CancelledOrderList] = []
        for c in done:
            record = lists.get(c.order.order_list_id)
            if record is None:
                out.append(c)
            elif c is members[record.order_list_id][0]:
                reports = tuple(members[record.order_list_id])
                out.append(CancelledOrderList(market, record, client_order_id({}), c.transact_time, reports))
        return out

    # ------------------------------------------------------------------ queries

    async def get(self, user_id: int, params: dict[str, str]) -> StoredOrderList:
        """GET /api/v3/orderList: by orderListId or origClientOrderId (`symbol` optional: list
        ids are per market, so without it the newest list of that id in any market)."""
        market = market_of(params, self.ctx.markets) if params.get("symbol") else None
        found = await self._find(user_id, params, "origClientOrderId", market)
        if found is None:
            raise ApiError(NO_SUCH_ORDER, NO_SUCH_LIST_MSG)
        return found

    async def open_lists(self, user_id: int) -> list[StoredOrderList]:
        """GET /api/v3/openOrderList: the user's open lists, oldest first."""
        fields = await redisio.smembers(self.ctx.redis, self.ctx.keys.open_order_lists(user_id))
        return await self._records(user_id, [f.decode() for f in fields])

    async def all_lists(self, user_id: int, params: dict[str, str]) -> list[StoredOrderList]:
        """GET /api/v3/allOrderList: by transaction time within startTime/endTime, from list id
        `fromId`, at most `limit` (500, max 1000); oldest first."""
        limit = min(int_param(params, "limit", 500) or 500, 1000)
        from_id = int_param(params, "fromId")
        start, end = time_param(params, "startTime"), time_param(params, "endTime")
        key = self.ctx.keys.user_lists_by_time(user_id)
        members = await redisio.zrange_between(self.ctx.redis, key, start, end)
        found = await self._records(user_id, [m.decode() for m in members])
        if from_id is not None:
            found = [s for s in found if s.record.order_list_id >= from_id]
        return found[:limit] if start is not None or from_id is not None else found[-limit:]

    async def _records(self, user_id: int, fields: list[str]) -> list[StoredOrderList]:
        if not fields:
            return []
        raws = await self.ctx.redis.hmget(self.ctx.keys.order_lists(user_id), fields)
        out = [
            StoredOrderList(self.ctx.markets[r.symbol], r)
            for r in (OrderListRecord.decode(raw) for raw in raws if raw)
            if r.symbol in self.ctx.markets
        ]
        out.sort(key=lambda s: (s.record.transaction_time, s.record.symbol, s.record.order_list_id))
        return out

    async def _find(
        self, user_id: int, params: dict[str, str], client_name: str, market: Market | None
    ) -> StoredOrderList | None:
        """The list named by `orderListId` or by the list client id in `client_name`; -1102
        when both are missing."""
        list_id = int_param(params, "orderListId")
        fields: list[str]
        if list_id is not None:
            markets = [market.symbol] if market is not None else sorted(self.ctx.markets)
            fields = [f"{symbol}:{list_id}" for symbol in markets]
        else:
            given = params.get(client_name)
            if not given:
                raise ApiError(
                    MANDATORY_PARAM_EMPTY_OR_MALFORMED,
                    f"Param '{client_name}' or 'orderListId' must be sent, but both were empty/null!",
                )
            field = await redisio.hget(self.ctx.redis, self.ctx.keys.list_client_ids(user_id), given)
            if field is None or (market is not None and not field.decode().startswith(f"{market.symbol}:")):
                return None
            fields = [field.decode()]
        found = await self._records(user_id, fields)
        if list_id is None:
            found = [s for s in found if s.record.list_client_order_id == params.get(client_name)]
        return found[-1] if found else None


def _member_command(user_id: int, order_id: int, m: OrderRequest, reserve: int) -> PlaceOrder:
    return PlaceOrder(
        m.market.symbol,
        order_id,
        user_id,
        m.side,
        m.order_type,
        m.time_in_force,
        m.price,
        m.quantity,
        m.quote_quantity,
        reserve,
        m.stp_mode,
        m.client_order_id,
        stop_price=m.stop_price,
        trailing_delta=m.trailing_delta,
        iceberg_qty=m.iceberg_qty,
    )


def _pending_state(order_id: int, m: OrderRequest, ts: int) -> OrderRecord:
    """A pending order's state before the engine saw its list (no list id yet)."""
    return OrderRecord(
        order_id, m.client_order_id, m.side, m.order_type, m.time_in_force, m.price, m.quantity,
        m.quote_quantity, m.stp_mode, ts, OrderStatus.PENDING_NEW, 0, 0, ts,
        stop_price=m.stop_price, trailing_delta=m.trailing_delta, iceberg_qty=m.iceberg_qty,
    )  # fmt: skip


def replace_state(state: OrderRecord, ts: int, order_list_id: int, status: int) -> OrderRecord:
    """A pending order's state as the answer to its list shows it: the engine's time, the list's
    id, and PENDING_NEW or the status it ended with in the same answer (the working order
    expired at once: EXPIRED)."""
    return dataclasses.replace(state, time=ts, update_time=ts, order_list_id=order_list_id, status=status)
