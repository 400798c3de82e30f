"""When to restart a process that exited: at once after a crash, but with a growing pause
(1, 2, 4 ... 30 s) while it keeps dying within a minute of being started, so that a process that
cannot start does not spin."""

import time
from dataclasses import dataclass, field

QUICK_CRASH_S = 60.0
MAX_DELAY_S = 30.0


@dataclass
class RestartPolicy:
    started: dict[str, float] = field(default_factory=dict)
    quick_crashes: dict[str, int] = field(default_factory=dict)
    due: dict[str, float] = field(default_factory=dict)

    def started_now(self, name: str, now: float | None = None) -> None:
        self.started[name] = time.monotonic() if now is None else now

    def exited(self, name: str, now: float) -> float:
        """Record that `name` exited at `now`; returns the seconds to wait before restarting it."""
        if now - self.started.get(name, now) < QUICK_CRASH_S:
            self.quick_crashes[name] = self.quick_crashes.get(name, 0) + 1
        else:
            self.quick_crashes[name] = 0
        crashes = self.quick_crashes[name]
        delay = 0.0 if crashes <= 1 else min(MAX_DELAY_S, 2.0 ** (crashes - 2))
        self.due[name] = now + delay
        return delay

    def waiting(self, name: str) -> bool:
        """Whether `name` has exited and waits for its restart."""
        return name in self.due

    def ready(self, now: float) -> list[str]:
        """The exited processes whose pause is over (no longer waiting once returned)."""
        names = [name for name, at in self.due.items() if at <= now]
        for name in names:
            del self.due[name]
        return names
