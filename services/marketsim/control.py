"""The running simulation's side of scenarios: follow each market's scheduled actions in Redis
(`sim:{SYM}`, exchange_core.simcontrol) and apply them.

Every CHECK_S, and at once when a market's symbol is published on `sim-changed`, each market's
actions are read and applied: regimes and flash crashes go to the market's ScenarioOverlay (the
fair price every agent reads), a drought reconfigures its makers and deep book, and a halt or
resume whose time has come sets the market's trading status (exchange_core.marketstatus) and is
deleted. Actions that are over are deleted too. Each action is logged when first seen and when
applied or over, and counted (`exchange_marketsim_scenario_actions_total{kind, event}`).

A market whose price source has gone stale (a mirrored stream without a trade for longer than
its threshold) has its makers' spreads widened by the source's multiple, on top of any drought,
until trades return; `exchange_marketsim_source_stale{symbol}` is 1 meanwhile, and both edges are
logged.

A started simulation picks up whatever is in force; SIM_SCENARIO names a scenario file to start
with: the markets it names are reset and its steps timed from the simulation's start.
"""

import asyncio
import contextlib
import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from botkit.quoter import MarketQuoter, QuoterConfig
from exchange_core.clock import now_ms
from exchange_core.keys import Keys
from exchange_core.marketstatus import TRADING, MarketStatus, write_status
from exchange_core.pipelined import PipelinedRedis, listen
from exchange_core.runtime import pause
from exchange_core.simcontrol import (
    ACTION,
    DroughtAction,
    HaltAction,
    ResumeAction,
    SimAction,
    add_actions,
    end_of,
    read_actions,
    remove_actions,
    reset_actions,
)
from exchange_core.simscript import Scenario
from marketsim.drought import drought_at, in_drought
from marketsim.overlay import ScenarioOverlay

log = logging.getLogger("marketsim.scenario")


def load_scenario(path: str) -> Scenario:
    """The scenario file at `path`. Raises ValueError when it cannot be read or is not one."""
    try:
        return Scenario.model_validate_json(Path(path).read_bytes())
    except OSError as exc:
        raise ValueError(f"SIM_SCENARIO: cannot read {path}: {exc}") from None
    except ValidationError as exc:
        raise ValueError(f"SIM_SCENARIO: {path} is not a scenario: {exc}") from None


CHECK_S = 1.0
# An action over this long ago is deleted (kept a little, so GET .../scenario shows what just ended).
KEEP_ENDED_MS = 60_000


