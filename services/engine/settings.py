"""Engine process configuration from the environment."""

from exchange_core.lease import LeaseSettings
from exchange_core.linger import LingerSettings
from exchange_core.telemetry import ProbeSettings


class EngineSettings(ProbeSettings, LeaseSettings, LingerSettings):
    symbol: str
    group: str = "engine"
    batch_size: int = 1_000
    block_ms: int = 1_000
    # A snapshot after this many commands or this much time, whichever comes first.
    snapshot_every_commands: int = 20_000
    snapshot_every_ms: int = 30_000
    # Write snapshots from a forked child so the loop never waits for the encoding (else inline).
    snapshot_fork: bool = True
    # Levels per side kept in depth:{SYMBOL} for REST depth.
    depth_levels: int = 1_000
    # Trim the journal before the previous snapshot (off in tests that replay it whole).
    trim_journal: bool = True
    # While another engine holds the market's lease, keep the book up to date with what the
    # holder has written (a hot standby: takeover replays only the last moments), or wait idle.
    hot_standby: bool = True
