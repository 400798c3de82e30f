"""The order path at the gateway: reserve, append the command, await the answer; and the
order, trade and open-order queries, served from the states settlement keeps in Redis.

A reservation is made before the command is appended and is recorded against the order id;
a command is never appended later than SUBMIT_GUARD_MS after its reservation (settlement's
orphan sweeper relies on that bound to release reservations whose command never arrived).
"""

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import replace

from exchange_core import redisio
from exchange_core.clock import now_ms
from exchange_core.errors import (
    CANCEL_REJECTED,
    INSUFFICIENT_BALANCE_MSG,
    MANDATORY_PARAM_EMPTY_OR_MALFORMED,
    NEW_ORDER_REJECTED,
    NO_SUCH_ORDER,
    ORDER_AMEND_REJECTED,
    TIMEOUT,
    ApiError,
    amend_error,
    reason_error,
)
from exchange_core.ledger import MAX_AMOUNT, DuplicateClientOrderId, InsufficientFunds, OpenOrderLimit
from exchange_core.markets import Market
from exchange_core.protocol import encode_command
from exchange_core.records import OrderRecord, TradeRecord
from exchange_core.submitguard import SUBMIT_GUARD_MS
from exchange_proto import events_pb2 as epb
from gateway.avgprices import AveragePrices
from gateway.context import GatewayContext
from gateway.orderlimits import (
    MAX_NUM_ORDER_AMENDS,
    count_filter_failure,
    is_algo,
    needs_records,
    percent_price_ok,
)
from gateway.results import (
    AmendedOrder,
    CancelledOrder,
    PlacedOrder,
    StoredOrder,
    StoredTrade,
    placed_order,
)
from gateway.tradetimes import trades_between
from gateway.validation import (
    STOP_MARKET_TYPES,
    OrderRequest,
    check_lot,
    client_order_id,
    decimal_units,
    filter_failure,
    int_param,
    market_of,
    missing,
    parse_new_order,
    time_param,
)
from matching.commands import AmendOrder, CancelAll, CancelOrder, Command, PlaceOrder
from matching.enums import OrderStatus, OrderType, Side

# Order ids are taken from the market's counter in blocks: unique, increasing per gateway.
ORDER_ID_BLOCK = 100
# A MARKET order whose cost is estimated from the book reserves this much more (per mille).
SLIPPAGE_PER_MILLE = 50
UNKNOWN_ORDER_MSG = "Unknown order sent."
# How long a user's amendment counts (MAX_NUM_ORDER_AMENDS) are kept after their last amendment.
AMEND_COUNT_TTL_S = 30 * 24 * 3600


def timeout_error() -> ApiError:
    return ApiError(
        TIMEOUT,
        "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        503,
    )


