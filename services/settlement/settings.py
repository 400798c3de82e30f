"""Settlement configuration from the environment."""

import re
import socket

from exchange_core.lease import LeaseSettings
from exchange_core.telemetry import ProbeSettings


class SettlementSettings(ProbeSettings, LeaseSettings):
    group: str = "settlement"
    batch_size: int = 500
    block_ms: int = 1_000
    # A reservation still unconfirmed this long after it was made is checked for orphanhood.
    orphan_after_ms: int = 60_000
    # Gateways never append a command later than this after reserving (see gateway.orders).
    submit_guard_ms: int = 10_000
    sweep_every_ms: int = 5_000
    # Settlement workers share the markets: worker `worker_index` of `workers` takes the leases of
    # the markets at positions index, index + workers, ... of markets.toml. -1: the ordinal at the
    # end of the host name (a StatefulSet pod "settlement-2" is worker 2), else 0.
    workers: int = 1
    worker_index: int = -1
    # Any worker claims a market whose lease nobody has held for this long (its own worker is
    # down or missing); 0: only its own markets.
    claim_after_ms: int = 10_000

    def index(self) -> int:
        """This worker's index among `workers`."""
        if self.worker_index >= 0:
            return self.worker_index % max(1, self.workers)
        ordinal = re.search(r"-(\d+)$", socket.gethostname())
        return int(ordinal.group(1)) % max(1, self.workers) if ordinal else 0
