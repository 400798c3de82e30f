"""DB processor configuration from the environment."""

from exchange_core.partitions import PartitionSettings
from exchange_core.telemetry import ProbeSettings


class DbWriterSettings(ProbeSettings, PartitionSettings):
    """WORKERS / WORKER_INDEX / CLAIM_AFTER_MS share the markets between writers
    (PartitionSettings): one writer per market, whose events arrive in order."""

    group: str = "dbwriter"
    # Stream entries (engine batches) read per market per round; one transaction per round.
    batch_size: int = 500
    block_ms: int = 1_000
    # COPY into the staging tables; off for servers without COPY FROM STDIN (PGlite).
    use_copy: bool = True
    # Retries of a write that failed for a transient reason (database down, connection lost):
    # waits grow from retry_initial_ms, doubling, up to retry_max_ms; never gives up.
    retry_initial_ms: int = 100
    retry_max_ms: int = 5_000
    # A statement running longer than this counts as a lost connection (and is retried).
    command_timeout_s: float = 60.0
