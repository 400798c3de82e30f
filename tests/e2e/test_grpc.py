"""The gRPC API against a running stack (engines, settlement, DB processor, gateway with its gRPC
server), through the generated async stubs and signing written from docs/grpc.md:

- every RPC of Trading and MarketData, with the same answers as REST;
- Binance errors as gRPC statuses with the Binance code and message in the details, and every
  authentication failure;
- deadlines: a stream ends at its deadline; an order whose engine hangs ends at the caller's
  deadline, long before the gateway's own -1007 timeout;
- StreamDepth and GetOrderBook rebuild the book exactly as Binance's local order book procedure
  does over WebSocket; StreamTrades carries exactly the trades GetTrades later lists;
- health checking and server reflection.
"""

import asyncio
import random
import signal
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from exchange_proto import api_types_pb2 as apb
from exchange_proto import market_data_api_pb2 as mpb
from exchange_proto import trading_api_pb2 as tpb
from launcher.stack import Stack, running_stack
from tests import services
from tests.client import ApiFailure, Trader, sign_up
from tests.grpc_client import GrpcTrader, api_error, signed_metadata

SYMBOL = "BTCUSDT"
HUNG = "SOLUSDT"  # its engine is stopped by the deadline test


@pytest.fixture(scope="module")
def stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(pg_dsn, prefix, [SYMBOL, HUNG], with_dbwriter=True) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


@pytest_asyncio.fixture
async def channel(stack: Stack) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(stack.grpc_target) as ch:
        yield ch


def limit(
    side: int, price: str, qty: str, client_id: str = "", symbol: str = SYMBOL
) -> tpb.PlaceOrderRequest:
    return tpb.PlaceOrderRequest(
        symbol=symbol,
        side=side,
        type=apb.ORDER_TYPE_LIMIT,  # type: ignore[arg-type]
        time_in_force=apb.TIME_IN_FORCE_GTC,
        price=price,
        quantity=qty,
        new_client_order_id=client_id,
    )


def trader_on(channel: grpc.aio.Channel, stack: Stack) -> tuple[Trader, GrpcTrader]:
    rest = sign_up(stack.url)
    return rest, GrpcTrader(channel, rest.api_key, rest.secret)


async def failure(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value


# ---------------------------------------------------------------- health and reflection


async def test_health_and_reflection_list_the_services(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "exchange.api.v1.Trading", "exchange.api.v1.MarketData"):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    unknown = await failure(health.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=5))
    assert unknown.code() == grpc.StatusCode.NOT_FOUND

    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    names: set[str] = set()
    async for reply in reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
    ):
        names |= {s.name for s in reply.list_services_response.service}
    assert {"exchange.api.v1.Trading", "exchange.api.v1.MarketData", "grpc.health.v1.Health"} <= names


# ---------------------------------------------------------------- trading


