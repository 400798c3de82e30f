"""uvicorn's httptools protocol with a read deadline, and routes answered without ASGI.

A request's headers and body must arrive within READ_TIMEOUT_S of its first byte (of the
connection's opening, for its first request), or the connection is closed. uvicorn has no header
or body read timeout: a client dripping one header byte every few seconds held a connection for
as long as it liked. The WebSocket tier (:8001) closes such sockets after 10 s (websockets'
open_timeout); this gives the gateway's port the same bound. Idle keep-alive connections between
requests are still uvicorn's `timeout_keep_alive` (GatewaySettings.keep_alive_s), which must stay
longer than clients' own idle expiry; the deadline starts at a request's first byte, so it never
shortens that. WebSocket connections are untouched once upgraded.

An app served with a `direct` attribute that is a DirectRoute (gateway.app.ServedApp) has the
requests its `route` accepts answered by that route instead of through the app: in the same
request-response cycle as uvicorn's (pipelining, flow control, keep-alive, shutdown and the
server's default headers unchanged), the status line, headers and body written at once. Only an
app that uvicorn serves as it is (no proxy-headers or logging wrapper) is asked, and only while
there is no access log.
"""

import abc
import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import cast

from starlette.types import Scope
from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

READ_TIMEOUT_S = 10.0

# (HTTP status, headers beyond the server's default ones, body) of a directly answered request.
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
Handler = Callable[[Callable[[], Awaitable[bytes]]], Awaitable[Answer]]


class DirectRoute(abc.ABC):
    """Requests answered without ASGI (see the module)."""

    @abc.abstractmethod
    def route(self, scope: Scope) -> Handler | None:
        """For the request of `scope` (its headers complete): the coroutine function that answers
        it given a way to read its whole body, or None to leave it to the app. The answer's
        headers carry its Content-Length."""


class DeadlineHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol closing a connection whose request does not arrive in READ_TIMEOUT_S,
    answering the requests of the app's DirectRoute without ASGI."""

    read_deadline: asyncio.TimerHandle | None = None
    direct: DirectRoute | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        direct = getattr(self.app, "direct", None)
        if isinstance(direct, DirectRoute) and not self.access_log:
            self.direct = direct
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.read_deadline is None:
            self._arm()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        handler = None
        if self.direct is not None and app is self.app and not cycle.waiting_for_100_continue:
            handler = self.direct.route(cast(Scope, cycle.scope))
        if handler is None:
            super()._start_asgi_task(cycle, app)
            return
        context = contextvars.Context() if self.config.reset_contextvars else None
        task = self.loop.create_task(_answer_directly(cycle, handler), context=context)
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    def _arm(self) -> None:
        self.read_deadline = self.loop.call_later(READ_TIMEOUT_S, self._read_timed_out)

    def _disarm(self) -> None:
        if self.read_deadline is not None:
            self.read_deadline.cancel()
            self.read_deadline = None

    def _read_timed_out(self) -> None:
        self.read_deadline = None
        if not self.transport.is_closing():
            self.logger.debug("closing %s: request not received within %s s", self.client, READ_TIMEOUT_S)
            self.transport.close()


async def _request_body(cycle: RequestResponseCycle) -> bytes:
    """The whole body of `cycle`'s request (b"" once the client is gone, as ASGI's disconnect)."""
    while cycle.more_body and not cycle.disconnected and not cycle.response_complete:
        cycle.flow.resume_reading()
        await cycle.message_event.wait()
        cycle.message_event.clear()
    return b"" if cycle.disconnected else bytes(cycle.body)


async def _answer_directly(cycle: RequestResponseCycle, handler: Handler) -> None:
    """RequestResponseCycle.run_asgi and send for a direct answer: the answer is written in one
    piece (after the server's default headers; `connection: close` when the connection is not
    kept alive), unless the client is gone; an exception is a 500, as uvicorn's."""
    try:
        status, headers, body = await handler(lambda: _request_body(cycle))
        if cycle.flow.write_paused and not cycle.disconnected:
            await cycle.flow.drain()
        if cycle.disconnected:
            return
        cycle.response_started = True
        cycle.waiting_for_100_continue = False
        out = [STATUS_LINE[status]]
        for name, value in (*cycle.default_headers, *headers):
            out += (name, b": ", value, b"\r\n")
        if not cycle.keep_alive:
            out.append(b"connection: close\r\n")
        out += (b"\r\n", body)
        cycle.transport.write(b"".join(out))
        cycle.response_complete = True
        cycle.message_event.set()
        if not cycle.keep_alive:
            cycle.transport.close()
        cycle.on_response()
    except BaseException as exc:
        cycle.logger.error("Exception in ASGI application\n", exc_info=exc)
        if not cycle.response_started:
            await cycle.send_500_response()
        else:
            cycle.transport.close()
    finally:
        cycle.on_response = lambda: None
