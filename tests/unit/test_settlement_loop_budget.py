"""settlement.service._LoopBudget: a batch's computing gives the event loop back only once it
has held it for its budget, so other tasks (the lease keepers) run during long batches and not
in the middle of short ones."""

import asyncio

from settlement.service import _LoopBudget


async def _others_ran(budget: _LoopBudget, spends: int) -> int:
    ran = 0

    async def other() -> None:
        nonlocal ran
        while True:
            ran += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other())
    try:
        for _ in range(spends):
            await budget.spend()
    finally:
        task.cancel()
    return ran


async def test_a_spent_budget_gives_the_loop_back_at_every_look() -> None:
    assert await _others_ran(_LoopBudget(0.0), 5) == 5


async def test_an_unspent_budget_keeps_the_loop() -> None:
    assert await _others_ran(_LoopBudget(60.0), 5) == 0