async def test_order_lifecycle_matches_rest(channel: grpc.aio.Channel, stack: Stack) -> None:
    rest, g = trader_on(channel, stack)
    placed = await g.call("PlaceOrder", limit(apb.SIDE_BUY, "20000", "0.001", "g-1"))
    assert (placed.symbol, placed.client_order_id, placed.status) == (SYMBOL, "g-1", apb.ORDER_STATUS_NEW)
    assert (placed.price, placed.orig_qty, placed.executed_qty) == (
        "20000.00000000",
        "0.00100000",
        "0.00000000",
    )
    assert placed.type == apb.ORDER_TYPE_LIMIT and placed.side == apb.SIDE_BUY and placed.fills == []

    balances = await g.call("GetBalances", tpb.GetBalancesRequest())
    by_asset = {b.asset: (b.free, b.locked) for b in balances.balances}
    assert by_asset == rest.balances()
    assert by_asset["USDT"] == ("9980.00000000", "20.00000000")
    nonzero = await g.call("GetBalances", tpb.GetBalancesRequest(omit_zero_balances=True))
    assert {b.asset for b in nonzero.balances} == {
        a for a, (f, lk) in by_asset.items() if Decimal(f) or Decimal(lk)
    }

    by_id = await g.call("GetOrder", tpb.GetOrderRequest(symbol=SYMBOL, order_id=placed.order_id))
    by_client_id = await g.call("GetOrder", tpb.GetOrderRequest(symbol=SYMBOL, orig_client_order_id="g-1"))
    assert by_id == by_client_id
    from_rest = rest.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=placed.order_id)
    assert (by_id.order_id, by_id.price, by_id.orig_qty, by_id.time, by_id.is_working) == (
        from_rest["orderId"],
        from_rest["price"],
        from_rest["origQty"],
        from_rest["time"],
        from_rest["isWorking"],
    )

    second = await g.call("PlaceOrder", limit(apb.SIDE_BUY, "20001", "0.001", "g-2"))
    third = await g.call("PlaceOrder", limit(apb.SIDE_SELL, "90000", "0.001", "g-3"))
    listed = await g.call("ListOpenOrders", tpb.ListOpenOrdersRequest(symbol=SYMBOL))
    assert [o.order_id for o in listed.orders] == [placed.order_id, second.order_id, third.order_id]
    everywhere = await g.call("ListOpenOrders", tpb.ListOpenOrdersRequest())
    assert everywhere == listed

    cancelled = await g.call(
        "CancelOrder",
        tpb.CancelOrderRequest(symbol=SYMBOL, orig_client_order_id="g-1", new_client_order_id="cancel-1"),
    )
    assert (cancelled.order_id, cancelled.orig_client_order_id, cancelled.client_order_id) == (
        placed.order_id,
        "g-1",
        "cancel-1",
    )
    assert cancelled.status == apb.ORDER_STATUS_CANCELED

    rest_of_them = await g.call("CancelAll", tpb.CancelAllRequest(symbol=SYMBOL))
    assert sorted(c.order_id for c in rest_of_them.cancelled) == [second.order_id, third.order_id]
    assert all(c.status == apb.ORDER_STATUS_CANCELED for c in rest_of_them.cancelled)
    assert (await g.call("ListOpenOrders", tpb.ListOpenOrdersRequest())).orders == []
    assert rest.balances()["USDT"] == ("10000.00000000", "0.00000000")


async def test_a_trade_answers_with_fills_and_streams_execution_reports(
    channel: grpc.aio.Channel, stack: Stack
) -> None:
    _, maker = trader_on(channel, stack)
    _, taker = trader_on(channel, stack)
    reports = taker.stream("StreamExecutionReports", tpb.StreamExecutionReportsRequest())
    await asyncio.wait_for(reports.initial_metadata(), 10)
    resting = await maker.call("PlaceOrder", limit(apb.SIDE_SELL, "31000", "0.002", "mk"))
    taken = await taker.call(
        "PlaceOrder",
        tpb.PlaceOrderRequest(
            symbol=SYMBOL,
            side=apb.SIDE_BUY,
            type=apb.ORDER_TYPE_MARKET,
            quantity="0.001",
            new_client_order_id="tk",
            new_order_resp_type=tpb.RESPONSE_TYPE_FULL,
        ),
    )
    assert taken.status == apb.ORDER_STATUS_FILLED and taken.executed_qty == "0.00100000"
    assert [(f.price, f.qty, f.commission_asset) for f in taken.fills] == [
        ("31000.00000000", "0.00100000", "BTC")
    ]

    seen: list[tpb.ExecutionReport] = []
    async for report in reports:
        seen.append(report)
        if report.status == apb.ORDER_STATUS_FILLED:
            break
    reports.cancel()
    assert [r.execution_type for r in seen] == [tpb.EXECUTION_TYPE_NEW, tpb.EXECUTION_TYPE_TRADE]
    trade = seen[-1]
    assert (trade.order_id, trade.client_order_id, trade.symbol) == (taken.order_id, "tk", SYMBOL)
    assert (trade.last_executed_qty, trade.last_executed_price) == ("0.00100000", "31000.00000000")
    assert (trade.cumulative_filled_qty, trade.trade_id, trade.is_maker) == (
        "0.00100000",
        taken.fills[0].trade_id,
        False,
    )
    assert trade.commission_asset == "BTC" and trade.commission == taken.fills[0].commission
    left = await maker.call("GetOrder", tpb.GetOrderRequest(symbol=SYMBOL, order_id=resting.order_id))
    assert (left.status, left.executed_qty) == (apb.ORDER_STATUS_PARTIALLY_FILLED, "0.00100000")
    await maker.call("CancelAll", tpb.CancelAllRequest(symbol=SYMBOL))


