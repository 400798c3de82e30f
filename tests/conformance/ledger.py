"""The outcome of every call a conformance test makes through a client library, held against the
suite's list of what is out of scope: a call passes when it returns without raising and its
checks hold. Each library's `verdict` fails when a call not listed fails (a regression or a gap
the exchange must fill), when a listed call passes (the list must shrink), or when a method the
library offers is neither called nor listed (a new version's method must be looked at)."""

import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest


def holds(value: Any) -> Any:
    """`value`, which must be truthy (a non-empty answer, a condition met): the check of a
    one-line call."""
    assert value, value
    return value


@dataclass
class Ledger:
    library: str
    # Method -> why it does not pass here (a Binance feature this Spot venue does not have).
    out_of_scope: Mapping[str, str]
    results: dict[str, str | None] = field(default_factory=dict)

    def check(self, name: str, call: Callable[[], Any]) -> Any:
        """Run one call; its result, or None when it raised (the error is recorded)."""
        try:
            result = call()
        except Exception as exc:  # every failure is a recorded outcome
            self.results[name] = f"{type(exc).__name__}: {exc}"[:300] or traceback.format_exc(limit=1)
            return None
        self.results[name] = None
        return result

    async def acheck(self, name: str, call: Callable[[], Any]) -> Any:
        """As check, for a call that returns an awaitable."""
        try:
            result = await call()
        except Exception as exc:  # every failure is a recorded outcome
            self.results[name] = f"{type(exc).__name__}: {exc}"[:300]
            return None
        self.results[name] = None
        return result

    def verdict(self, offered: Iterable[str]) -> None:
        """Print the counts; fail on any call whose outcome disagrees with the list."""
        offered = set(offered)
        called = set(self.results)
        failed = {name: error for name, error in self.results.items() if error is not None}
        passed = called - set(failed)
        unexplained = {name: error for name, error in failed.items() if name not in self.out_of_scope}
        listed_but_pass = sorted(passed & set(self.out_of_scope))
        untouched = sorted(offered - called - set(self.out_of_scope))
        total = len(offered | called)
        print(
            f"\n[conformance] {self.library}: {len(passed)} passed, "
            f"{len(set(self.out_of_scope) & (offered | called))} listed as out of scope, {total} in total"
        )
        for name, error in sorted(failed.items()):
            mark = "listed" if name in self.out_of_scope else "FAILED"
            print(f"  {mark} {name}: {error}")
        problems = []
        if unexplained:
            problems.append("calls that failed and are not listed: " + repr(unexplained))
        if listed_but_pass:
            problems.append(f"listed as out of scope but pass (remove them from the list): {listed_but_pass}")
        if untouched:
            problems.append(f"offered by {self.library} but neither called nor listed: {untouched}")
        if problems:
            pytest.fail("\n".join(problems))
