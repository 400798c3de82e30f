"""What an operator asks of the market simulation, before it is scheduled: the admin API's request
bodies and the steps of a scenario file, each turned into a scheduled action
(exchange_core.simcontrol) by `to_action(start_ms)`.

A scenario file is JSON (docs/marketsim.md, examples/scenario-flash-crash.json):

    {"name": "...", "steps": [{"at_seconds": 0, "market": "BTCUSDT", "action": "regime",
                               "regime": "volatile", "duration_seconds": 30}, ...]}

Every step happens `at_seconds` after the scenario starts (its upload, or the simulation's start
for SIM_SCENARIO). Unknown fields are refused, so that a misspelt parameter is an error rather
than a default.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exchange_core.marketstatus import TradingStatus
from exchange_core.simcontrol import (
    MAX_SECONDS,
    REGIMES,
    DroughtAction,
    FlashCrashAction,
    HaltAction,
    RegimeAction,
    ResumeAction,
    SimAction,
)

MAX_STEPS = 1000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def ms(seconds: float) -> int:
    return round(seconds * 1000)


class RegimeRequest(Strict):
    """A named regime (calm, normal, volatile) or a volatility in bps per second; for
    `duration_seconds`, or until reset (none given)."""

    regime: Literal["calm", "normal", "volatile"] | None = None
    volatility_bps: float | None = Field(default=None, gt=0, le=100)
    duration_seconds: float | None = Field(default=None, gt=0, le=MAX_SECONDS)

    @model_validator(mode="after")
    def one_volatility(self) -> "RegimeRequest":
        if (self.regime is None) == (self.volatility_bps is None):
            raise ValueError("give either regime or volatility_bps")
        return self

    def to_action(self, start_ms: int) -> SimAction:
        volatility = self.volatility_bps if self.regime is None else REGIMES[self.regime]
        assert volatility is not None
        end = None if self.duration_seconds is None else start_ms + ms(self.duration_seconds)
        return RegimeAction(start_ms=start_ms, end_ms=end, volatility_bps=volatility)


class FlashCrashRequest(Strict):
    """`percent` down (or up) over `fall_seconds`, back over `recover_seconds`."""

    percent: float = Field(gt=0, lt=90)
    fall_seconds: float = Field(gt=0, le=MAX_SECONDS)
    recover_seconds: float = Field(gt=0, le=MAX_SECONDS)
    direction: Literal["down", "up"] = "down"

    def to_action(self, start_ms: int) -> SimAction:
        return FlashCrashAction(start_ms=start_ms, **self.model_dump())


class DroughtRequest(Strict):
    """Makers and the deep book keep `depth_fraction` of their levels and sizes, spreads
    `spread_multiple` times wider, for `duration_seconds`."""

    depth_fraction: float = Field(gt=0, le=1)
    spread_multiple: float = Field(default=2.0, ge=1, le=100)
    duration_seconds: float = Field(gt=0, le=MAX_SECONDS)

    def to_action(self, start_ms: int) -> SimAction:
        return DroughtAction(
            start_ms=start_ms,
            end_ms=start_ms + ms(self.duration_seconds),
            depth_fraction=self.depth_fraction,
            spread_multiple=self.spread_multiple,
        )


class HaltStep(Strict):
    status: Literal[TradingStatus.HALT, TradingStatus.BREAK] = TradingStatus.HALT
    reason: str = Field(default="", max_length=200)

    def to_action(self, start_ms: int) -> SimAction:
        return HaltAction(start_ms=start_ms, status=self.status, reason=self.reason)


class ResumeStep(Strict):
    def to_action(self, start_ms: int) -> SimAction:
        return ResumeAction(start_ms=start_ms)


class StepBase(Strict):
    at_seconds: float = Field(ge=0, le=MAX_SECONDS)
    market: str = Field(min_length=1, max_length=20)


class RegimeStep(StepBase, RegimeRequest):
    action: Literal["regime"]


class FlashCrashStep(StepBase, FlashCrashRequest):
    action: Literal["flash_crash"]


class DroughtStep(StepBase, DroughtRequest):
    action: Literal["drought"]


class HaltScriptStep(StepBase, HaltStep):
    action: Literal["halt"]


class ResumeScriptStep(StepBase, ResumeStep):
    action: Literal["resume"]


Step = Annotated[
    RegimeStep | FlashCrashStep | DroughtStep | HaltScriptStep | ResumeScriptStep,
    Field(discriminator="action"),
]


class Scenario(Strict):
    name: str = Field(default="", max_length=200)
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)

    def markets(self) -> list[str]:
        return sorted({step.market.upper() for step in self.steps})

    def schedule(self, started_ms: int) -> dict[str, list[SimAction]]:
        """Each market's actions for a scenario started at `started_ms`."""
        out: dict[str, list[SimAction]] = {}
        for step in self.steps:
            action = step.to_action(started_ms + ms(step.at_seconds))
            out.setdefault(step.market.upper(), []).append(action)
        return out
