"""Gateway configuration from the environment."""

import uuid

from pydantic import Field

from exchange_core.telemetry import ProbeSettings
from gateway.ratelimit import Limits


class GatewaySettings(ProbeSettings):
    # METRICS_PORT (ProbeSettings): 0 (the default) serves /metrics on the main port; set, /metrics
    # (with /healthz and /readyz) is served there and the main port answers 404 for it, so that a
    # public Ingress in front of the main port does not publish the metrics.
    host: str = "127.0.0.1"
    port: int = 8000
    # The gRPC API (Trading, MarketData, health, reflection); GRPC_PORT=0 turns it off.
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    # Unique per gateway process: names its reply channel.
    gateway_id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    # Key that encrypts API secrets at rest (Fernet, urlsafe base64 of 32 bytes). Required.
    secret_key: str = ""
    # How long an order waits for its engine before answering -1007.
    order_timeout_ms: int = 5_000
    # Free funds given to every new sign-up, "ASSET=amount,..." as decimals.
    demo_funds: str = "USDT=10000,BTC=0.5,ETH=5,SOL=50"
    session_days: int = 7
    # The built web app (web/dist); empty: `/` is a small overview page.
    web_dir: str = ""
    # Where the web page opens WebSockets: a ws:// or wss:// base URL, or a path such as "/" for
    # the page's own host (an Ingress routing /ws and /stream); empty: the page's host name with
    # WS_PORT (the WebSocket tier on its own port, as `make run` starts it).
    ws_public_url: str = ""
    ws_port: int = 8001
    # Gateway processes sharing the port; each has its own reply channel.
    workers: int = 1
    # Rate limits (gateway.ratelimit), counted in each gateway process; 0 turns one off. Defaults
    # are Binance's. RATE_LIMIT_EXEMPT_KEYS: API keys never limited (comma-separated).
    rate_limit_ip_weight_per_minute: int = Field(default=6_000, ge=0)
    rate_limit_orders_per_10s: int = Field(default=100, ge=0)
    rate_limit_orders_per_day: int = Field(default=200_000, ge=0)
    rate_limit_exempt_keys: str = ""
    # The MAX_NUM_ORDERS filter (gateway.orderlimits): open orders per account per market; 0 turns
    # it off (and exchangeInfo does not list it). Binance's value by default.
    max_num_orders: int = Field(default=200, ge=0)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: comma-separated IPs or CIDRs,
    # "*" for any. Empty (the default): the client is the socket's peer. Behind an Ingress, the
    # per-IP rate limit needs the Ingress listed, or it limits the Ingress as one client.
    forwarded_allow_ips: str = ""
    # Seconds an idle keep-alive connection stays open. Longer than clients' own idle expiry
    # (httpx 5 s, aiohttp 15 s), so the client, not the server, ends an idle connection: a server
    # closing first races the client's next request, which then fails with no answer.
    keep_alive_s: int = Field(default=75, ge=1)
    # The admin API's bearer token (docs/admin.md), at least 16 characters; empty (the default):
    # no admin API (its paths answer 404).
    admin_token: str = ""

    # Login throttling (gateway.loginthrottle): failures per account and per client IP within a
    # window that starts at the first failure; at the count, logins are refused (429) until it ends.
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_ip: int = Field(default=30, ge=1)
    login_failure_window_s: int = Field(default=15 * 60, ge=1)

    def rate_limits(self) -> Limits:
        exempt = frozenset(k.strip() for k in self.rate_limit_exempt_keys.split(",") if k.strip())
        return Limits(
            self.rate_limit_ip_weight_per_minute,
            self.rate_limit_orders_per_10s,
            self.rate_limit_orders_per_day,
            exempt,
        )
