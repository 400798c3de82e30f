"""The gateway's floor over the WebSocket API: only the unavoidable part of an order.

`python -m bench.wsapi_floor PORT KEYS` serves, on 127.0.0.1:PORT with the `websockets` library
on uvloop (one process), WebSocket connections on any path whose text frames are WebSocket API
requests ({"id", "method", "params"}): it parses each frame's JSON, looks up the secret of its
`apiKey` (KEYS: a JSON file {api key: secret}), checks `signature` against the other parameters
sorted by name as `name=value&...` (Binance's SIGNED rule, gateway.wsapi.frames) and answers,
under the request's id, a result of the shape and about the size of the gateway's RESULT answer
to a new order (`RESULT`: the request's own symbol, side, type, timeInForce, price, quantity and
clientOrderId, a counter as orderId, the time; then an empty `rateLimits`, as the bench's gateway
sends), so that its clients read as much per answer as ours do; an error answer with -1022 when
the signature does not match. Compression is negotiated as the gateway's server (uvicorn's,
per-message deflate) does with the same client. No order parsing, no rate limits, no Redis, no
engine: what no order entry over the WebSocket API can avoid.
"""

import hashlib
import hmac
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import uvloop
from websockets.asyncio.server import ServerConnection, serve

# The gateway's answer to a new LIMIT order with newOrderRespType RESULT (gateway.formatting), with
# the request's values as sent (not normalised: that is an order's parsing, not the floor's).
RESULT = (
    '{"symbol":%s,"orderId":%d,"orderListId":-1,"clientOrderId":%s,"transactTime":%d,'
    '"price":%s,"origQty":%s,"executedQty":"0.00000000","origQuoteOrderQty":"0.00000000",'
    '"cummulativeQuoteQty":"0.00000000","status":"NEW","timeInForce":%s,"type":%s,"side":%s,'
    '"workingTime":%d,"selfTradePreventionMode":"EXPIRE_MAKER"}'
)
_order_ids = itertools.count(1)
REFUSED = b'{"code":-1022,"msg":"Signature for this request is not valid."}'


_ECHOED = ("symbol", "newClientOrderId", "price", "quantity", "timeInForce", "type", "side")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def answer(secrets: dict[str, bytes], frame: str | bytes) -> bytes:
    """The answer to one request frame."""
    request = json.loads(frame)
    params: dict[str, Any] = dict(request.get("params") or {})
    signature = str(params.pop("signature", "")).encode()
    secret = secrets.get(str(params.get("apiKey", "")))
    payload = "&".join(f"{k}={_text(v)}" for k, v in sorted(params.items())).encode()
    ok = secret is not None and hmac.compare_digest(
        hmac.new(secret, payload, hashlib.sha256).hexdigest().encode(), signature
    )
    head = b'{"id":' + json.dumps(request.get("id")).encode()
    if ok:
        now = time.time_ns() // 1_000_000
        text = [json.dumps(str(params.get(k, ""))) for k in _ECHOED]
        result = RESULT % (text[0], next(_order_ids), text[1], now, text[2], text[3], *text[4:], now)
        return head + b',"status":200,"result":' + result.encode() + b',"rateLimits":[]}'
    return head + b',"status":400,"error":' + REFUSED + b"}"


async def serve_forever(port: int, secrets: dict[str, bytes]) -> None:
    async def connection(ws: ServerConnection) -> None:
        async for frame in ws:
            await ws.send(answer(secrets, frame).decode())

    async with serve(connection, "127.0.0.1", port, max_size=None) as server:
        await server.serve_forever()


def main() -> None:
    port, keys = sys.argv[1:3]
    secrets = {k: v.encode() for k, v in json.loads(Path(keys).read_text()).items()}
    uvloop.run(serve_forever(int(port), secrets))


if __name__ == "__main__":
    main()