async def next_events(stream: Any, until: Any) -> list[tpb.AccountEvent]:
    """StreamAccount's events up to the first one for which `until` is true."""
    seen: list[tpb.AccountEvent] = []
    try:
        async with asyncio.timeout(10):
            async for event in stream:
                seen.append(event)
                if until(event):
                    return seen
    except TimeoutError:
        raise AssertionError(f"no such event in 10 s: {seen}") from None
    raise AssertionError(f"the stream ended: {seen}")


async def test_stream_account_carries_the_reports_and_balance_changes_of_an_order(
    channel: grpc.aio.Channel, stack: Stack
) -> None:
    _, maker = trader_on(channel, stack)
    rest, taker = trader_on(channel, stack)
    stream = taker.stream("StreamAccount", tpb.StreamAccountRequest())
    await asyncio.wait_for(stream.initial_metadata(), 10)
    await maker.call("PlaceOrder", limit(apb.SIDE_SELL, "31000", "0.001", "acct-mk"))
    taken = await taker.call(
        "PlaceOrder",
        tpb.PlaceOrderRequest(
            symbol=SYMBOL,
            side=apb.SIDE_BUY,
            type=apb.ORDER_TYPE_MARKET,
            quantity="0.001",
            new_client_order_id="acct-tk",
            new_order_resp_type=tpb.RESPONSE_TYPE_FULL,
        ),
    )
    assert taken.status == apb.ORDER_STATUS_FILLED
    seen = await next_events(stream, lambda e: e.WhichOneof("event") == "account_position")
    stream.cancel()
    reports = [e.execution_report for e in seen[:-1]]
    assert [(r.order_id, r.client_order_id, r.execution_type) for r in reports] == [
        (taken.order_id, "acct-tk", tpb.EXECUTION_TYPE_NEW),
        (taken.order_id, "acct-tk", tpb.EXECUTION_TYPE_TRADE),
    ]
    assert (reports[-1].trade_id, reports[-1].last_executed_qty) == (taken.fills[0].trade_id, "0.00100000")
    position = seen[-1].account_position
    changed = {b.asset: (b.free, b.locked) for b in position.balances}
    now = rest.balances()
    assert set(changed) == {"BTC", "USDT"} and changed == {a: now[a] for a in changed}
    spent = sum(Decimal(f.price) * Decimal(f.qty) for f in taken.fills)
    assert Decimal(changed["USDT"][0]) == Decimal(10000) - spent and changed["USDT"][1] == "0.00000000"
    assert position.event_time >= reports[-1].event_time > 0 and position.last_update_time > 0


def grpc_requests(stack: Stack) -> dict[tuple[str, str], float]:
    """exchange_grpc_requests_total of the gateway's /metrics by (method, code)."""
    response = httpx.get(f"{stack.url}/metrics", timeout=10)
    assert response.status_code == 200
    out: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "exchange_grpc_requests_total":
                out[(sample.labels["method"], sample.labels["code"])] = sample.value
    return out


async def test_calls_are_counted_on_the_gateways_metrics(channel: grpc.aio.Channel, stack: Stack) -> None:
    _, g = trader_on(channel, stack)
    place = "exchange.api.v1.Trading/PlaceOrder"
    before = grpc_requests(stack)
    placed = await g.call("PlaceOrder", limit(apb.SIDE_BUY, "20000", "0.001"))
    poor = await failure(g.call("PlaceOrder", limit(apb.SIDE_BUY, "20000", "1")))  # -2010
    assert poor.code() == grpc.StatusCode.FAILED_PRECONDITION
    await g.call("CancelOrder", tpb.CancelOrderRequest(symbol=SYMBOL, order_id=placed.order_id))
    after = grpc_requests(stack)

    def added(method: str, code: str) -> float:
        return after.get((method, code), 0) - before.get((method, code), 0)

    assert added(place, "OK") == 1  # tests of this module run one after another
    assert added(place, "FAILED_PRECONDITION") == 1
    assert added("exchange.api.v1.Trading/CancelOrder", "OK") == 1
    assert added(place, "UNAUTHENTICATED") == 0


