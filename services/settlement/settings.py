"""Settlement configuration from the environment."""

from exchange_core.partitions import PartitionSettings
from exchange_core.telemetry import ProbeSettings


class SettlementSettings(ProbeSettings, PartitionSettings):
    """WORKERS / WORKER_INDEX / CLAIM_AFTER_MS share the markets between workers (PartitionSettings)."""

    group: str = "settlement"
    batch_size: int = 500
    block_ms: int = 1_000
    # A reservation still unconfirmed this long after it was made is checked for orphanhood.
    orphan_after_ms: int = 60_000
    # Gateways never append a command later than this after reserving (see gateway.orders).
    submit_guard_ms: int = 10_000
    sweep_every_ms: int = 5_000
