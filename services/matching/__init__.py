"""The pure matching core: one market's order book as a deterministic state machine.

Imports nothing that does I/O, reads no clock and draws no random number. Rules:
docs/matching.md.
"""

from matching.commands import AmendOrder, CancelAll, CancelOrder, Command, PlaceOrder, PlaceOrderList
from matching.engine import MatchingEngine
from matching.enums import (
    ContingencyType,
    ListOrderStatus,
    ListStatusType,
    OrderStatus,
    OrderType,
    Reason,
    Side,
    StpMode,
    TimeInForce,
)
from matching.events import (
    AmendRejected,
    BookDelta,
    CancelRejected,
    Event,
    ListStatus,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderDone,
    OrderExpired,
    OrderRejected,
    OrderTriggered,
    Trade,
)
from matching.market import MarketSpec
from matching.state import MarketState

__all__ = [
    "AmendOrder",
    "AmendRejected",
    "BookDelta",
    "CancelAll",
    "CancelOrder",
    "CancelRejected",
    "Command",
    "ContingencyType",
    "Event",
    "ListOrderStatus",
    "ListStatus",
    "ListStatusType",
    "MarketSpec",
    "MarketState",
    "MatchingEngine",
    "OrderAccepted",
    "OrderAmended",
    "OrderCancelled",
    "OrderDone",
    "OrderExpired",
    "OrderRejected",
    "OrderStatus",
    "OrderTriggered",
    "OrderType",
    "PlaceOrder",
    "PlaceOrderList",
    "Reason",
    "Side",
    "StpMode",
    "TimeInForce",
    "Trade",
]
