"""Telling "a backend is unreachable, try again" apart from a bug.

Redis or PostgreSQL being down, restarting or still loading is not the client's fault and not an
unknown error: Binance answers such requests with HTTP 503 and -1001 ("Internal error; unable to
process your request. Please try again."), which clients (ccxt: ExchangeNotAvailable) retry.
As with every 5xx, whether a state-changing request took effect is unknown to the client: an
order may be queried by its client order id.
"""

import socket

import asyncpg
import redis.exceptions

from exchange_core.errors import DISCONNECTED, UNKNOWN, ApiError

UNREACHABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,  # also BusyLoadingError: Redis loading its data
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,  # a replica during failover
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,  # starting up or shutting down
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,  # the connection closed under a query
    ConnectionError,  # builtin (refused, reset; the pipelined Redis connection's loss)
    TimeoutError,
    socket.gaierror,  # the host's name does not resolve (yet)
)


def backend_unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says Redis or PostgreSQL could not be reached."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        if isinstance(current, UNREACHABLE):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def internal_error(exc: BaseException) -> ApiError:
    """The answer to a request that failed with `exc`, which is not an ApiError."""
    if backend_unreachable(exc):
        return ApiError(
            DISCONNECTED, "Internal error; unable to process your request. Please try again.", 503
        )
    return ApiError(UNKNOWN, "An unknown error occurred while processing the request.", 500)
