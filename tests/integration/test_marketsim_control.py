"""The simulation's side of scenarios against a real Redis (no exchange: the agents are built but
never run): a scenario file started by the follower lands in `sim:{SYM}`, a due halt sets the
market's status and is deleted, resume likewise, a drought reconfigures the resting agents and
is undone at its end, the overlay gets the actions in force, ended actions are cleared, and each
step is counted; a stale price source widens the spreads (over a drought too) until it trades
again, and the metric says so."""

import random
from decimal import Decimal

from redis.asyncio import Redis

from botkit.client import ExchangeClient
from botkit.inventory import Inventory
from botkit.quoter import MarketQuoter, QuoterConfig
from botkit.rules import MarketRules
from botkit.stats import Stats
from exchange_core.keys import Keys
from exchange_core.marketstatus import TradingStatus, read_status
from exchange_core.simcontrol import FlashCrashAction, read_actions
from exchange_core.simscript import Scenario
from marketsim.control import KEEP_ENDED_MS, MarketControls, ScenarioCounts, ScenarioFollower
from marketsim.overlay import ScenarioOverlay
from marketsim.price import RegimeJumpModel, SharedFairPrice

SYMBOL = "BTCUSDT"
T0 = 1_800_000_000_000
RULES = MarketRules(
    SYMBOL, "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"),
    Decimal("9000"), Decimal("1000000"), Decimal("5"),
)  # fmt: skip
CONFIG = QuoterConfig(10, 8.0, 2.0, 15, 25, 30, 30.0, 0.0, 1, 4)
SCENARIO = Scenario.model_validate(
    {
        "name": "it",
        "steps": [
            {"at_seconds": 0, "market": SYMBOL, "action": "regime", "regime": "volatile"},
            {"at_seconds": 1, "market": SYMBOL, "action": "halt", "status": "BREAK", "reason": "test"},
            {"at_seconds": 2, "market": SYMBOL, "action": "resume"},
            {"at_seconds": 3, "market": SYMBOL, "action": "drought", "depth_fraction": 0.3,
             "spread_multiple": 2, "duration_seconds": 5},
            {"at_seconds": 4, "market": SYMBOL, "action": "flash_crash", "percent": 5,
             "fall_seconds": 1, "recover_seconds": 1},
        ],
    }
)  # fmt: skip


async def test_the_follower_applies_a_scenario_step_by_step(redis: Redis, keys: Keys) -> None:
    counts = ScenarioCounts()
    follower = ScenarioFollower(redis, keys, counts)
    overlay = ScenarioOverlay(RegimeJumpModel(6_500_000.0, 1), T0, 1)
    client = ExchangeClient("http://127.0.0.1:9", "key", "secret", 1.0)
    quoter = MarketQuoter(
        client, RULES, SharedFairPrice(overlay), CONFIG, Inventory(10, 20), Stats(), random.Random(1)
    )
    follower.add(MarketControls(SYMBOL, overlay, [(quoter, CONFIG)]))
    try:
        await follower.start_scenario(SCENARIO, T0)
        assert len(await read_actions(redis, keys, SYMBOL)) == 5

        await follower.check(T0 + 500)
        assert [a.kind for a in overlay.actions] == ["regime", "halt", "resume", "drought", "flash_crash"]
        assert (await read_status(redis, keys, SYMBOL)).trading

        await follower.check(T0 + 1_000)
        status = await read_status(redis, keys, SYMBOL)
        assert (status.status, status.reason) == (TradingStatus.BREAK, "test")
        assert "halt" not in {a.kind for a in (await read_actions(redis, keys, SYMBOL)).values()}

        await follower.check(T0 + 3_000)
        assert (await read_status(redis, keys, SYMBOL)).trading
        assert (quoter.config.shape_levels, quoter.config.size_multiplier, quoter.config.spread_bps) == (
            3,
            4,
            16.0,
        )

        await follower.check(T0 + 8_000)
        assert quoter.config == CONFIG
        crash = next(a for a in overlay.actions if isinstance(a, FlashCrashAction))
        assert crash.factor_at(T0 + 5_000) < 0.96

        await follower.check(T0 + 8_000 + KEEP_ENDED_MS)
        assert [a.kind for a in (await read_actions(redis, keys, SYMBOL)).values()] == ["regime"]
    finally:
        await client.aclose()
    assert counts.counts == {
        ("regime", "seen"): 1,
        ("halt", "seen"): 1,
        ("resume", "seen"): 1,
        ("drought", "seen"): 1,
        ("flash_crash", "seen"): 1,
        ("halt", "applied"): 1,
        ("resume", "applied"): 1,
        ("drought", "applied"): 1,
        ("drought", "ended"): 1,
        ("flash_crash", "ended"): 1,
    }


class Staleness:
    """A price source's staleness, set by the test."""

    def __init__(self) -> None:
        self.stale = False

    def __call__(self) -> bool:
        return self.stale


def stale_gauge(counts: ScenarioCounts) -> dict[str, float]:
    (family,) = [f for f in counts.collect() if f.name == "exchange_marketsim_source_stale"]
    return {s.labels["symbol"]: s.value for s in family.samples}


async def test_a_stale_source_widens_the_spreads_until_it_trades_again(redis: Redis, keys: Keys) -> None:
    counts = ScenarioCounts()
    follower = ScenarioFollower(redis, keys, counts)
    overlay = ScenarioOverlay(RegimeJumpModel(6_500_000.0, 1), T0, 1)
    client = ExchangeClient("http://127.0.0.1:9", "key", "secret", 1.0)
    quoter = MarketQuoter(
        client, RULES, SharedFairPrice(overlay), CONFIG, Inventory(10, 20), Stats(), random.Random(1)
    )
    source = Staleness()
    follower.add(MarketControls(SYMBOL, overlay, [(quoter, CONFIG)], source, 3.0))
    drought = Scenario.model_validate(
        {"steps": [{"at_seconds": 2, "market": SYMBOL, "action": "drought", "depth_fraction": 0.3,
                    "spread_multiple": 2, "duration_seconds": 2}]}
    )  # fmt: skip
    try:
        await follower.start_scenario(drought, T0)
        await follower.check(T0)
        assert quoter.config == CONFIG
        assert stale_gauge(counts) == {SYMBOL: 0.0}

        source.stale = True
        await follower.check(T0 + 1_000)
        assert quoter.config.spread_bps == 24.0  # 3x
        assert quoter.config.shape_levels == CONFIG.shape_levels
        assert stale_gauge(counts) == {SYMBOL: 1.0}

        await follower.check(T0 + 2_000)  # and a drought: both
        assert (quoter.config.shape_levels, quoter.config.spread_bps) == (3, 48.0)

        source.stale = False
        await follower.check(T0 + 3_000)
        assert (quoter.config.shape_levels, quoter.config.spread_bps) == (3, 16.0)
        assert stale_gauge(counts) == {SYMBOL: 0.0}

        await follower.check(T0 + 4_000)
        assert quoter.config == CONFIG
    finally:
        await client.aclose()
