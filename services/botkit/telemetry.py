"""A bot's metrics: its Stats counters, read at scrape time."""

from collections.abc import Callable

from prometheus_client import CollectorRegistry

from botkit.stats import Stats
from exchange_core.telemetry import AttributeCollector, Exported, new_registry

# Stats field -> (metric name without prefix and _total, help).
COUNTED = {
    "placed": ("orders_placed", "Quotes (limit orders) placed."),
    "cancelled": ("orders_cancelled", "Quotes cancelled."),
    "takers": ("taker_orders", "Taker (market) orders sent."),
    "trades": ("taker_fills", "Taker orders that traded."),
    "rejected": ("rejected", "Orders the exchange rejected."),
    "unavailable": ("errors", "Requests that failed: gateway unavailable or timed out."),
}


def _reader(stats: Stats, field: str) -> Callable[[], float]:
    return lambda: float(getattr(stats, field))


def stats_registry(stats: Stats, prefix: str) -> CollectorRegistry:
    """A registry exporting `stats` as counters named `<prefix>_<name>_total`."""
    registry = new_registry()
    values = [
        Exported(f"{prefix}_{name}", "counter", text, _reader(stats, f))
        for f, (name, text) in COUNTED.items()
    ]
    registry.register(AttributeCollector(values))
    return registry
