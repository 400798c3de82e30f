"""Scenarios of the market simulation, shared by the admin API (which writes them) and the
simulation (which applies them) through Redis.

`sim:{SYM}` is a hash: one field per scheduled action (`<start ms>-<id>`), its value the action as
JSON. An action has a start (ms since the epoch) and, except halt and resume, an end:

- `regime`: the fair price's volatility is `volatility_bps` (bps per second) from `start_ms` to
  `end_ms` (None: until reset); the latest-starting regime in force wins;
- `flash_crash`: the fair price moves `percent` down (or up) over `fall_seconds`, linearly in
  price, then back over `recover_seconds`; crashes in force add up;
- `drought`: the makers and the deep book quote `depth_fraction` of their levels and sizes, their
  spreads `spread_multiple` times wider; the latest-starting drought in force wins;
- `halt` / `resume`: the market's trading status (exchange_core.marketstatus) is set at
  `start_ms` by the simulation, which then deletes the field (applied once).

A change writes the hash and then publishes the symbol on `sim-changed`; the simulation re-reads
the hash on the message and every second (the hash is the truth, the message only a wake-up), so
a restarted simulation applies what is in force. Everything about one market is in its slot.
"""

import secrets
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter
from redis.asyncio import Redis

from exchange_core import store
from exchange_core.keys import Keys
from exchange_core.marketstatus import TradingStatus

# Named regimes (bps per second of the log price), as the model's own (marketsim.price).
REGIMES = {"calm": 0.7, "normal": 1.5, "volatile": 4.0}
MAX_SECONDS = 86_400.0


class RegimeAction(BaseModel):
    kind: Literal["regime"] = "regime"
    start_ms: int
    end_ms: int | None = None
    volatility_bps: float = Field(gt=0, le=100)

    def active_at(self, ms: float) -> bool:
        return self.start_ms <= ms and (self.end_ms is None or ms < self.end_ms)


class FlashCrashAction(BaseModel):
    kind: Literal["flash_crash"] = "flash_crash"
    start_ms: int
    percent: float = Field(gt=0, lt=90)
    fall_seconds: float = Field(gt=0, le=MAX_SECONDS)
    recover_seconds: float = Field(ge=0, le=MAX_SECONDS)
    direction: Literal["down", "up"] = "down"

    @property
    def end_ms(self) -> int:
        return self.start_ms + round((self.fall_seconds + self.recover_seconds) * 1000)

    def factor_at(self, ms: float) -> float:
        """The fair price's multiplier at `ms`: 1 outside, 1 -+ percent/100 at the bottom."""
        elapsed = (ms - self.start_ms) / 1000
        if elapsed <= 0 or ms >= self.end_ms:
            return 1.0
        if elapsed < self.fall_seconds:
            depth = elapsed / self.fall_seconds
        else:
            depth = 1.0 - (elapsed - self.fall_seconds) / self.recover_seconds
        move = self.percent / 100 * depth
        return 1.0 - move if self.direction == "down" else 1.0 + move


class DroughtAction(BaseModel):
    kind: Literal["drought"] = "drought"
    start_ms: int
    end_ms: int
    depth_fraction: float = Field(gt=0, le=1)
    spread_multiple: float = Field(default=1.0, ge=1, le=100)

    def active_at(self, ms: float) -> bool:
        return self.start_ms <= ms < self.end_ms


class HaltAction(BaseModel):
    kind: Literal["halt"] = "halt"
    start_ms: int
    status: Literal[TradingStatus.HALT, TradingStatus.BREAK] = TradingStatus.HALT
    reason: str = Field(default="", max_length=200)


class ResumeAction(BaseModel):
    kind: Literal["resume"] = "resume"
    start_ms: int


SimAction = Annotated[
    RegimeAction | FlashCrashAction | DroughtAction | HaltAction | ResumeAction, Field(discriminator="kind")
]
ACTION = TypeAdapter(SimAction)


def end_of(action: SimAction) -> float | None:
    """When an action stops mattering (ms); None for a regime until reset; halt and resume end
    when applied (their start)."""
    if isinstance(action, HaltAction | ResumeAction):
        return float(action.start_ms)
    return None if action.end_ms is None else float(action.end_ms)


def field_of(action: SimAction) -> str:
    """A new hash field for `action`: its start first, so fields sort by start."""
    return f"{action.start_ms:013d}-{secrets.token_hex(4)}"


async def add_actions(redis: Redis, keys: Keys, symbol: str, actions: list[SimAction]) -> list[str]:
    """Schedule `actions` for `symbol` and tell the simulation; their hash fields."""
    fields = {field_of(a): ACTION.dump_json(a) for a in actions}
    if fields:
        await redis.hset(keys.sim_control(symbol), mapping=fields)  # type: ignore[arg-type]
        await store.publish(redis, keys.sim_control_channel(), symbol)
    return list(fields)


async def read_actions(redis: Redis, keys: Keys, symbol: str) -> dict[str, SimAction]:
    """Every scheduled action of `symbol` by hash field, in order of start."""
    raw = await redis.hgetall(keys.sim_control(symbol))
    fields = {(f.decode() if isinstance(f, bytes) else f): v for f, v in raw.items()}
    return {f: ACTION.validate_json(fields[f]) for f in sorted(fields)}


async def remove_actions(redis: Redis, keys: Keys, symbol: str, fields: list[str]) -> None:
    """Forget the actions `fields` (applied or over); nothing to publish (they changed nothing)."""
    if fields:
        await redis.hdel(keys.sim_control(symbol), *fields)


async def reset_actions(redis: Redis, keys: Keys, symbol: str) -> int:
    """Drop every scheduled action of `symbol` (the market back to its model); how many."""
    count = await redis.hlen(keys.sim_control(symbol))
    await redis.delete(keys.sim_control(symbol))
    await store.publish(redis, keys.sim_control_channel(), symbol)
    return count
