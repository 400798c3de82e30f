"""Configuration from the environment: one settings class per service, sharing this base."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """What every service needs. Environment variables, e.g. REDIS_URL, DATABASE_URL."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    redis_url: str = "redis://127.0.0.1:6379/0"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/exchange"
    # Prepended to every Redis key and channel; tests use their own.
    key_prefix: str = ""
    markets_file: str = ""
    log_level: str = "INFO"
    # Durable acknowledgements (docs/cluster.md): the gateway answers an order, and settlement
    # answers the gateway, only once this many replicas have its writes (Redis WAIT, for at most
    # DURABLE_TIMEOUT_MS; fewer: the order is answered -1007, its outcome unknown). 0: off.
    durable_replicas: int = 0
    durable_timeout_ms: int = 1_000
