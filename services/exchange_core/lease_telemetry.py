"""The lease metrics of a process that holds leases, read from its Lease objects at scrape time.

Per lease (`role`, `partition`), whether this process holds it or stands by:

- `exchange_lease_held`            1 while this process holds the lease (`Lease.held()`), else 0;
- `exchange_lease_token`           the fencing token this process holds, 0 when it holds none;
- `exchange_lease_acquired_total`  tokens granted to this process;
- `exchange_lease_lost_total`      leases this process lost (to another holder or to the TTL;
                                   a release at a clean stop is not a loss).

Tokens only grow and each grant is a new one, so the rise of the highest token across a role's
holders counts how often a partition changed hands (the ExchangeLeaseFlapping alert).
"""

from collections.abc import Callable, Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from exchange_core.lease import Lease

LABELS = ["role", "partition"]


class LeaseCollector(Collector):
    """Exports the leases that `leases()` returns; nothing is counted on the write path."""

    def __init__(self, leases: Callable[[], Iterable[Lease]]) -> None:
        self.leases = leases

    def collect(self) -> Iterable[Metric]:
        held = GaugeMetricFamily(
            "exchange_lease_held", "1 while this process holds the lease, else 0.", labels=LABELS
        )
        token = GaugeMetricFamily(
            "exchange_lease_token", "The fencing token this process holds (0: none).", labels=LABELS
        )
        acquired = CounterMetricFamily(
            "exchange_lease_acquired", "Lease tokens granted to this process.", labels=LABELS
        )
        lost = CounterMetricFamily(
            "exchange_lease_lost",
            "Leases this process lost to another holder or to the TTL (releases not counted).",
            labels=LABELS,
        )
        for lease in self.leases():
            labels = [lease.role, lease.partition]
            holds = lease.held()
            held.add_metric(labels, 1 if holds else 0)
            token.add_metric(labels, lease.token if holds else 0)
            acquired.add_metric(labels, lease.acquired)
            lost.add_metric(labels, lease.losses)
        yield from (held, token, acquired, lost)
