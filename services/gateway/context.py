"""What every request handler needs, built once at start-up (see app.lifespan)."""

from dataclasses import dataclass
from typing import Any

import asyncpg
from redis.asyncio import Redis

from exchange_core.keys import Keys
from exchange_core.ledger import Ledger
from exchange_core.markets import Market
from exchange_core.pipelined import PipelinedRedis
from gateway.settings import GatewaySettings


@dataclass
class GatewayContext:
    settings: GatewaySettings
    redis: Redis
    pool: asyncpg.Pool
    keys: Keys
    ledger: Ledger
    markets: dict[str, Market]
    # the process's auto-pipelined connection: the order path's INCRBY and XADD, and the ledger's
    pipelined: PipelinedRedis
    # set by the order path at start-up
    replies: Any = None
    orders: Any = None
    # gateway.feeds.MarketFeeds: the streams the gateway serves itself (gRPC, WebSocket API)
    feeds: Any = None
