"""What the taking agents decide, pure (no I/O, no clock): sizes from heavy-tailed draws, the
side of a momentum or mean-reversion trader from the mids it has seen, the quantity of a sweep,
and the inventory limit that bounds every agent's net position.
"""

import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

BUY = "BUY"
SELL = "SELL"
BPS = 10_000


def pareto_multiple(rng: random.Random, alpha: float, cap: float) -> float:
    """A Pareto(alpha) draw (at least 1, heavy-tailed: P(X > x) = x^-alpha), capped at `cap`."""
    return min(cap, rng.paretovariate(alpha))


@dataclass(slots=True)
class Position:
    """An agent's net position in one market, in steps of the base asset (bought minus sold since
    start), and its limit: no order may take |net| beyond `limit_steps`."""

    limit_steps: int
    net_steps: int = 0

    def allowed(self, side: str, steps: int) -> int:
        """How many of `steps` a `side` order may have without passing the limit (0..steps)."""
        room = self.limit_steps - self.net_steps if side == BUY else self.limit_steps + self.net_steps
        return max(0, min(steps, room))

    def filled(self, side: str, steps: int) -> None:
        self.net_steps += steps if side == BUY else -steps

    def reducing_side(self) -> str | None:
        """The side that brings the position back towards zero; None when flat."""
        if self.net_steps > 0:
            return SELL
        if self.net_steps < 0:
            return BUY
        return None


class MidHistory:
    """The exchange's mid prices an agent has seen, (seconds, mid), the oldest dropped past `keep_s`."""

    def __init__(self, keep_s: float) -> None:
        self.keep_s = keep_s
        self.points: deque[tuple[float, float]] = deque()

    def add(self, at: float, mid: float) -> None:
        self.points.append((at, mid))
        while self.points and self.points[0][0] < at - self.keep_s:
            self.points.popleft()

    def change_bps(self) -> float:
        """The move of the mid from the oldest point kept to the newest, in bps (0 with one point)."""
        if len(self.points) < 2:
            return 0.0
        first, last = self.points[0][1], self.points[-1][1]
        return (last - first) / first * BPS

    def deviation_bps(self) -> float:
        """How far the newest mid is from the mean of those kept, in bps (0 with one point)."""
        if len(self.points) < 2:
            return 0.0
        mean = sum(m for _, m in self.points) / len(self.points)
        return (self.points[-1][1] - mean) / mean * BPS


def momentum_side(history: MidHistory, threshold_bps: float) -> str | None:
    """Follow the trend: BUY after a rise of more than `threshold_bps`, SELL after such a fall."""
    change = history.change_bps()
    if change > threshold_bps:
        return BUY
    if change < -threshold_bps:
        return SELL
    return None


def mean_reversion_side(history: MidHistory, threshold_bps: float) -> str | None:
    """Bet on a return to the mean: SELL when the mid is more than `threshold_bps` above its recent
    mean, BUY when that far below."""
    deviation = history.deviation_bps()
    if deviation > threshold_bps:
        return SELL
    if deviation < -threshold_bps:
        return BUY
    return None


def sweep_steps(levels: Sequence[int], count: int) -> int:
    """The quantity (steps) that takes the first `count` levels of `levels` (quantities in steps,
    best first) whole."""
    return sum(levels[:count])