async def test_the_documented_client_places_order(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "grpc.md").read_text()
    section = doc[doc.index("## Example client") :]
    code = section[
        section.index("```python") + len("```python") : section.index("```", section.index("```python") + 9)
    ]
    rest = sign_up(stack.url)
    code = code.replace('"your api key", "your secret"', f"{rest.api_key!r}, {rest.secret!r}")
    code = code.replace("127.0.0.1:50051", stack.grpc_target).replace("asyncio.run(main())", "")
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/grpc.md", "exec"), namespace)
    await namespace["main"]()
    order_id, status = capsys.readouterr().out.split()
    assert status == "ORDER_STATUS_NEW"
    assert (
        rest.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=int(order_id))["price"] == "30000.00000000"
    )


# ---------------------------------------------------------------- errors


async def test_rejections_carry_rest_codes_as_statuses(channel: grpc.aio.Channel, stack: Stack) -> None:
    rest, g = trader_on(channel, stack)
    cases = [
        (limit(apb.SIDE_BUY, "20000", "1"), grpc.StatusCode.FAILED_PRECONDITION, -2010),  # insufficient
        (limit(apb.SIDE_BUY, "20000.001", "0.001"), grpc.StatusCode.INVALID_ARGUMENT, -1013),  # off tick
        (limit(apb.SIDE_BUY, "20000", "0.0010000001"), grpc.StatusCode.INVALID_ARGUMENT, -1111),  # precision
        (limit(apb.SIDE_BUY, "20,000", "0.001"), grpc.StatusCode.INVALID_ARGUMENT, -1100),
        (limit(apb.SIDE_BUY, "20000", "0.00001"), grpc.StatusCode.INVALID_ARGUMENT, -1013),  # min notional
        (limit(apb.SIDE_BUY, "20000", "0.001", symbol="NOPEUSDT"), grpc.StatusCode.INVALID_ARGUMENT, -1121),
        (
            tpb.PlaceOrderRequest(symbol=SYMBOL, type=apb.ORDER_TYPE_LIMIT, price="1", quantity="1"),
            grpc.StatusCode.INVALID_ARGUMENT,
            -1102,
        ),  # no side
    ]
    for request, status, code in cases:
        err = await failure(g.call("PlaceOrder", request))
        rest_params = {
            "symbol": request.symbol,
            "type": "LIMIT",
            "timeInForce": "GTC",
            "price": request.price,
            "quantity": request.quantity,
        }
        if request.side:
            rest_params["side"] = "BUY"
        with pytest.raises(ApiFailure) as from_rest:
            rest.call("POST", "/api/v3/order", **rest_params)
        assert (err.code(), api_error(err)) == (status, (code, from_rest.value.msg)), request
        assert err.details() == from_rest.value.msg
        assert dict(err.trailing_metadata() or ())["x-mbx-error-code"] == str(code)

    missing = await failure(g.call("GetOrder", tpb.GetOrderRequest(symbol=SYMBOL, order_id=999_999)))
    assert (missing.code(), api_error(missing)) == (
        grpc.StatusCode.NOT_FOUND,
        (-2013, "Order does not exist."),
    )
    not_open = await failure(g.call("CancelOrder", tpb.CancelOrderRequest(symbol=SYMBOL, order_id=999_999)))
    assert (not_open.code(), api_error(not_open)[0]) == (grpc.StatusCode.FAILED_PRECONDITION, -2011)
    interval = await failure(
        g.market.GetKlines(mpb.GetKlinesRequest(symbol=SYMBOL, interval="7m"), timeout=5)
    )
    assert (interval.code(), api_error(interval)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        (-1120, "Invalid interval."),
    )
    speed = await failure(
        anext(aiter(g.market.StreamDepth(mpb.StreamDepthRequest(symbol=SYMBOL, speed_ms=250))))
    )
    assert (speed.code(), api_error(speed)[0]) == (grpc.StatusCode.INVALID_ARGUMENT, -1130)


