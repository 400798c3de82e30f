"""A task cancelled in the loop turn its `wait_for` completes in stays cancelled (Python 3.11's
own `wait_for` returned the result instead), with `exchange_core` imported, as in every service."""

import asyncio

import pytest

import exchange_core  # noqa: F401  (installs the cancellation-safe wait_for)
from exchange_core.cancelsafe import wait_for


async def completed_as_cancelled() -> str:
    """Cancel a task in the same turn the future it waits on (through asyncio.wait_for) completes;
    returns how the task ended."""
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def waiter() -> int:
        return await asyncio.wait_for(done, 10)

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    done.set_result(1)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return "cancelled"
    return "returned"


def test_a_cancellation_that_meets_the_result_is_not_lost() -> None:
    assert asyncio.wait_for is wait_for
    assert asyncio.run(completed_as_cancelled()) == "cancelled"


def test_the_result_and_the_timeout_are_as_before() -> None:
    async def scenario() -> None:
        assert await asyncio.wait_for(asyncio.sleep(0, "x"), 1) == "x"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(5), 0.01)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(5), 0)
        slow = asyncio.ensure_future(asyncio.sleep(5))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(slow, 0.01)
        assert slow.cancelled()  # a task timed out is cancelled, as the stdlib's

    asyncio.run(scenario())