class ScenarioCounts(Collector):
    """Scenario actions by kind and event (seen, applied, ended), and which markets' price
    sources are stale (their spreads widened)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.stale: dict[str, bool] = {}

    def count(self, kind: str, event: str) -> None:
        self.counts[(kind, event)] += 1

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            "exchange_marketsim_scenario_actions",
            "Scenario actions of the simulation, by kind and event (seen, applied, ended).",
            labels=["kind", "event"],
        )
        for (kind, event), n in sorted(self.counts.items()):
            family.add_metric([kind, event], n)
        yield family
        stale = GaugeMetricFamily(
            "exchange_marketsim_source_stale",
            "1 while a market's price source is stale and its makers' spreads are widened, else 0.",
            labels=["symbol"],
        )
        for symbol, is_stale in sorted(self.stale.items()):
            stale.add_metric([symbol], 1.0 if is_stale else 0.0)
        yield stale


@dataclass
class MarketControls:
    """What scenarios act on in one market: its fair price overlay and its resting agents (each
    with the config it has outside a drought), and, for a source that can go stale, how to tell
    and how many times wider the spreads are meanwhile."""

    symbol: str
    overlay: ScenarioOverlay
    quoters: list[tuple[MarketQuoter, QuoterConfig]] = field(default_factory=list)
    source_stale: Callable[[], bool] | None = None
    stale_spread_multiple: float = 1.0
    drought: DroughtAction | None = None
    stale: bool = False
    seen: set[str] = field(default_factory=set)
    ended: set[str] = field(default_factory=set)


def describe(action: SimAction) -> str:
    return " ".join(f"{k}={v}" for k, v in ACTION.dump_python(action, mode="json").items() if k != "kind")


class ScenarioFollower:
    def __init__(self, redis: Redis, keys: Keys, counts: ScenarioCounts) -> None:
        self.redis = redis
        self.keys = keys
        self.counts = counts
        self.markets: dict[str, MarketControls] = {}
        self.wake = asyncio.Event()

    def add(self, controls: MarketControls) -> None:
        self.markets[controls.symbol] = controls

    async def start_scenario(self, scenario: Scenario, started_ms: int) -> None:
        """Reset the markets `scenario` names and schedule its steps from `started_ms`."""
        for symbol, actions in scenario.schedule(started_ms).items():
            await reset_actions(self.redis, self.keys, symbol)
            await add_actions(self.redis, self.keys, symbol, actions)
        log.info("scenario %r started: %d steps", scenario.name, len(scenario.steps))

    async def run(self, stop: asyncio.Event) -> None:
        """Follow and apply the actions until `stop` is set."""
        subscribed = asyncio.Event()
        listener = asyncio.create_task(self._listen(subscribed))
        try:
            while not stop.is_set():
                self.wake.clear()
                try:
                    await self.check(now_ms())
                except (RedisError, OSError) as exc:
                    log.warning("cannot read the scenario actions (%r); retrying", exc)
                except ValidationError as exc:
                    log.error("a scheduled action is not one (%s); retrying", exc)
                await pause(self.wake, CHECK_S)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _listen(self, subscribed: asyncio.Event) -> None:
        server = PipelinedRedis.like(self.redis)
        channel = self.keys.sim_control_channel()
        await listen(server, channel, lambda _: self.wake.set(), subscribed, name="marketsim-scenario")

    async def check(self, now: int) -> None:
        """Apply every market's actions as of `now` (ms)."""
        for controls in self.markets.values():
            actions = await read_actions(self.redis, self.keys, controls.symbol)
            await self._apply(controls, actions, now)

    async def _apply(self, controls: MarketControls, actions: dict[str, SimAction], now: int) -> None:
        symbol = controls.symbol
        for name, action in actions.items():
            if name not in controls.seen:
                controls.seen.add(name)
                self.counts.count(action.kind, "seen")
                log.info("%s: scenario action %s %s (%s)", symbol, action.kind, name, describe(action))
        controls.overlay.actions = list(actions.values())
        stale = controls.source_stale is not None and controls.source_stale()
        self._apply_ladders(controls, drought_at(controls.overlay.actions, now), stale)
        done: list[str] = []
        for name, action in actions.items():
            end = end_of(action)
            if isinstance(action, HaltAction | ResumeAction) and action.start_ms <= now:
                status = (
                    TRADING
                    if isinstance(action, ResumeAction)
                    else MarketStatus(action.status, action.reason, now)
                )
                await write_status(self.redis, self.keys, symbol, status)
                self.counts.count(action.kind, "applied")
                log.info("%s: scenario %s applied: market now %s", symbol, action.kind, status.status.value)
                done.append(name)
            elif end is not None and end <= now and name not in controls.ended:
                controls.ended.add(name)
                self.counts.count(action.kind, "ended")
                log.info("%s: scenario action %s %s is over", symbol, action.kind, name)
            if end is not None and end + KEEP_ENDED_MS <= now and name not in done:
                done.append(name)
        await remove_actions(self.redis, self.keys, symbol, done)

    def _apply_ladders(self, controls: MarketControls, drought: DroughtAction | None, stale: bool) -> None:
        """Reconfigure the resting agents when the drought in force or the source's staleness
        changed."""
        if controls.source_stale is not None:
            self.counts.stale[controls.symbol] = stale
        if drought == controls.drought and stale == controls.stale:
            return
        if drought != controls.drought:
            if drought is None:
                log.info("%s: drought over: makers back to their own ladders", controls.symbol)
            else:
                self.counts.count(drought.kind, "applied")
                log.info("%s: drought applied (%s)", controls.symbol, describe(drought))
        if stale != controls.stale:
            if stale:
                log.warning(
                    "%s: price source stale: spreads %gx wider until it trades again",
                    controls.symbol,
                    controls.stale_spread_multiple,
                )
            else:
                log.info("%s: price source trading again: spreads back", controls.symbol)
        controls.drought, controls.stale = drought, stale
        widen = controls.stale_spread_multiple if stale else 1.0
        for quoter, config in controls.quoters:
            own = in_drought(config, drought)
            quoter.reconfigure(dataclasses.replace(own, spread_bps=own.spread_bps * widen))
