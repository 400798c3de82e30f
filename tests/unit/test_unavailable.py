"""Which failures are "a backend is unreachable, try again" (503 -1001) and which are bugs (500)."""

import asyncpg
import pytest
import redis.exceptions

from exchange_core.unavailable import backend_unreachable, internal_error


@pytest.mark.parametrize(
    "exc",
    [
        redis.exceptions.ConnectionError("Connection closed by server."),
        redis.exceptions.BusyLoadingError("Redis is loading the dataset in memory"),
        redis.exceptions.TimeoutError("Timeout reading from socket"),
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionError("connection to Redis lost"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    ],
)
def test_backend_failures_are_503_minus_1001(exc: Exception) -> None:
    error = internal_error(exc)
    assert (error.status, error.code) == (503, -1001)
    assert error.msg == "Internal error; unable to process your request. Please try again."


def test_a_backend_failure_behind_another_exception_is_found_by_its_cause() -> None:
    try:
        try:
            raise redis.exceptions.ConnectionError("refused")
        except redis.exceptions.ConnectionError as inner:
            raise RuntimeError("placing the order failed") from inner
    except RuntimeError as outer:
        assert backend_unreachable(outer)


@pytest.mark.parametrize(
    "exc",
    [ValueError("bad"), KeyError("x"), redis.exceptions.ResponseError("WRONGTYPE"), FileNotFoundError()],
)
def test_other_failures_are_500_minus_1000(exc: Exception) -> None:
    error = internal_error(exc)
    assert (error.status, error.code) == (500, -1000)
