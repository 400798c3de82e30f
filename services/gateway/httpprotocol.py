"""uvicorn's httptools protocol with a read deadline: a request's headers and body must arrive
within READ_TIMEOUT_S of its first byte (of the connection's opening, for its first request), or
the connection is closed.

uvicorn has no header or body read timeout: a client dripping one header byte every few seconds
held a connection for as long as it liked. The WebSocket tier (:8001) closes such sockets after
10 s (websockets' open_timeout); this gives the gateway's port the same bound. Idle keep-alive
connections between requests are still uvicorn's `timeout_keep_alive` (GatewaySettings.keep_alive_s),
which must stay longer than clients' own idle expiry; the deadline starts at a request's first
byte, so it never shortens that. WebSocket connections are untouched once upgraded.
"""

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

READ_TIMEOUT_S = 10.0


class DeadlineHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol closing a connection whose request does not arrive in READ_TIMEOUT_S."""

    read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
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
