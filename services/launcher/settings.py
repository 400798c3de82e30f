"""`make run` configuration from the environment."""

from pydantic import Field

from botkit.account import DEFAULT_FUNDS
from exchange_core.config import CommonSettings


class LauncherSettings(CommonSettings):
    """REDIS_URL, DATABASE_URL, KEY_PREFIX, MARKETS_FILE and LOG_LEVEL come from CommonSettings
    and are handed to every process. Everything listens on 127.0.0.1. Without REDIS_URL /
    DATABASE_URL, the stores on the LOCAL_*_PORT are used or started (launcher.datastores)."""

    # Secret key file, demo password, process ids, logs/ and the embedded stores' data live here
    # (gitignored).
    run_dir: str = ".run"
    # Where a Redis / PostgreSQL is looked for on 127.0.0.1 when REDIS_URL / DATABASE_URL are not
    # set, and where an embedded one is started when nothing listens there.
    local_redis_port: int = Field(default=6379, ge=1, le=65535)
    local_postgres_port: int = Field(default=5432, ge=1, le=65535)
    gateway_port: int = Field(default=8000, ge=1, le=65535)
    ws_port: int = Field(default=8001, ge=1, le=65535)
    # The gateway's gRPC API (docs/grpc.md); 0: off.
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    # The Fernet key that encrypts API secrets; empty: read (or create once) run_dir/secret.key.
    secret_key: str = ""
    demo_email: str = "demo@exchange.local"
    # Start the old market maker (services/marketmaker), and the funds it is kept at. Unset: only
    # when the market simulation is off (MARKETSIM=false), since its quotes around a random walk
    # of its own would hold the price against the simulation's scenarios; MARKETMAKER=true runs it
    # beside the simulation all the same, MARKETMAKER=false MARKETSIM=false trades alone.
    marketmaker: bool | None = None
    mm_funds: str = DEFAULT_FUNDS
    # Start the market simulation (MARKETSIM=false: none; docs/marketsim.md), and the funds each
    # of its agents is kept at. Its agent mix: SIM_MIX, SIM_MARKET_MIX.
    marketsim: bool = True
    sim_funds: str = DEFAULT_FUNDS
    startup_timeout_seconds: float = Field(default=60.0, gt=0)
    # Settlement workers sharing the markets: two on a small machine, so that one worker's
    # markets are claimed by the other when it stops (docs/leases.md).
    settlement_workers: int = Field(default=2, ge=1, le=64)
    # DB writers sharing the markets: one is enough here (a stopped one restarts within seconds).
    dbwriter_workers: int = Field(default=1, ge=1, le=64)
    # Engines, settlement, DB processor, market simulation and market maker serve /metrics on
    # ports from here up (in that order); 0: not at all. The gateway's and ws tier's are on their own ports.
    metrics_port_base: int = Field(default=9100, ge=0, le=65000)

    @property
    def runs_marketmaker(self) -> bool:
        """Whether the market maker starts: MARKETMAKER when given, else when the market
        simulation does not."""
        return self.marketmaker if self.marketmaker is not None else not self.marketsim
