"""A gRPC trading client for tests and the benchmark: the generated async stubs plus request
signing written from docs/grpc.md (not from the server's code)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc_status import rpc_status

from exchange_proto import api_types_pb2 as apb
from exchange_proto import market_data_api_pb2_grpc as mgrpc
from exchange_proto import trading_api_pb2 as tpb
from exchange_proto import trading_api_pb2_grpc as tgrpc

TRADING = "/exchange.api.v1.Trading/"


def signed_metadata(
    api_key: str,
    secret: str,
    method: str,
    request: Message,
    timestamp_ms: int | None = None,
    recv_window: int | None = None,
) -> list[tuple[str, str]]:
    """The metadata of a signed call of `method` (e.g. "PlaceOrder")."""
    timestamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    window = "" if recv_window is None else str(recv_window)
    payload = f"{TRADING}{method}\n{timestamp}\n{window}\n".encode() + request.SerializeToString(
        deterministic=True
    )
    signature = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    metadata = [("x-mbx-apikey", api_key), ("x-mbx-timestamp", timestamp), ("x-mbx-signature", signature)]
    if recv_window is not None:
        metadata.append(("x-mbx-recvwindow", window))
    return metadata


@dataclass
class GrpcTrader:
    """One user's signed calls over one channel."""

    channel: grpc.aio.Channel
    api_key: str
    secret: str

    @property
    def trading(self) -> tgrpc.TradingAsyncStub:
        return tgrpc.TradingStub(self.channel)  # type: ignore[return-value]

    @property
    def market(self) -> mgrpc.MarketDataAsyncStub:
        return mgrpc.MarketDataStub(self.channel)  # type: ignore[return-value]

    async def call(self, method: str, request: Message, timeout: float | None = 10.0) -> Any:
        stub = getattr(self.trading, method)
        return await stub(
            request, metadata=signed_metadata(self.api_key, self.secret, method, request), timeout=timeout
        )

    def stream(self, method: str, request: Message, timeout: float | None = None) -> Any:
        stub = getattr(self.trading, method)
        return stub(
            request, metadata=signed_metadata(self.api_key, self.secret, method, request), timeout=timeout
        )


def limit_buy(
    symbol: str, price: str = "20000", quantity: str = "0.001", client_id: str = ""
) -> tpb.PlaceOrderRequest:
    """A LIMIT GTC buy (an empty `client_id`: the gateway makes one)."""
    return tpb.PlaceOrderRequest(
        symbol=symbol,
        side=apb.SIDE_BUY,
        type=apb.ORDER_TYPE_LIMIT,
        time_in_force=apb.TIME_IN_FORCE_GTC,
        price=price,
        quantity=quantity,
        new_client_order_id=client_id,
    )


def api_error(error: grpc.aio.AioRpcError) -> tuple[int, str]:
    """The Binance (code, msg) in a failed call's rich status details."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, f"no rich status in {error}"
    detail = apb.ApiError()
    assert status.details[0].Unpack(detail)
    return detail.code, detail.msg


async def order_and_short_stream(target: str, api_key: str, secret: str, symbol: str) -> None:
    """A limit buy over gRPC while a StreamAccount is open, then the stream cancelled, so that the
    gRPC metrics have samples: PlaceOrder OK, StreamAccount CANCELLED, a message sent."""
    async with grpc.aio.insecure_channel(target) as channel:
        g = GrpcTrader(channel, api_key, secret)
        stream = g.stream("StreamAccount", tpb.StreamAccountRequest())
        await asyncio.wait_for(stream.initial_metadata(), 10)
        await g.call("PlaceOrder", limit_buy(symbol))
        await asyncio.wait_for(stream.read(), 10)
        stream.cancel()
