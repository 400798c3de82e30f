"""A request body larger than MAX_BODY_BYTES is refused before anything reads or parses it.

Binance's parameters (at most gateway.params.MAX_PARAMS of them) and the web endpoints' JSON fit in
a few kilobytes; without a limit, a 20 MB form would be read and parsed before its API key was
looked up. A request whose Content-Length is over the limit is answered at once: 413 with
Binance's {"code": -1101, "msg"} and `Connection: close` (its body is never read). A body sent
without a length (chunked) is read up to the limit first and then handed on as it came; past the
limit it gets the same 413.
"""

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange_core.errors import TOO_MANY_PARAMETERS

MAX_BODY_BYTES = 64 * 1024


class BodySizeLimit:
    """A pure ASGI middleware refusing HTTP request bodies over `limit` bytes (see the module)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None:
            if length > self.limit:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return received.pop(0) if received else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps(
            {"code": TOO_MANY_PARAMETERS, "msg": f"Request body too large: at most {self.limit} bytes."}
        )
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    """The request's Content-Length; None when it has none (chunked, or no body). A malformed
    one counts as over any limit (the HTTP parser refuses most of those before this)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() and len(value) <= 18 else 1 << 62
    return None
