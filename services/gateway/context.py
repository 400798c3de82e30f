"""What every request handler needs, built once at start-up (see app.lifespan)."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import asyncpg
from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from exchange_core.keys import Keys
from exchange_core.ledger import Ledger
from exchange_core.markets import Market
from exchange_core.pipelined import PipelinedRedis
from gateway.feeds import MarketFeeds
from gateway.marketstatus import MarketStatuses
from gateway.replies import ReplyListener
from gateway.settings import GatewaySettings

if TYPE_CHECKING:  # the order service and the key watch import this module
    from gateway.keywatch import KeyWatch
    from gateway.orderlists import OrderListService
    from gateway.orders import OrderService


@dataclass
class GatewayContext:
    """The shared parts; `replies`, `orders`, `order_lists`, `feeds`, `statuses` and `key_watch`
    are set by the lifespan once the parts they need exist (a context built without them, as some
    tests do, has no such attribute)."""

    settings: GatewaySettings
    redis: Redis
    pool: asyncpg.Pool
    keys: Keys
    ledger: Ledger
    markets: dict[str, Market]
    # the process's auto-pipelined connection: the order path's INCRBY and XADD, and the ledger's
    pipelined: PipelinedRedis
    replies: ReplyListener = field(init=False)
    orders: "OrderService" = field(init=False)
    order_lists: "OrderListService" = field(init=False)
    # the streams the gateway serves itself (gRPC, WebSocket API)
    feeds: MarketFeeds = field(init=False)
    # every market's trading status (HALT / BREAK refuse new orders)
    statuses: MarketStatuses = field(init=False)
    # ends the streams of revoked API keys (gateway.keywatch)
    key_watch: "KeyWatch" = field(init=False)


def context(connection: HTTPConnection) -> GatewayContext:
    """The gateway's shared context of a request or WebSocket (set on app.state.ctx at start-up)."""
    return cast(GatewayContext, connection.app.state.ctx)