async def test_authentication_failures(channel: grpc.aio.Channel, stack: Stack) -> None:
    _, g = trader_on(channel, stack)
    request = tpb.GetBalancesRequest()
    stub = g.trading.GetBalances

    def signed(**changes: Any) -> list[tuple[str, str]]:
        method = changes.pop("method", "GetBalances")
        secret = changes.pop("secret", g.secret)
        metadata = dict(
            signed_metadata(
                g.api_key,
                secret,
                method,
                changes.pop("request", request),
                changes.pop("timestamp_ms", None),
                changes.pop("recv_window", None),
            )
        )
        metadata.update(changes)
        return [(k, v) for k, v in metadata.items() if v is not None]

    now = int(time.time() * 1000)
    cases = [
        (signed(**{"x-mbx-apikey": None}), grpc.StatusCode.UNAUTHENTICATED, -2014),
        (signed(**{"x-mbx-apikey": "x" * 63}), grpc.StatusCode.UNAUTHENTICATED, -2014),
        (signed(**{"x-mbx-timestamp": None}), grpc.StatusCode.INVALID_ARGUMENT, -1102),
        (signed(recv_window=70_000), grpc.StatusCode.INVALID_ARGUMENT, -1131),
        (signed(timestamp_ms=now - 10_000), grpc.StatusCode.UNAUTHENTICATED, -1021),  # replayed
        (signed(timestamp_ms=now + 5_000), grpc.StatusCode.UNAUTHENTICATED, -1021),  # ahead
        (signed(**{"x-mbx-signature": None}), grpc.StatusCode.INVALID_ARGUMENT, -1102),
        (signed(**{"x-mbx-apikey": "A" * 64}), grpc.StatusCode.PERMISSION_DENIED, -2015),
        (signed(secret="not-the-secret"), grpc.StatusCode.UNAUTHENTICATED, -1022),
        (signed(method="ListOpenOrders"), grpc.StatusCode.UNAUTHENTICATED, -1022),  # another method's
        (
            signed(request=tpb.GetBalancesRequest(omit_zero_balances=True)),
            grpc.StatusCode.UNAUTHENTICATED,
            -1022,
        ),
    ]
    for metadata, status, code in cases:
        err = await failure(stub(request, metadata=metadata, timeout=5))
        assert (err.code(), api_error(err)[0]) == (status, code), metadata
    assert (
        await stub(request, metadata=signed(recv_window=20_000, timestamp_ms=now - 10_000), timeout=5)
    ).balances
    stream = g.trading.StreamExecutionReports(
        tpb.StreamExecutionReportsRequest(),
        metadata=signed(method="StreamExecutionReports", **{"x-mbx-signature": "0" * 64}),
    )
    err = await failure(anext(aiter(stream)))
    assert (err.code(), api_error(err)[0]) == (grpc.StatusCode.UNAUTHENTICATED, -1022)


# ---------------------------------------------------------------- deadlines


async def test_deadlines_are_honoured(channel: grpc.aio.Channel, stack: Stack) -> None:
    _, g = trader_on(channel, stack)
    started = time.monotonic()
    trades = g.market.StreamTrades(mpb.StreamTradesRequest(symbol=SYMBOL), timeout=1.0)
    err = await failure(anext(aiter(trades)))
    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert 0.9 < time.monotonic() - started < 3

    stack.supervisor.kill(f"engine-{HUNG}", signal.SIGSTOP)  # hung: the gateway would wait 5 s
    try:
        started = time.monotonic()
        err = await failure(g.call("PlaceOrder", limit(apb.SIDE_BUY, "20", "1", "late", HUNG), timeout=0.5))
        took = time.monotonic() - started
        assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED and took < 2, took
    finally:
        stack.supervisor.kill(f"engine-{HUNG}", signal.SIGCONT)
    # As after -1007, the order's fate is learnt by its client order id.
    deadline = time.monotonic() + 10
    while True:
        try:
            found = await g.call("GetOrder", tpb.GetOrderRequest(symbol=HUNG, orig_client_order_id="late"))
            break
        except grpc.aio.AioRpcError:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
    assert found.status == apb.ORDER_STATUS_NEW
    await g.call("CancelAll", tpb.CancelAllRequest(symbol=HUNG))


# ---------------------------------------------------------------- market data


