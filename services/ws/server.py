"""The WebSocket endpoint: Binance's paths, the opening handshake's checks and the per-connection
request loop.

Paths: `/ws` and `/ws/<anything>` (raw payloads; `<anything>` may be a stream name, several
joined by `/`, a listen key, or e.g. ccxt's `/ws/0`, which subscribes to nothing);
`/stream?streams=a/b/c` (combined payloads `{"stream": name, "data": payload}`). A path naming an
unknown stream or listen key is refused with HTTP 400 before the upgrade; other paths get 404.
Text frames only: a binary frame, an oversized frame (max_message_bytes) or a protocol error
closes the connection, as does sending more than requests_per_s messages (bursts allowed).
"""

import http
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from exchange_core import listenkeys
from exchange_core.telemetry import PROBE_PATHS, probe_response
from marketdata.streams import parse_stream
from ws.requests import RequestError, parse_request
from ws.service import CLOSE_POLICY, WsService

log = logging.getLogger("ws.server")

CLOSE_UNSUPPORTED = 1003


@dataclass(frozen=True, slots=True)
class Route:
    combined: bool
    names: list[str]


def parse_route(path: str) -> Route | None:
    """What a request path asks for, or None for a path that is not a stream endpoint."""
    parts = urlsplit(path)
    route = parts.path.rstrip("/")
    if route == "/ws":
        return Route(False, [])
    if route.startswith("/ws/"):
        rest = route[len("/ws/") :]
        if "@" in rest:
            return Route(False, [n for n in rest.split("/") if n])
        if listenkeys.looks_like_key(rest):
            return Route(False, [rest])
        return Route(False, [])
    if route == "/stream":
        # Percent-decoded, but a "+" stays a "+" (as in `<symbol>@kline_1d@+08:00`), not a space.
        streams = parse_qs(parts.query.replace("+", "%2B")).get("streams", [""])[0]
        return Route(True, [n for n in streams.split("/") if n])
    return None


class WsServer:
    def __init__(self, service: WsService) -> None:
        self.service = service
        self.settings = service.settings

    def serve(self, host: str, port: int) -> Server:
        """The websockets server (an async context manager that listens while entered)."""
        s = self.settings
        return serve(
            self.handle,
            host,
            port,
            process_request=self.check_request,
            compression=None,
            max_size=s.max_message_bytes,
            max_queue=16,
            ping_interval=s.ping_interval_s,
            ping_timeout=s.ping_timeout_s,
            close_timeout=5,
            backlog=4096,
        )

    async def check_request(self, conn: ServerConnection, request: Request) -> Response | None:
        """Refuse before the upgrade what cannot be served (wrong path, unknown stream or
        listen key, too many streams or connections); answer /metrics, /healthz and /readyz."""
        path = request.path.split("?", 1)[0]
        if path in PROBE_PATHS:
            return await self.probe(conn, path)
        route = parse_route(request.path)
        if route is None:
            return conn.respond(
                http.HTTPStatus.NOT_FOUND, "Not found: use /ws/<stream> or /stream?streams=...\n"
            )
        service = self.service
        if service.counters.clients >= self.settings.max_connections:
            service.counters.rejected_connections += 1
            return conn.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "Too many connections\n")
        if len(route.names) > self.settings.max_streams_per_connection:
            service.counters.rejected_connections += 1
            return conn.respond(http.HTTPStatus.BAD_REQUEST, "Too many streams\n")
        for name in route.names:
            if parse_stream(name, service.markets) is not None:
                continue
            if await listenkeys.user_of(service.redis, service.keys, name) is None:
                service.counters.rejected_connections += 1
                return conn.respond(http.HTTPStatus.BAD_REQUEST, "Invalid stream name or listen key\n")
        return None

    async def probe(self, conn: ServerConnection, path: str) -> Response:
        """/metrics, /healthz or /readyz (see exchange_core.telemetry) as a plain HTTP answer."""
        status, body, content_type = await probe_response(path, self.service.registry, self.service.ready)
        response = conn.respond(status, body.decode())
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = content_type
        return response

    async def handle(self, conn: ServerConnection) -> None:
        """One connection: its path's streams, then requests until it closes."""
        route = parse_route(conn.request.path if conn.request else "") or Route(False, [])
        service = self.service
        s = self.settings
        client = service.connect(conn, route.combined)
        try:
            if route.names:
                try:
                    await service.subscribe(client, route.names, None)
                except RequestError as exc:
                    await conn.close(CLOSE_POLICY, exc.msg[:120])
                    return
            async for message in conn:
                if isinstance(message, bytes):
                    await conn.close(CLOSE_UNSUPPORTED, "text frames only")
                    return
                if not client.allow_request(s.requests_per_s, s.requests_burst):
                    await conn.close(CLOSE_POLICY, "too many requests")
                    return
                try:
                    await service.handle_text(client, parse_request(message))
                except RequestError as exc:
                    service.counters.request_errors += 1
                    service.hub.send(client, exc.reply())
        except ConnectionClosed:
            pass
        finally:
            service.disconnect(client)
