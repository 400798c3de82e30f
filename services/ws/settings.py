"""WebSocket tier configuration from the environment (HOST, PORT, MAX_PENDING_BYTES, ...)."""

from pydantic import AliasChoices, Field

from exchange_core.config import CommonSettings


class WsSettings(CommonSettings):
    host: str = "127.0.0.1"
    # WS_PORT wins over PORT: where services share one environment, PORT is the gateway's.
    port: int = Field(default=8001, validation_alias=AliasChoices("ws_port", "port"))
    # Binance: at most 1024 streams on one connection.
    max_streams_per_connection: int = 1024
    max_connections: int = 20_000
    # The largest frame a client may send (requests are small); larger ones close the connection.
    max_message_bytes: int = 64 * 1024
    # A client whose unsent data passes this is disconnected (a slow consumer).
    max_pending_bytes: int = 1 << 20
    # Binance: a ping every 20 s, disconnected without a pong within a minute.
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 60.0
    # A connection with no subscription that sends nothing for this long is closed.
    idle_timeout_s: float = 300.0
    # Binance: a connection is valid for 24 hours.
    max_connection_age_s: float = 86_400.0
    # Incoming messages per connection: a token bucket of this rate and burst; beyond it, closed.
    requests_per_s: float = 5.0
    requests_burst: int = 20
    # How often listen keys are checked for expiry.
    listen_key_check_s: float = 5.0
    # A market's feed stays subscribed this long after its last client left.
    feed_linger_s: float = 30.0
    # Levels per side the engine keeps in depth:{SYMBOL} (a side this long may be truncated).
    depth_levels: int = 1_000
    # Candles and 24h statistics are seeded from at most this many evt:{SYMBOL} entries.
    seed_max_entries: int = 20_000
    # Counters are logged this often (0: never).
    stats_log_s: float = 60.0
