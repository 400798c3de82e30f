"""The SIGNED rules over gRPC: the REST checks (gateway.auth) on values carried in metadata.

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
(timestamp), -1100/-1131 (recvWindow), -1021, -1102 (signature), -2015, -1022.
"""

import hashlib
import hmac
from typing import Any

import grpc
from google.protobuf.message import Message

from exchange_core.errors import BAD_API_KEY_FMT, INVALID_SIGNATURE, ApiError
from gateway.auth import (
    _API_KEY,
    ApiKeyCache,
    _missing,
    _recv_window,
    _timestamp,
    check_timestamp,
    resolve_api_key,
    server_ms,
)
from gateway.context import GatewayContext

API_KEY = "x-mbx-apikey"
TIMESTAMP = "x-mbx-timestamp"
RECV_WINDOW = "x-mbx-recvwindow"
SIGNATURE = "x-mbx-signature"


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

    async def user_of(
        self, method: str, request: Message, context: grpc.aio.ServicerContext[Any, Any]
    ) -> int:
        """The user id of a validly signed call of `method`; raises ApiError as REST does."""
        metadata = _metadata(context)
        api_key = metadata.get(API_KEY, "")
        if not _API_KEY.fullmatch(api_key):
            raise ApiError(BAD_API_KEY_FMT, "API-key format invalid.", 401)
        timestamp_text = metadata.get(TIMESTAMP, "")
        window_text = metadata.get(RECV_WINDOW, "")
        params = {"timestamp": timestamp_text, "recvWindow": window_text}
        check_timestamp(_timestamp(params), _recv_window(params), server_ms())
        signature = metadata.get(SIGNATURE)
        if not signature:
            raise _missing("signature")
        user_id, secret = await resolve_api_key(self.cache, self.ctx, api_key)
        payload = signing_payload(method, timestamp_text, window_text, request)
        expected = hmac.new(secret, payload, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise ApiError(INVALID_SIGNATURE, "Signature for this request is not valid.", 400)
        return user_id