class OrderService:
    def __init__(self, ctx: GatewayContext) -> None:
        self.ctx = ctx
        self.reply_channel = ctx.keys.reply_channel(ctx.settings.gateway_id)
        self._id_blocks: dict[str, tuple[int, int]] = {}
        # Makes every correlation id of this process unique (see submit).
        self._request_numbers = itertools.count(1)
        self.average_prices = AveragePrices(ctx.pool)
        # The venue's own bots (keys exempt from the rate limits) are not held to the count filters.
        self._exempt_keys = ctx.settings.rate_limits().exempt_keys
        self._max_orders = ctx.settings.max_num_orders

    async def next_order_id(self, symbol: str) -> int:
        """A new order id for the market, from a block of ORDER_ID_BLOCK taken with one INCRBY."""
        next_id, end = self._id_blocks.get(symbol, (1, 0))
        if next_id > end:
            end = int(
                await self.ctx.pipelined.execute("INCRBY", self.ctx.keys.order_ids(symbol), ORDER_ID_BLOCK)
            )
            next_id = end - ORDER_ID_BLOCK + 1
        self._id_blocks[symbol] = (next_id + 1, end)
        return next_id

    # ------------------------------------------------------------------ commands

    async def place(self, user_id: int, params: dict[str, str], api_key: str | None = None) -> PlacedOrder:
        """POST /api/v3/order (`api_key`: the key the caller authenticated with, if any)."""
        return await self.place_request(user_id, parse_new_order(params, self.ctx.markets), api_key)

    async def place_request(self, user_id: int, req: OrderRequest, api_key: str | None = None) -> PlacedOrder:
        """Reserve, submit and answer an already validated new order; {-1013, "Market is
        closed."} for a market that is not trading, and the filters of gateway.orderlimits
        (-1013 PERCENT_PRICE_BY_SIDE, MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS, MAX_NUM_ICEBERG_ORDERS;
        the counts not for keys exempt from the rate limits), before anything is reserved."""
        market = req.market
        symbol = market.symbol
        self.ctx.statuses.ensure_trading(symbol)
        # An order held to MAX_NUM_ORDERS alone is counted by the reservation's own script.
        plain = _only_max_num_orders(req)
        await self.check_filters(user_id, req, api_key, counts=not plain)
        order_id = await self.next_order_id(symbol)
        asset, amount = await self.reservation(req)
        max_open_orders = self._max_orders if plain and not self._exempt(api_key) else 0
        if amount > MAX_AMOUNT:
            # More than any balance can hold (the ledger's exact range): refused before reserving.
            if max_open_orders:
                await self._check_open_order_counts(user_id, req)
            raise ApiError(NEW_ORDER_REJECTED, INSUFFICIENT_BALANCE_MSG)
        command = PlaceOrder(
            symbol,
            order_id,
            user_id,
            req.side,
            req.order_type,
            req.time_in_force,
            req.price,
            req.quantity,
            req.quote_quantity,
            amount,
            req.stp_mode,
            req.client_order_id,
            stop_price=req.stop_price,
            trailing_delta=req.trailing_delta,
            iceberg_qty=req.iceberg_qty,
        )
        ctx = self.ctx
        correlation = f"o{user_id}:{order_id}"
        # On one Redis without durable acknowledgements the reservation's script appends the
        # command itself (one round trip); else the command follows the reservation (`submit`).
        appends = ctx.pipelined.ordered_across_slots and not ctx.settings.durable_replicas
        correlation_id, future = self._expect(symbol, correlation) if appends else ("", None)
        started = now_ms()
        try:
            await ctx.ledger.reserve(
                user_id,
                asset,
                amount,
                symbol,
                order_id,
                req.client_order_id,
                started,
                max_open_orders=max_open_orders,
                append=(
                    (ctx.keys.commands(symbol), encode_command(command, self.reply_channel, correlation_id))
                    if future is not None
                    else None
                ),
            )
        except BaseException as exc:
            if future is not None:
                ctx.replies.forget(correlation_id)
            if isinstance(exc, OpenOrderLimit):
                raise filter_failure("MAX_NUM_ORDERS") from exc
            if isinstance(exc, InsufficientFunds):
                raise ApiError(NEW_ORDER_REJECTED, INSUFFICIENT_BALANCE_MSG) from exc
            if isinstance(exc, DuplicateClientOrderId):
                raise ApiError(NEW_ORDER_REJECTED, "Duplicate order sent.") from exc
            raise
        if future is not None:
            batch = await self._answer(correlation_id, future)
        else:
            batch = await self.submit(symbol, correlation, command, started, user_id)
        rejected = next(
            (e.order_rejected for e in batch.events if e.WhichOneof("kind") == "order_rejected"), None
        )
        if rejected is not None:
            raise reason_error(rejected.reason)
        return placed_order(market, order_id, req.resp_type, batch)

    def _exempt(self, api_key: str | None) -> bool:
        """Whether `api_key` is exempt from the rate limits, and so from the count filters."""
        return api_key is not None and api_key in self._exempt_keys

    async def check_filters(
        self,
        user_id: int,
        req: OrderRequest,
        api_key: str | None = None,
        placing: int = 0,
        *,
        counts: bool = True,
    ) -> None:
        """The filters of gateway.orderlimits a new order `req` must pass before anything is
        reserved (-1013): PERCENT_PRICE_BY_SIDE, then, with `counts`, the open-order counts (not
        for keys exempt from the rate limits). `placing`: the orders of the same list placed
        with it before it, counted as open."""
        if req.price:
            average = await self.average_prices.get(req.market.symbol)
            if average is not None and not percent_price_ok(req.side, req.price, average):
                raise filter_failure("PERCENT_PRICE_BY_SIDE")
        if counts and not self._exempt(api_key):
            await self._check_open_order_counts(user_id, req, placing)

    async def _check_open_order_counts(self, user_id: int, req: OrderRequest, placing: int = 0) -> None:
        """MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS, MAX_NUM_ICEBERG_ORDERS: -1013 when the user already
        has that many open orders of the kind in the market, `placing` more counted as open
        (counted from the open orders settlement keeps: one SCARD when the user has fewer open
        orders in all markets than any limit could reach; concurrent placements of one user may
        pass together, as they may pass a balance check at Binance's edge)."""
        symbol = req.market.symbol
        key = self.ctx.keys.open_orders(user_id)
        total = int(await self.ctx.pipelined.execute("SCARD", key)) + placing
        max_orders = self._max_orders
        if not needs_records(req, total, max_orders) and not (max_orders and total >= max_orders):
            return
        members = await redisio.smembers(self.ctx.redis, key)
        fields = [m.decode() for m in members if m.decode().startswith(f"{symbol}:")]
        records: list[OrderRecord] = []
        if needs_records(req, len(fields), max_orders):
            raws = await self.ctx.redis.hmget(self.ctx.keys.orders(user_id), fields)
            records = [OrderRecord.decode(raw) for raw in raws if raw]
        failed = count_filter_failure(req, len(fields) + placing, records, max_orders)
        if failed is not None:
            raise filter_failure(failed)

    async def cancel(self, user_id: int, params: dict[str, str]) -> CancelledOrder:
        """DELETE /api/v3/order."""
        market = market_of(params, self.ctx.markets)
        order_id = await self._order_id(user_id, market, params)
        if order_id is None:
            raise ApiError(CANCEL_REJECTED, UNKNOWN_ORDER_MSG)
        cancel_id = client_order_id(params)
        batch = await self.submit(
            market.symbol, f"c{user_id}:{order_id}", CancelOrder(market.symbol, user_id, order_id)
        )
        refused = next(
            (e.cancel_rejected for e in batch.events if e.WhichOneof("kind") == "cancel_rejected"), None
        )
        if refused is not None:
            raise ApiError(CANCEL_REJECTED, UNKNOWN_ORDER_MSG)
        state = await self._state(user_id, market.symbol, order_id)
        if state is None:
            raise ApiError(CANCEL_REJECTED, UNKNOWN_ORDER_MSG)
        return CancelledOrder(market, state, cancel_id, batch.events[0].ts)

    async def amend(self, user_id: int, params: dict[str, str]) -> AmendedOrder:
        """PUT /api/v3/order/amend/keepPriority: reduce an open order's quantity to `newQty`, keeping
        its place in the queue (docs/matching.md, AmendOrder). -1102 without newQty, -1013 LOT_SIZE,
        -2038 for the engine's refusals (exchange_core.errors.amend_error) and past
        MAX_NUM_ORDER_AMENDS amendments of the order (see _claim_amendment)."""
        market = market_of(params, self.ctx.markets)
        if not params.get("newQty"):
            raise missing("newQty")
        quantity = decimal_units(params, "newQty", market.base.decimals)
        check_lot(market, quantity, "LOT_SIZE")
        order_id = await self._order_id(user_id, market, params)
        if order_id is None:
            raise ApiError(ORDER_AMEND_REJECTED, UNKNOWN_ORDER_MSG)
        new_id = client_order_id(params)
        field = f"{market.symbol}:{order_id}"
        await self._claim_amendment(user_id, field)
        command = AmendOrder(market.symbol, user_id, order_id, "", new_id, quantity)
        batch = await self.submit(market.symbol, f"m{user_id}:{order_id}", command)
        event = next(e for e in batch.events if e.WhichOneof("kind") in ("order_amended", "amend_rejected"))
        if event.WhichOneof("kind") == "amend_rejected":
            await self._release_amendment(user_id, field)
            raise amend_error(event.amend_rejected.reason)
        amended = event.order_amended
        state = await self._state(user_id, market.symbol, order_id)
        if state is None:
            raise ApiError(ORDER_AMEND_REJECTED, UNKNOWN_ORDER_MSG)
        # The stored state may not show the amendment yet: the engine's event does.
        record = replace(
            state,
            quantity=amended.quantity,
            client_order_id=amended.client_order_id,
            executed=amended.filled,
            executed_quote=amended.filled_quote,
            status=OrderStatus.PARTIALLY_FILLED if amended.filled else OrderStatus.NEW,
        )
        return AmendedOrder(market, record, amended.orig_client_order_id, event.ts, event.seq)

    async def _claim_amendment(self, user_id: int, field: str) -> None:
        """Count one amendment of the order `field` ("SYMBOL:order_id"), atomically (HINCRBY):
        of any number of concurrent amendments, at most MAX_NUM_ORDER_AMENDS in the order's life
        are let through; the next: -2038 "Filter failure: MAX_NUM_ORDER_AMENDS". The counts live
        AMEND_COUNT_TTL_S after the user's last amendment."""
        key = self.ctx.keys.amend_counts(user_id)
        async with self.ctx.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, field, 1)
            pipe.expire(key, AMEND_COUNT_TTL_S)
            count, _ = await pipe.execute()
        if int(count) > MAX_NUM_ORDER_AMENDS:
            await self._release_amendment(user_id, field)
            raise ApiError(ORDER_AMEND_REJECTED, "Filter failure: MAX_NUM_ORDER_AMENDS")

    async def _release_amendment(self, user_id: int, field: str) -> None:
        """Take back a count of _claim_amendment whose amendment did not happen."""
        await self.ctx.redis.hincrby(self.ctx.keys.amend_counts(user_id), field, -1)

    async def cancel_all(self, user_id: int, params: dict[str, str]) -> list[CancelledOrder]:
        """DELETE /api/v3/openOrders: every open order of the user in one market."""
        market = market_of(params, self.ctx.markets)
        batch = await self.submit(market.symbol, f"a{user_id}", CancelAll(market.symbol, user_id))
        if any(e.WhichOneof("kind") == "cancel_rejected" for e in batch.events):
            raise ApiError(CANCEL_REJECTED, UNKNOWN_ORDER_MSG)
        cancelled = [
            e.order_cancelled.order_id for e in batch.events if e.WhichOneof("kind") == "order_cancelled"
        ]
        states = await self.states(user_id, market.symbol, cancelled)
        ts = batch.events[0].ts
        return [CancelledOrder(market, s, client_order_id({}), ts) for s in states]

    async def submit(
        self,
        symbol: str,
        correlation: str,
        command: Command,
        reserved_at: int | None = None,
        reserved_by: int | None = None,
    ) -> epb.EventBatch:
        """Append `command` to the market's journal and wait for its answer (-1007 on timeout).

        With DURABLE_REPLICAS, the answer also waits until that many replicas have the command
        (and `reserved_by`'s reservation, which on a cluster must be on a replica before the
        command is appended: its master may be another); fewer within DURABLE_TIMEOUT_MS: -1007.

        The answer is awaited under `{symbol}:{correlation}:{n}`, n a number this process never
        gives twice: callers put the user in `correlation`, and no other request (the same
        user's concurrent cancels of one order, another user naming the same order id) can take
        or replace this request's place among the waiting ones."""
        ctx = self.ctx
        correlation_id, future = self._expect(symbol, correlation)
        if reserved_at is not None and now_ms() - reserved_at > SUBMIT_GUARD_MS:
            ctx.replies.forget(correlation_id)
            raise timeout_error()
        encoded = encode_command(command, self.reply_channel, correlation_id)
        pipelined, replicas = ctx.pipelined, ctx.settings.durable_replicas
        timeout_ms = ctx.settings.durable_timeout_ms
        reservation_first = replicas and reserved_by is not None and not pipelined.ordered_across_slots
        # The reservation (the user's master) and its index entry (the market's master: the
        # orphan sweeper's only way to it) on replicas before the command is appended.
        if reservation_first:
            # gather of a list: typed as the list it is at run time (which the compiled module
            # checks), not as the tuple that gather of two arguments is typed as
            waits = [
                pipelined.replicated(ctx.keys.balances(reserved_by or 0), replicas, timeout_ms),
                pipelined.replicated(ctx.keys.pending_reservations(symbol), replicas, timeout_ms),
            ]
            if min(await asyncio.gather(*waits)) < replicas:
                ctx.replies.forget(correlation_id)
                raise timeout_error()
        commands = ctx.keys.commands(symbol)
        appended = pipelined.execute("XADD", commands, "*", "c", encoded)
        durable = None
        if replicas:
            durable = asyncio.ensure_future(pipelined.replicated(commands, replicas, timeout_ms))
        await appended
        batch = await self._answer(correlation_id, future, durable, replicas)
        return batch

    def _expect(self, symbol: str, correlation: str) -> tuple[str, "asyncio.Future[epb.EventBatch | None]"]:
        """A correlation id for a command of `correlation` (see `submit`), and the future of its
        answer, registered before the command is appended."""
        correlation_id = f"{symbol}:{correlation}:{next(self._request_numbers)}"
        return correlation_id, self.ctx.replies.expect(correlation_id)

    async def _answer(
        self,
        correlation_id: str,
        future: "asyncio.Future[epb.EventBatch | None]",
        durable: "asyncio.Future[int] | None" = None,
        replicas: int = 0,
    ) -> epb.EventBatch:
        """The answer to an appended command (and, with `durable`, at least `replicas` replicas
        having it); -1007 when either does not come within its time."""
        batch = await self.ctx.replies.wait(correlation_id, future, self.ctx.settings.order_timeout_ms / 1000)
        if durable is not None and await durable < replicas:
            raise timeout_error()
        if batch is None:
            raise timeout_error()
        return batch

    async def reservation(self, req: OrderRequest) -> tuple[str, int]:
        """(asset, amount) to lock for the order: exact for limits and sells by quantity,
        estimated from the book (plus slippage) for MARKET buys by quantity and sells by quote, and
        from the stop price (or the book, for a trailing one without) plus slippage and the
        trailing delta for STOP_LOSS / TAKE_PROFIT buys."""
        market, spec = req.market, req.market.spec
        buy = req.side == Side.BUY
        if req.order_type in STOP_MARKET_TYPES:
            if not buy:
                return spec.base, req.quantity
            if req.stop_price:
                cost = spec.notional(req.stop_price, req.quantity)
            else:
                cost = _cost_of(
                    spec.notional, (await self._depth(market.symbol)).get("asks", []), req.quantity
                )
            # A trailing buy triggers after a rise of its delta: reserve for that too.
            cost += cost * req.trailing_delta // 10_000
            return spec.quote, max(1, cost + cost * SLIPPAGE_PER_MILLE // 1000)
        if req.order_type != OrderType.MARKET:
            return (spec.quote, spec.notional(req.price, req.quantity)) if buy else (spec.base, req.quantity)
        if buy and req.quote_quantity:
            return spec.quote, req.quote_quantity
        if not buy and req.quantity:
            return spec.base, req.quantity
        book = await self._depth(market.symbol)
        if buy:
            cost = _cost_of(spec.notional, book.get("asks", []), req.quantity)
            return spec.quote, max(1, cost + cost * SLIPPAGE_PER_MILLE // 1000)
        base = _base_for(spec.notional, spec.step_units, book.get("bids", []), req.quote_quantity)
        return spec.base, max(spec.step_units, base + base * SLIPPAGE_PER_MILLE // 1000)

    async def _depth(self, symbol: str) -> dict[str, list[list[int]]]:
        raw = await redisio.get(self.ctx.redis, self.ctx.keys.depth(symbol))
        return json.loads(raw) if raw else {}

    # ------------------------------------------------------------------ queries

    async def _order_id(self, user_id: int, market: Market, params: dict[str, str]) -> int | None:
        order_id = int_param(params, "orderId")
        if order_id is not None:
            return order_id
        original = params.get("origClientOrderId")
        if not original:
            raise ApiError(
                MANDATORY_PARAM_EMPTY_OR_MALFORMED,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        return await self.ctx.ledger.client_order(user_id, market.symbol, original)

    async def _state(self, user_id: int, symbol: str, order_id: int) -> OrderRecord | None:
        raw = await self.ctx.redis.hget(self.ctx.keys.orders(user_id), f"{symbol}:{order_id}")
        return OrderRecord.decode(raw) if raw else None

    async def states(self, user_id: int, symbol: str, order_ids: list[int]) -> list[OrderRecord]:
        if not order_ids:
            return []
        raws = await self.ctx.redis.hmget(self.ctx.keys.orders(user_id), [f"{symbol}:{o}" for o in order_ids])
        return [OrderRecord.decode(r) for r in raws if r]

    async def get_order(self, user_id: int, params: dict[str, str]) -> StoredOrder:
        """GET /api/v3/order."""
        market = market_of(params, self.ctx.markets)
        order_id = await self._order_id(user_id, market, params)
        state = await self._state(user_id, market.symbol, order_id) if order_id is not None else None
        if state is None or (
            params.get("origClientOrderId")
            and not params.get("orderId")
            and state.client_order_id != params["origClientOrderId"]
        ):
            raise ApiError(NO_SUCH_ORDER, "Order does not exist.")
        return StoredOrder(market, state)

    async def open_orders(self, user_id: int, params: dict[str, str]) -> list[StoredOrder]:
        """GET /api/v3/openOrders, for one market or all."""
        only = market_of(params, self.ctx.markets).symbol if params.get("symbol") else None
        members = await redisio.smembers(self.ctx.redis, self.ctx.keys.open_orders(user_id))
        fields = sorted(
            (m.decode() for m in members if only is None or m.decode().startswith(f"{only}:")),
            key=lambda f: (f.split(":")[0], int(f.split(":")[1])),
        )
        if not fields:
            return []
        raws = await self.ctx.redis.hmget(self.ctx.keys.orders(user_id), fields)
        out = []
        for field, raw in zip(fields, raws, strict=True):
            if raw:
                out.append(StoredOrder(self.ctx.markets[field.split(":")[0]], OrderRecord.decode(raw)))
        return out

    async def all_orders(self, user_id: int, params: dict[str, str]) -> list[StoredOrder]:
        """GET /api/v3/allOrders: by order id from `orderId`, at most `limit` (500, max 1000)."""
        market = market_of(params, self.ctx.markets)
        limit = min(int_param(params, "limit", 500) or 500, 1000)
        start = int_param(params, "orderId", 0) or 0
        start_time, end_time = time_param(params, "startTime"), time_param(params, "endTime")
        key = self.ctx.keys.user_orders_by_symbol(user_id, market.symbol)
        if start or start_time or end_time:
            ids = await redisio.zrange_members(self.ctx.redis, key, by_score_from=start)
        else:
            ids = await redisio.zrange_members(self.ctx.redis, key, last=limit)
        states = await self.states(user_id, market.symbol, [int(i) for i in ids])
        states = [
            s
            for s in states
            if (start_time is None or s.time >= start_time) and (end_time is None or s.time <= end_time)
        ]
        return [StoredOrder(market, s) for s in states[:limit]]

    async def my_trades(self, user_id: int, params: dict[str, str]) -> list[StoredTrade]:
        """GET /api/v3/myTrades: from `fromId`; else within `startTime`/`endTime` (the oldest
        `limit` from startTime, or the newest up to endTime alone: `trades_between`); else the
        newest `limit` (500, max 1000)."""
        market = market_of(params, self.ctx.markets)
        limit = min(int_param(params, "limit", 500) or 500, 1000)
        key = self.ctx.keys.user_trades(user_id, market.symbol)
        from_id = int_param(params, "fromId")
        start_time, end_time = time_param(params, "startTime"), time_param(params, "endTime")
        if from_id is not None:
            raws = await redisio.zrange_members(self.ctx.redis, key, by_score_from=from_id, count=limit)
            trades = [TradeRecord.decode(r) for r in raws]
        elif start_time is not None or end_time is not None:
            trades = await trades_between(self.ctx.redis, key, start_time, end_time, limit)
        else:
            raws = await redisio.zrange_members(self.ctx.redis, key, last=limit)
            trades = [TradeRecord.decode(r) for r in raws]
        order_id = int_param(params, "orderId")
        trades = [
            t
            for t in trades
            if (order_id is None or t.order_id == order_id)
            and (start_time is None or t.time >= start_time)
            and (end_time is None or t.time <= end_time)
        ]
        return [StoredTrade(market, t) for t in trades]


Notional = Callable[[int, int], int]


def _only_max_num_orders(req: OrderRequest) -> bool:
    """Whether MAX_NUM_ORDERS is the only count filter `req` is held to (neither an algo nor an
    iceberg order): reserve.lua then checks it, atomically with the reservation, instead of a
    SCARD before it (and with the filter off, nothing is counted)."""
    return not is_algo(req.order_type) and not req.iceberg_qty


def _cost_of(notional: Notional, asks: list[list[int]], quantity: int) -> int:
    """Quote units to buy `quantity` from `asks` (the last price covers what the book lacks)."""
    cost, left, price = 0, quantity, 0
    for price, qty in asks:
        take = min(left, qty)
        cost += notional(price, take)
        left -= take
        if not left:
            return int(cost)
    return int(cost + (notional(price, left) if price else 0))


def _base_for(notional: Notional, step: int, bids: list[list[int]], quote: int) -> int:
    """Base units to sell into `bids` to receive `quote`."""
    base, left = 0, quote
    for price, qty in bids:
        level_quote = notional(price, qty)
        if level_quote >= left:
            per_step = notional(price, step)
            return int(base + -(-left // per_step) * step)
        base += qty
        left -= level_quote
    return int(base)
