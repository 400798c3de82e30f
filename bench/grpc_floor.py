"""The gateway's floor over gRPC: the same server stack, only the unavoidable part of an order.

`python -m bench.grpc_floor PORT KEYS` serves, on 127.0.0.1:PORT with grpc.aio on uvloop (as the
gateway's gRPC API runs, in one process), `exchange.api.v1.Trading/PlaceOrder` as a generic
handler of raw bytes: it looks up the secret of the call's `x-mbx-apikey` metadata (KEYS: a JSON
file {api key: secret}), checks `x-mbx-signature` against the signed bytes of docs/grpc.md (the
method, `x-mbx-timestamp`, `x-mbx-recvwindow`, the request's serialization as received) and
answers a fixed, pre-serialized PlaceOrderResponse (INVALID_ARGUMENT when the signature does not
match). No decoding of the order, no Redis, no engine: what no order entry over gRPC can avoid.
"""

import hashlib
import hmac
import json
import sys
from pathlib import Path
from typing import Any

import grpc
import uvloop

from exchange_proto import api_types_pb2 as apb
from exchange_proto import trading_api_pb2 as tpb

SERVICE = "exchange.api.v1.Trading"
METHOD = f"/{SERVICE}/PlaceOrder".encode()
ANSWER = tpb.PlaceOrderResponse(
    symbol="BTCUSDT", order_id=1, client_order_id="floor", status=apb.ORDER_STATUS_NEW, order_list_id=-1
).SerializeToString()


def handler_for(secrets: dict[str, bytes]) -> grpc.GenericRpcHandler:
    """The generic handler of Trading/PlaceOrder checking each call's signature against `secrets`."""

    async def place(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        metadata = dict(context.invocation_metadata() or ())
        secret = secrets.get(str(metadata.get("x-mbx-apikey", "")))
        timestamp = str(metadata.get("x-mbx-timestamp", "")).encode()
        window = str(metadata.get("x-mbx-recvwindow", "")).encode()
        signed = METHOD + b"\n" + timestamp + b"\n" + window + b"\n" + request
        signature = str(metadata.get("x-mbx-signature", "")).encode()
        if secret is None or not hmac.compare_digest(
            hmac.new(secret, signed, hashlib.sha256).hexdigest().encode(), signature
        ):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Signature for this request is not valid.")
        return ANSWER

    handlers: dict[str, grpc.RpcMethodHandler[bytes, bytes]] = {
        "PlaceOrder": grpc.unary_unary_rpc_method_handler(place)
    }
    return grpc.method_handlers_generic_handler(SERVICE, handlers)


async def serve(port: int, secrets: dict[str, bytes]) -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((handler_for(secrets),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    port, keys = sys.argv[1:3]
    secrets = {k: v.encode() for k, v in json.loads(Path(keys).read_text()).items()}
    uvloop.run(serve(int(port), secrets))


if __name__ == "__main__":
    main()
