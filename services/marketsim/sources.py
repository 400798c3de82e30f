"""A market's PriceSource from its PriceConfig: the seeded model, a replay of recorded files or a
mirrored live stream (marketsim.price, marketsim.replay, marketsim.mirror)."""

import asyncio
import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from botkit.rules import MarketRules
from marketsim.binance_files import replay_files
from marketsim.mirror import MirrorSource
from marketsim.price import PriceSource, RegimeJumpModel
from marketsim.replay import ReplaySource, file_anchors
from marketsim.settings import PriceConfig

log = logging.getLogger("marketsim")

# How long a mirrored market waits for its first trade before it is left out.
MIRROR_FIRST_PRICE_S = 30.0


async def open_price_source(
    config: PriceConfig,
    rules: MarketRules,
    start: Decimal | None,
    seed: str,
    feeds: list["asyncio.Task[None]"],
    max_backoff_s: float,
) -> PriceSource | None:
    """The market's fair price path, or None when it has none to start from (the model without a
    start price, a mirror without a first trade within MIRROR_FIRST_PRICE_S). A mirror's
    connection task (reconnecting with backoff up to `max_backoff_s`) is appended to `feeds`
    (the caller cancels it). Raises ValueError (ReplayFileError) for replay files that cannot be
    read."""
    if config.source == "replay":
        files = replay_files(Path(config.replay_path), rules.symbol, config.replay_kind)
        points, steps = file_anchors(files, rules.tick, seed)
        replay = ReplaySource(points, config.replay_speed, config.replay_loop, steps)
        began = datetime.fromtimestamp(replay.first_time, UTC).isoformat()
        log.info(
            "%s: replaying %d file(s) from %s at %gx", rules.symbol, len(files), began, config.replay_speed
        )
        return replay
    if config.source == "mirror":
        url = config.mirror_url.replace("{symbol}", rules.symbol.lower())
        mirror = MirrorSource(url, rules.symbol, rules.tick, config.mirror_stale_seconds, max_backoff_s)
        feed = asyncio.create_task(mirror.run())
        if await mirror.first_price(MIRROR_FIRST_PRICE_S) is None:
            feed.cancel()
            log.warning("%s: no trade from %s in %.0f s", rules.symbol, url, MIRROR_FIRST_PRICE_S)
            return None
        feeds.append(feed)
        return mirror
    if start is None:
        return None
    return RegimeJumpModel(rules.ticks_of(start), seed)
