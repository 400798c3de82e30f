"""A liquidity drought's effect on a resting agent's ladder: what its quoter config becomes."""

import dataclasses

from botkit.quoter import QuoterConfig
from exchange_core.simcontrol import DroughtAction, SimAction


def drought_at(actions: list[SimAction], ms: float) -> DroughtAction | None:
    """The latest-starting drought in force at `ms`, None for none."""
    droughts = [a for a in actions if isinstance(a, DroughtAction) and a.active_at(ms)]
    return max(droughts, key=lambda a: a.start_ms) if droughts else None


def in_drought(config: QuoterConfig, drought: DroughtAction | None) -> QuoterConfig:
    """`config` during `drought`: `depth_fraction` of its levels (at least one) and of its level
    size (at least one minNotional), its spread `spread_multiple` times wider; None: unchanged."""
    if drought is None:
        return config
    fraction = drought.depth_fraction
    return dataclasses.replace(
        config,
        shape_levels=max(1, round(config.shape_levels * fraction)),
        size_multiplier=max(1, round(config.size_multiplier * fraction)),
        spread_bps=config.spread_bps * drought.spread_multiple,
    )
