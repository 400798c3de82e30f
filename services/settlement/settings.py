"""Settlement configuration from the environment."""

from typing import Annotated

from pydantic import Field

from exchange_core.linger import LingerSettings
from exchange_core.partitions import PartitionSettings
from exchange_core.submitguard import SUBMIT_GUARD_MS
from exchange_core.telemetry import ProbeSettings


class SettlementSettings(ProbeSettings, PartitionSettings, LingerSettings):
    """WORKERS / WORKER_INDEX / CLAIM_AFTER_MS share the markets between workers (PartitionSettings)."""

    group: str = "settlement"
    batch_size: int = 500  # entries a read asks for
    # Events bytes settled as one batch (settlement.batching): a read of catch-up entries, each
    # with hundreds of commands' events, is settled in parts so Redis starts on it sooner.
    batch_bytes: int = 1_048_576
    block_ms: int = 1_000
    # A reservation still unconfirmed this long after it was made is checked for orphanhood.
    orphan_after_ms: int = 60_000
    # The orphan sweeper's submit guard (exchange_core.submitguard): at least the gateways'.
    submit_guard_ms: Annotated[int, Field(ge=SUBMIT_GUARD_MS)] = SUBMIT_GUARD_MS
    sweep_every_ms: int = 5_000
