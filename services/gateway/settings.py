"""Gateway configuration from the environment."""

import uuid

from pydantic import Field

from exchange_core.config import CommonSettings


class GatewaySettings(CommonSettings):
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
    web_dir: str = ""
    # Gateway processes sharing the port; each has its own reply channel.
    workers: int = 1
