"""The WebSocket tier's metrics: its plain counters (ws.fanout.Counters) and a few levels, all read
at scrape time, so that fan-out pays nothing for them."""

from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from exchange_core.telemetry import AttributeCollector, Exported, new_registry

if TYPE_CHECKING:
    from ws.service import WsService

# Counters field -> (metric name without _total, help).
COUNTED = {
    "connections": ("exchange_ws_connections", "Connections accepted."),
    "rejected_connections": ("exchange_ws_rejected_connections", "Connections refused before the upgrade."),
    "messages": ("exchange_ws_messages", "Frames written to clients."),
    "bytes": ("exchange_ws_bytes", "Bytes of frames written to clients."),
    "slow_consumer_drops": ("exchange_ws_slow_consumer_drops", "Clients disconnected for falling behind."),
    "closed_by_server": ("exchange_ws_closed_by_server", "Connections closed by the server."),
    "requests": ("exchange_ws_requests", "Requests (SUBSCRIBE, UNSUBSCRIBE, ...) received."),
    "request_errors": ("exchange_ws_request_errors", "Requests answered with an error."),
    "md_messages": ("exchange_ws_md_messages", "md.{SYMBOL} messages received from the engines."),
    "md_gaps": ("exchange_ws_md_gaps", "Gaps seen in md.{SYMBOL} sequences (each followed by a resync)."),
    "resyncs": ("exchange_ws_resyncs", "Depth books rebuilt from a snapshot."),
    "user_messages": ("exchange_ws_user_messages", "User-data payloads received from user.{uid} channels."),
}


def attrgetter(obj: object, name: str) -> Callable[[], float]:
    return lambda: float(getattr(obj, name))


def ws_registry(service: "WsService") -> CollectorRegistry:
    registry = new_registry()
    counters = service.counters
    values = [
        Exported(name, "counter", text, attrgetter(counters, field))
        for field, (name, text) in COUNTED.items()
    ]
    values += [
        Exported("exchange_ws_clients", "gauge", "Connected clients.", lambda: counters.clients),
        Exported("exchange_ws_feeds", "gauge", "Markets followed.", lambda: len(service.feeds)),
        Exported("exchange_ws_streams", "gauge", "Subscribed streams.", lambda: len(service.hub.subscribers)),
    ]
    registry.register(AttributeCollector(values))
    return registry
