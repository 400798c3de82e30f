"""The gateway's floor over HTTP: the same server stack, only the unavoidable part of an order.

`python -m bench.gateway_floor PORT KEYS` serves, on 127.0.0.1:PORT with uvicorn + uvloop +
httptools (as `python -m gateway` does, one process, no access log), a raw ASGI app that reads
the whole form body of each request, looks up the secret of its X-MBX-APIKEY (KEYS: a JSON file
{api key: secret}), checks the body's HMAC-SHA256 `signature` against the rest of it and answers
a fixed JSON (400 with a Binance error when the signature does not match). No parsing of the
order, no Redis, no engine: what no order entry over HTTP can avoid.
"""

import hashlib
import hmac
import json
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ACCEPTED = b'{"symbol":"BTCUSDT","orderId":1,"status":"NEW"}'
REFUSED = b'{"code":-1022,"msg":"Signature for this request is not valid."}'
HEADERS = [(b"content-type", b"application/json")]


def app_for(secrets: dict[bytes, bytes]) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        key = next((v for k, v in scope["headers"] if k == b"x-mbx-apikey"), b"")
        payload, _, signature = body.rpartition(b"&signature=")
        secret = secrets.get(key)
        ok = secret is not None and hmac.compare_digest(
            hmac.new(secret, payload, hashlib.sha256).hexdigest().encode(), signature
        )
        await send({"type": "http.response.start", "status": 200 if ok else 400, "headers": HEADERS})
        await send({"type": "http.response.body", "body": ACCEPTED if ok else REFUSED})

    return app


def main() -> None:
    port, keys = sys.argv[1:3]
    secrets = {k.encode(): v.encode() for k, v in json.loads(Path(keys).read_text()).items()}
    uvicorn.run(
        app_for(secrets),
        host="127.0.0.1",
        port=int(port),
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
