"""The market maker's metrics: its Stats counters, read at scrape time."""

from collections.abc import Callable

from prometheus_client import CollectorRegistry

from exchange_core.telemetry import AttributeCollector, Exported, new_registry
from marketmaker.stats import Stats

# Stats field -> (metric name without _total, help).
COUNTED = {
    "placed": ("exchange_marketmaker_orders_placed", "Quotes (limit orders) placed."),
    "cancelled": ("exchange_marketmaker_orders_cancelled", "Quotes cancelled."),
    "takers": ("exchange_marketmaker_taker_orders", "Taker (market) orders sent."),
    "trades": ("exchange_marketmaker_taker_fills", "Taker orders that traded."),
    "rejected": ("exchange_marketmaker_rejected", "Orders the exchange rejected."),
    "unavailable": ("exchange_marketmaker_errors", "Requests that failed: gateway unavailable or timed out."),
}


def _reader(stats: Stats, field: str) -> Callable[[], float]:
    return lambda: float(getattr(stats, field))


def marketmaker_registry(stats: Stats) -> CollectorRegistry:
    registry = new_registry()
    values = [Exported(name, "counter", text, _reader(stats, f)) for f, (name, text) in COUNTED.items()]
    registry.register(AttributeCollector(values))
    return registry
