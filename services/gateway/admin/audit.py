"""Every admin action, logged and counted.

A log line per action on the `gateway.admin` logger, as key=value pairs whose values are JSON
(one line a machine can parse and a person can read):

    admin action="halt" target="BTCUSDT" outcome="ok" client="127.0.0.1" detail={"status": "HALT", ...}

and `exchange_admin_actions_total{action, outcome}` on the gateway's registry. Beside it,
`exchange_market_status{symbol, status}` is 1 for the status this gateway process applies to each
market now (its cached view: a dashboard shows every process agreeing, or not).
"""

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import cast

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import HTTPConnection

from exchange_core.marketstatus import MarketStatus, TradingStatus

log = logging.getLogger("gateway.admin")


class AdminAudit(Collector):
    """Records admin actions; `statuses` gives each market's status for the gauge at scrape time."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.actions: Counter[tuple[str, str]] = Counter()
        self.statuses: Callable[[], dict[str, MarketStatus]] = dict
        registry.register(self)

    def record(self, action: str, target: str, outcome: str, client: str, detail: object = None) -> None:
        """Log and count one admin action (`outcome`: ok, unauthorized, invalid, ...)."""
        self.actions[(action, outcome)] += 1
        fields: dict[str, object] = {"action": action, "target": target, "outcome": outcome, "client": client}
        if detail is not None:
            fields["detail"] = detail
        line = " ".join(f"{name}={json.dumps(value, sort_keys=True)}" for name, value in fields.items())
        log.log(logging.INFO if outcome == "ok" else logging.WARNING, "admin %s", line)

    def collect(self) -> Iterable[Metric]:
        actions = CounterMetricFamily(
            "exchange_admin_actions",
            "Admin API actions, by action and outcome (ok, unauthorized, invalid).",
            labels=["action", "outcome"],
        )
        for (action, outcome), count in sorted(self.actions.items()):
            actions.add_metric([action, outcome], count)
        yield actions
        status = GaugeMetricFamily(
            "exchange_market_status",
            "1 for the trading status this gateway process applies to the market now.",
            labels=["symbol", "status"],
        )
        for symbol, current in sorted(self.statuses().items()):
            for name in TradingStatus:
                status.add_metric([symbol, name.value], 1 if current.status is name else 0)
        yield status


def admin_audit(connection: HTTPConnection) -> AdminAudit:
    return cast(AdminAudit, connection.app.state.admin_audit)
