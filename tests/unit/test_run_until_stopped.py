"""run_until_stopped: a run that fails because a backend is unreachable is reset and run again,
with growing waits; any other failure ends the process; a stop ends the waiting."""

import asyncio
import itertools

import pytest
import redis.exceptions

from exchange_core.runtime import run_until_stopped


async def test_unreachable_backend_resets_and_runs_again_until_it_returns() -> None:
    calls: list[float] = []
    resets = 0
    loop = asyncio.get_running_loop()

    async def run() -> None:
        calls.append(loop.time())
        if len(calls) < 4:
            raise redis.exceptions.ConnectionError("Connection refused")

    def reset() -> None:
        nonlocal resets
        resets += 1

    await run_until_stopped(run, asyncio.Event(), reset, first_delay_s=0.01, max_delay_s=0.04)
    assert len(calls) == 4 and resets == 3
    waits = [b - a for a, b in itertools.pairwise(calls)]
    assert waits[0] >= 0.01 and waits[1] >= 0.02 and waits[2] >= 0.04


async def test_other_failures_propagate_without_reset() -> None:
    async def run() -> None:
        raise ValueError("a bug")

    def reset() -> None:
        raise AssertionError("no reset for a bug")

    with pytest.raises(ValueError):
        await run_until_stopped(run, asyncio.Event(), reset)


async def test_stop_ends_the_wait_between_runs() -> None:
    stop = asyncio.Event()
    runs = 0

    async def run() -> None:
        nonlocal runs
        runs += 1
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, stop.set)
        raise redis.exceptions.TimeoutError("Timeout reading from socket")

    started = asyncio.get_running_loop().time()
    await run_until_stopped(run, stop, lambda: None, first_delay_s=30.0)
    assert runs == 1 and asyncio.get_running_loop().time() - started < 5
