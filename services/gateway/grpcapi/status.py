"""Binance errors as gRPC statuses: one table from Binance code to gRPC status code, and the
Binance body carried with every failure.

A failed call ends with the status code of STATUS_OF (INVALID_ARGUMENT for a code not listed
and a 4xx HTTP status, INTERNAL for a 5xx one), the Binance `msg` as its message, and in its
trailing metadata:
- `grpc-status-details-bin`: a google.rpc.Status whose details hold one exchange.api.v1.ApiError
  {code, msg} (read it with grpc_status.rpc_status.from_call);
- `x-mbx-error-code`: the Binance code as decimal text, for clients without rich status support.
"""

import logging
from collections.abc import Awaitable
from typing import Any, NoReturn, TypeVar

import google.rpc.status_pb2 as status_pb2
import grpc
from google.protobuf import any_pb2

from exchange_core.errors import (
    BAD_API_KEY_FMT,
    CANCEL_REJECTED,
    DISCONNECTED,
    INVALID_SIGNATURE,
    INVALID_TIMESTAMP,
    NEW_ORDER_REJECTED,
    NO_SUCH_ORDER,
    REJECTED_MBX_KEY,
    TIMEOUT,
    TOO_MANY_ORDERS,
    TOO_MANY_REQUESTS,
    UNAUTHORIZED,
    UNKNOWN,
    ApiError,
)
from exchange_core.unavailable import internal_error
from exchange_proto import api_types_pb2 as apb

log = logging.getLogger("gateway.grpc")

T = TypeVar("T")

ERROR_CODE_KEY = "x-mbx-error-code"
DETAILS_KEY = "grpc-status-details-bin"

STATUS_OF: dict[int, grpc.StatusCode] = {
    UNKNOWN: grpc.StatusCode.INTERNAL,
    DISCONNECTED: grpc.StatusCode.UNAVAILABLE,
    UNAUTHORIZED: grpc.StatusCode.UNAUTHENTICATED,
    TOO_MANY_REQUESTS: grpc.StatusCode.RESOURCE_EXHAUSTED,
    TOO_MANY_ORDERS: grpc.StatusCode.RESOURCE_EXHAUSTED,
    # -1007 "execution status unknown": gRPC's DEADLINE_EXCEEDED has the same meaning for a call
    # that changes state (it may have been carried out); query the order by its client order id.
    TIMEOUT: grpc.StatusCode.DEADLINE_EXCEEDED,
    INVALID_TIMESTAMP: grpc.StatusCode.UNAUTHENTICATED,
    INVALID_SIGNATURE: grpc.StatusCode.UNAUTHENTICATED,
    BAD_API_KEY_FMT: grpc.StatusCode.UNAUTHENTICATED,
    REJECTED_MBX_KEY: grpc.StatusCode.PERMISSION_DENIED,
    NEW_ORDER_REJECTED: grpc.StatusCode.FAILED_PRECONDITION,
    CANCEL_REJECTED: grpc.StatusCode.FAILED_PRECONDITION,
    NO_SUCH_ORDER: grpc.StatusCode.NOT_FOUND,
}


def status_code_of(error: ApiError) -> grpc.StatusCode:
    found = STATUS_OF.get(error.code)
    if found is not None:
        return found
    return grpc.StatusCode.INTERNAL if error.status >= 500 else grpc.StatusCode.INVALID_ARGUMENT


def trailers_of(error: ApiError, status: grpc.StatusCode) -> tuple[tuple[str, str | bytes], ...]:
    """The trailing metadata that carries `error` (see the module's docstring)."""
    detail = any_pb2.Any()
    detail.Pack(apb.ApiError(code=error.code, msg=error.msg))
    rich = status_pb2.Status(code=status.value[0], message=error.msg, details=[detail])
    return ((DETAILS_KEY, rich.SerializeToString()), (ERROR_CODE_KEY, str(error.code)))


def slow_consumer() -> ApiError:
    """The end of a stream that was cut off (RESOURCE_EXHAUSTED, -1003): its reader fell too far
    behind, or its source (the pub/sub connection) failed."""
    return ApiError(
        TOO_MANY_REQUESTS,
        "The stream was cut off (reader too slow or source restarted); subscribe again.",
        429,
    )


async def abort(context: grpc.aio.ServicerContext[Any, Any], error: ApiError) -> NoReturn:
    """End the call with `error` as a gRPC status."""
    status = status_code_of(error)
    await context.abort(status, error.msg, trailers_of(error, status))


async def answer(context: grpc.aio.ServicerContext[Any, Any], work: Awaitable[T]) -> T:
    """The result of `work`; an ApiError it raises ends the call as its status, any other error
    as INTERNAL with Binance's -1000 (and is logged)."""
    try:
        return await work
    except ApiError as exc:
        error = exc
    except Exception as exc:
        error = internal_error(exc)
        if error.status == 503:
            log.warning("gRPC call failed: backend unreachable: %r", exc)
        else:
            log.exception("gRPC call failed")
    await abort(context, error)
