"""Signed orders answered straight from the HTTP protocol (gateway.httpprotocol's DirectRoute,
gateway.directorders) against the same requests through the ASGI chain of gateway.app.server_app:
over real sockets to an in-process uvicorn with the gateway's protocol, the same bytes (but the
date), the same rate-limit counts and request metrics; pipelined requests, a body in a later
segment, HTTP/1.0, a weight refusal and a failing handler as uvicorn treats them."""

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from gateway.bodylimit import MAX_BODY_BYTES, BodySizeLimit
from gateway.directorders import DirectOrders
from gateway.fastpath import ORDER_PATH, OrderFastPath
from gateway.httpprotocol import DeadlineHttpToolsProtocol
from gateway.ratelimit import Limits, RateLimiter, RateLimitMiddleware
from gateway.telemetry import RequestMetrics, TelemetryMiddleware
from launcher.stack import free_port

KEY = "K" * 64
FIXED_NOW = 1_800_000_030.0


class EchoOrders(OrderFastPath):
    """OrderFastPath answering from the body alone: "fail" raises, "busy" is a 429 with
    Retry-After (as a refused order count), anything else 200 echoing the body."""

    async def answer(
        self, scope: Any, body: bytes, api_key: bytes, content_type: bytes | None
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        if body == b"fail":
            raise RuntimeError("handler failed")
        if body == b"busy":
            return 429, b'{"code":-1015}', [(b"retry-after", b"7")]
        return 200, b'{"body":"' + body + b'","key":"' + api_key[:2] + b'"}', []


class AsgiOnly:
    """The ASGI chain alone (no `direct`): every request through it."""

    def __init__(self, asgi: Any) -> None:
        self.asgi = asgi

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.asgi(scope, receive, send)


def served(direct: bool, weight_limit: int = 1000) -> tuple[Any, RateLimiter, RequestMetrics]:
    from gateway.app import ServedApp

    app = FastAPI()
    limits = Limits(ip_weight_per_minute=weight_limit, orders_per_10s=0, orders_per_day=0)
    limiter = RateLimiter(limits, clock=lambda: FIXED_NOW)  # no minute boundary between count and read
    metrics = RequestMetrics(CollectorRegistry())
    fast = EchoOrders(app)
    chain = BodySizeLimit(RateLimitMiddleware(fast, limiter), MAX_BODY_BYTES)
    asgi = TelemetryMiddleware(chain, metrics, direct_routes={ORDER_PATH})
    if not direct:
        return AsgiOnly(asgi), limiter, metrics
    return ServedApp(asgi, DirectOrders(fast, limiter, metrics, MAX_BODY_BYTES)), limiter, metrics


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=DeadlineHttpToolsProtocol, lifespan="off",
        access_log=False, log_level="critical", proxy_headers=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


def order(body: bytes, version: bytes = b"1.1", extra: bytes = b"") -> bytes:
    return (
        b"POST " + ORDER_PATH.encode() + b" HTTP/" + version + b"\r\nHost: x\r\nX-MBX-APIKEY: " + KEY.encode()
        + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n" + extra
        + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )  # fmt: skip


async def exchange(port: int, parts: list[bytes], answers: int) -> list[bytes]:
    """Send `parts` (a short pause between them), read `answers` responses (or until closed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i, part in enumerate(parts):
            if i:
                await asyncio.sleep(0.05)
            writer.write(part)
            await writer.drain()
        out: list[bytes] = []
        while len(out) < answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
            out.append(re.sub(rb"date: [^\r]*\r\n", b"", head) + await reader.readexactly(length))
        if b"connection: close" in out[-1]:
            assert await reader.read() == b""
        return out
    finally:
        writer.close()


Case = Callable[[int], Awaitable[list[bytes]]]
CASES: dict[str, Case] = {
    "one order": lambda port: exchange(port, [order(b"a=1")], 1),
    "pipelined": lambda port: exchange(port, [order(b"a=1") + order(b"busy") + order(b"b=2")], 3),
    "body later": lambda port: exchange(port, [order(b"a=12345")[:-3], b"345"], 1),
    "http/1.0": lambda port: exchange(port, [order(b"a=1", b"1.0")], 1),
    "key twice": lambda port: exchange(
        port, [order(b"a=1", extra=b"X-MBX-APIKEY: " + b"L" * 64 + b"\r\n")], 1
    ),
    "failing": lambda port: exchange(port, [order(b"fail")], 1),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_direct_answers_are_the_asgi_chains(case: str) -> None:
    answers = {}
    for direct in (False, True):
        app, limiter, metrics = served(direct)
        async with serving(app) as port:
            answers[direct] = await CASES[case](port)
        observed = {k: sum(v.counts) for k, v in metrics._stats.items()}
        answers[direct].append(repr((limiter.used_weight("127.0.0.1"), observed)).encode())
    assert answers[True] == answers[False]
    assert b"HTTP/1.1 " in answers[True][0] and b"server: uvicorn" in answers[True][0]


async def test_direct_answer_is_one_write_with_the_chains_headers() -> None:
    app, _, metrics = served(True)
    async with serving(app) as port:
        [answer] = await exchange(port, [order(b"a=1")], 1)
    head = answer.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head == [
        b"HTTP/1.1 200 OK",
        b"server: uvicorn",
        b"content-type: application/json",
        b"content-length: 25",
        b"x-mbx-used-weight: 1",
        b"x-mbx-used-weight-1m: 1",
    ]
    assert list(metrics._stats) == [("POST", ORDER_PATH, 200)]


async def test_weight_refusal_and_failure_answers() -> None:
    for direct in (False, True):
        app, _, _ = served(direct, weight_limit=1)
        async with serving(app) as port:
            first, second = await exchange(port, [order(b"a=1") + order(b"a=2")], 2)
            [failed] = await exchange(port, [order(b"fail")], 1)
        assert first.startswith(b"HTTP/1.1 200") and second.startswith(b"HTTP/1.1 429")
        assert b"retry-after: " in second and b'"code":-1003' in second
        assert failed.startswith(b"HTTP/1.1 429")  # refused before its handler runs
    app, _, _ = served(True)
    async with serving(app) as port:
        [failed] = await exchange(port, [order(b"fail")], 1)
    assert failed.startswith(b"HTTP/1.1 500") and b"connection: close" in failed
