"""The SIGNED rules over gRPC: the REST checks (gateway.signed) on values carried in metadata.

A signed call carries, in its request metadata:
- `x-mbx-apikey`: the API key;
- `x-mbx-timestamp`: the client's time in Unix milliseconds;
- `x-mbx-recvwindow` (optional): as REST's recvWindow (default 5000, at most 60000);
- `x-mbx-signature`: hex HMAC-SHA256, keyed with the API secret, of the bytes of
  `<full method>\\n<x-mbx-timestamp>\\n<x-mbx-recvwindow or empty>\\n` followed by the request
  message's deterministic serialization, e.g.
  "/exchange.api.v1.Trading/PlaceOrder\\n1700000000000\\n\\n" + request.SerializeToString(deterministic=True).

The API's messages have no map fields, so every conformant serializer that writes fields in
field-number order gives these bytes. Rejections are REST's, in REST's order: -2014, -1102
(timestamp), -1100/-1131 (recvWindow), -1021, -1102 (signature), -2015, -1022. As on REST, -2015
also refuses a key that does not trust the caller's IP (the peer address), and a read-only key
calling a method of TRADING_METHODS.
"""

from typing import Any

import grpc
from google.protobuf.message import Message

from gateway.context import GatewayContext
from gateway.keycache import ApiKeyCache
from gateway.principal import Principal
from gateway.signed import check_api_key_format, verify_signed

API_KEY = "x-mbx-apikey"
TIMESTAMP = "x-mbx-timestamp"
RECV_WINDOW = "x-mbx-recvwindow"
SIGNATURE = "x-mbx-signature"
# Methods that place or cancel orders: they need a key with the trading permission.
TRADING_METHODS = frozenset(
    f"/exchange.api.v1.Trading/{name}"
    for name in (
        "PlaceOrder", "CancelOrder", "AmendOrder", "CancelAll", "PlaceOco", "PlaceOto", "PlaceOtoco",
        "CancelOrderList",
    )
)  # fmt: skip


def peer_ip(peer: str | None) -> str | None:
    """The IP of a gRPC peer string ("ipv4:1.2.3.4:5678", "ipv6:[::1]:5678"); None for others."""
    kind, _, address = (peer or "").partition(":")
    if kind == "ipv4":
        return address.rpartition(":")[0] or None
    if kind == "ipv6":
        return address.rpartition(":")[0].strip("[]") or None
    return None


def signing_payload(method: str, timestamp: str, recv_window: str, request: Message) -> bytes:
    """The bytes a signature covers (see the module's docstring)."""
    head = f"{method}\n{timestamp}\n{recv_window}\n".encode()
    return head + request.SerializeToString(deterministic=True)


def _metadata(context: grpc.aio.ServicerContext[Any, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in context.invocation_metadata() or ():
        if isinstance(value, str):
            out.setdefault(key, value)
    return out


class Signer:
    """Checks signed calls against the gateway's API keys (shared cache with REST)."""

    def __init__(self, ctx: GatewayContext, cache: ApiKeyCache) -> None:
        self.ctx = ctx
        self.cache = cache

    async def caller(
        self, method: str, request: Message, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Principal:
        """The caller of a validly signed call of `method`; raises ApiError as REST does
        (gateway.signed.verify_signed, after -2014 for a missing or malformed key)."""
        metadata = _metadata(context)
        api_key = check_api_key_format(metadata.get(API_KEY, ""))
        timestamp = metadata.get(TIMESTAMP, "")
        window = metadata.get(RECV_WINDOW, "")
        params = {"timestamp": timestamp, "recvWindow": window, "signature": metadata.get(SIGNATURE, "")}
        payload = signing_payload(method, timestamp, window, request)
        return await verify_signed(
            self.ctx,
            self.cache,
            api_key,
            params,
            payload,
            client_ip=peer_ip(context.peer()),
            trading=method in TRADING_METHODS,
        )