class LocalBook:
    """Binance's local order book procedure over StreamDepth and GetOrderBook."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.update_id = 0
        self.snapshots = 0
        self.diffs_applied = 0
        self.snapshot_id = 0

    def load(self, book: mpb.OrderBook) -> None:
        self.snapshots += 1
        self.snapshot_id = book.last_update_id
        self.bids = {Decimal(lv.price): Decimal(lv.quantity) for lv in book.bids}
        self.asks = {Decimal(lv.price): Decimal(lv.quantity) for lv in book.asks}
        self.update_id = book.last_update_id

    def apply(self, diff: mpb.DepthUpdate) -> None:
        assert diff.first_update_id == self.update_id + 1, (diff.first_update_id, self.update_id)
        for side, levels in ((self.bids, diff.bids), (self.asks, diff.asks)):
            for lv in levels:
                price, qty = Decimal(lv.price), Decimal(lv.quantity)
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)
        self.update_id = diff.final_update_id
        self.diffs_applied += 1

    def same_as(self, book: mpb.OrderBook) -> bool:
        return (self.bids, self.asks) == (
            {Decimal(lv.price): Decimal(lv.quantity) for lv in book.bids},
            {Decimal(lv.price): Decimal(lv.quantity) for lv in book.asks},
        )


async def sync_book(market: Any, diffs: "asyncio.Queue[mpb.DepthUpdate]", local: LocalBook) -> None:
    """Steps 3-6 of Binance's procedure: snapshot; drop diffs it covers; the first diff applied
    must hold lastUpdateId + 1 (else take a new snapshot); then every diff follows on."""
    while True:
        local.load(await market.GetOrderBook(mpb.GetOrderBookRequest(symbol=SYMBOL, limit=5000), timeout=5))
        while True:
            diff = await diffs.get()
            if diff.final_update_id <= local.update_id:
                continue
            break
        if diff.first_update_id <= local.update_id + 1:
            local.update_id = diff.first_update_id - 1
            local.apply(diff)
            return


async def random_orders(traders: list[GrpcTrader], count: int, seed: int) -> int:
    """LIMIT orders around 30,000 from several users (many crossing), some cancelled."""
    rng = random.Random(seed)
    open_ids: list[tuple[GrpcTrader, int]] = []
    for _ in range(count):
        g = rng.choice(traders)
        if open_ids and rng.random() < 0.25:
            owner, order_id = open_ids.pop(rng.randrange(len(open_ids)))
            try:
                await owner.call("CancelOrder", tpb.CancelOrderRequest(symbol=SYMBOL, order_id=order_id))
            except grpc.aio.AioRpcError as err:
                assert api_error(err)[0] == -2011  # filled meanwhile
            continue
        side = rng.choice((apb.SIDE_BUY, apb.SIDE_SELL))
        price = 30_000 + rng.randint(-10, 10)
        qty = Decimal(rng.randint(20, 60)) / 100_000
        placed = await g.call("PlaceOrder", limit(side, str(price), str(qty)))
        if placed.status in (apb.ORDER_STATUS_NEW, apb.ORDER_STATUS_PARTIALLY_FILLED):
            open_ids.append((g, placed.order_id))
    return count


async def test_streamed_depth_rebuilds_the_book_and_trades_match(
    channel: grpc.aio.Channel, stack: Stack
) -> None:
    traders = [trader_on(channel, stack)[1] for _ in range(4)]
    market = traders[0].market
    depth = market.StreamDepth(mpb.StreamDepthRequest(symbol=SYMBOL))
    trades = market.StreamTrades(mpb.StreamTradesRequest(symbol=SYMBOL))
    await asyncio.wait_for(asyncio.gather(depth.initial_metadata(), trades.initial_metadata()), 10)
    before = await market.GetTrades(mpb.GetTradesRequest(symbol=SYMBOL, limit=1000), timeout=5)
    diffs: asyncio.Queue[mpb.DepthUpdate] = asyncio.Queue()
    streamed: list[mpb.Trade] = []

    async def read_depth() -> None:
        async for diff in depth:
            diffs.put_nowait(diff)

    async def read_trades() -> None:
        async for trade in trades:
            streamed.append(trade)

    readers = [asyncio.create_task(read_depth()), asyncio.create_task(read_trades())]
    local = LocalBook()
    orders = asyncio.create_task(random_orders(traders, 300, seed=8))
    await asyncio.sleep(0.5)  # the book is moving when the snapshot is taken
    await sync_book(market, diffs, local)
    await orders
    final = await market.GetOrderBook(mpb.GetOrderBookRequest(symbol=SYMBOL, limit=5000), timeout=5)
    while local.update_id < final.last_update_id:
        local.apply(await asyncio.wait_for(diffs.get(), 5))
    assert local.update_id == final.last_update_id
    assert local.same_as(final), "the local book differs from GetOrderBook"
    # The book moved after the snapshot, and only diffs carried the local copy there (diffs are
    # per 100 ms window, so a fast run has few of them).
    assert local.bids and local.asks and final.last_update_id > local.snapshot_id and local.diffs_applied >= 2

    known = {t.id for t in before.trades}
    deadline = time.monotonic() + 20
    while True:  # the DB processor writes the history GetTrades serves
        listed = await market.GetTrades(mpb.GetTradesRequest(symbol=SYMBOL, limit=1000), timeout=5)
        new = [t for t in listed.trades if t.id not in known]
        if len(new) >= len(streamed) and len(streamed) == len({t.id for t in streamed}) and new:
            break
        assert time.monotonic() < deadline, (len(new), len(streamed))
        await asyncio.sleep(0.2)
    for task in readers:
        task.cancel()
    depth.cancel()
    trades.cancel()
    assert [(t.id, t.price, t.qty, t.time, t.is_buyer_maker) for t in new] == [
        (t.id, t.price, t.qty, t.time, t.is_buyer_maker) for t in streamed
    ]
    assert all(t.quote_qty for t in new)

    klines = await market.GetKlines(mpb.GetKlinesRequest(symbol=SYMBOL, interval="1m"), timeout=5)
    assert sum(k.trades for k in klines.klines) == len(listed.trades)
    assert klines.klines[-1].close == listed.trades[-1].price
    bought = [t for t in listed.trades if not t.is_buyer_maker]  # the taker bought
    assert bought and len(bought) < len(listed.trades)
    assert sum(Decimal(k.taker_buy_volume) for k in klines.klines) == sum(Decimal(t.qty) for t in bought)
    assert sum(Decimal(k.taker_buy_quote_volume) for k in klines.klines) == sum(
        Decimal(t.quote_qty) for t in bought
    )

    ticker = market.StreamTicker(mpb.StreamTickerRequest(symbol=SYMBOL), timeout=10)
    first = await anext(aiter(ticker))
    ticker.cancel()
    assert (first.symbol, first.last_price, first.count) == (
        SYMBOL,
        listed.trades[-1].price,
        len(listed.trades),
    )


async def test_stop_orders_over_grpc(channel: grpc.aio.Channel, stack: Stack) -> None:
    _, g = trader_on(channel, stack)
    stop = tpb.PlaceOrderRequest(
        symbol=SYMBOL, side=apb.SIDE_SELL, type=apb.ORDER_TYPE_STOP_LOSS_LIMIT,  # type: ignore[arg-type]
        time_in_force=apb.TIME_IN_FORCE_GTC, price="10000", quantity="0.001", stop_price="10001",
    )  # fmt: skip
    placed = await g.call("PlaceOrder", stop)
    assert (placed.type, placed.status) == (apb.ORDER_TYPE_STOP_LOSS_LIMIT, apb.ORDER_STATUS_NEW)
    trailing = tpb.PlaceOrderRequest(
        symbol=SYMBOL, side=apb.SIDE_SELL, type=apb.ORDER_TYPE_STOP_LOSS,  # type: ignore[arg-type]
        quantity="0.001", trailing_delta=100,
    )  # fmt: skip
    assert (await g.call("PlaceOrder", trailing)).type == apb.ORDER_TYPE_STOP_LOSS
    listed = await g.call("ListOpenOrders", tpb.ListOpenOrdersRequest(symbol=SYMBOL))
    assert {o.type for o in listed.orders} == {apb.ORDER_TYPE_STOP_LOSS_LIMIT, apb.ORDER_TYPE_STOP_LOSS}
    await g.call("CancelAll", tpb.CancelAllRequest(symbol=SYMBOL))
    assert (await g.call("ListOpenOrders", tpb.ListOpenOrdersRequest(symbol=SYMBOL))).orders == []
