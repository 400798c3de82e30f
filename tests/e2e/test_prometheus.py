"""A real Prometheus (Debian's, `make prometheus`) scraping a real stack (two markets, ws tier, DB
processor, market maker) with the rules of observability/rules: after a short load every panel
query of every dashboard returns a series, and a stopped engine raises ExchangeEngineStalled,
pending then firing, which resolves when the engine runs again.

Timing: the test's Prometheus scrapes and evaluates every second (scrape timeout 1 s) and the
alerts wait STALLED_FOR_S instead of their `for:` (1 m for ExchangeEngineStalled), so the alert is
due STALLED_FOR_S plus a scrape timeout and an evaluation or two after the SIGSTOP; the test
allows FIRING_WITHIN_S."""

import asyncio
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from launcher.stack import Stack
from tests.client import ApiFailure, sign_up
from tests.dashboards import all_dashboards, expressions
from tests.grpc_client import order_and_short_stream
from tests.prometheus import Prometheus, rule_files, running_prometheus, wait_until

SYMBOLS = ["BTCUSDT", "ETHUSDT"]
STOPPED = "ETHUSDT"
STALLED = "ExchangeEngineStalled"
STALLED_FOR_S = 8
PENDING_WITHIN_S = 10.0
FIRING_WITHIN_S = STALLED_FOR_S + 10.0
RESOLVED_WITHIN_S = 15.0
# Grafana's variables, as the test fills them in: a rate window of a few scrapes, one market.
RATE_INTERVAL = "15s"


def fast_rules(directory: Path) -> None:
    """observability/rules copied to `directory` with every alert's `for:` at STALLED_FOR_S."""
    directory.mkdir(parents=True)
    for path in rule_files():
        content = yaml.safe_load(path.read_text())
        for group in content["groups"]:
            for rule in group["rules"]:
                if "alert" in rule and "for" in rule:
                    rule["for"] = f"{STALLED_FOR_S}s"
        (directory / path.name).write_text(yaml.safe_dump(content, sort_keys=False))


def scrape_config(stack: Stack) -> dict[str, Any]:
    """One job per service (engines together), as observability/prometheus.yml does for `make run`."""
    jobs: dict[str, list[str]] = {}
    for name, url in stack.probe_urls.items():
        jobs.setdefault(name.split("-", 1)[0], []).append(url.removeprefix("http://"))
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": ["rules/*.yml"],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": sorted(targets)}]}
            for job, targets in jobs.items()
        ],
    }


@pytest.fixture(scope="module")
def prometheus(metrics_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    data_dir = tmp_path_factory.mktemp("prometheus")
    fast_rules(data_dir / "rules")
    with running_prometheus(scrape_config(metrics_stack), data_dir) as p:
        yield p


def load(stack: Stack) -> None:
    """A few signed orders over REST (one refused: a 4xx) and one over gRPC with a stream open."""
    trader = sign_up(stack.url)
    for i, symbol in enumerate([*SYMBOLS, *SYMBOLS]):
        order = {"symbol": symbol, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01"}
        placed = trader.call("POST", "/api/v3/order", price=str(1000 + i), **order)
        assert placed["status"] == "NEW", placed
    with pytest.raises(ApiFailure) as refused:
        trader.call("POST", "/api/v3/order", price="1", **{**order, "symbol": "NOPEUSDT"})
    assert 400 <= refused.value.status < 500
    asyncio.run(order_and_short_stream(stack.grpc_target, trader.api_key, trader.secret, SYMBOLS[0]))


def panel_query(expr: str) -> str:
    return expr.replace("$__rate_interval", RATE_INTERVAL).replace("$symbol", SYMBOLS[0])


def test_every_dashboard_query_returns_a_series_after_a_short_load(
    metrics_stack: Stack, prometheus: Prometheus
) -> None:
    load(metrics_stack)
    queries = {
        panel_query(expr): file
        for file, dashboard in all_dashboards().items()
        for expr in expressions(dashboard)
    }
    assert len(queries) > 60
    assert all("$" not in q for q in queries)
    empty: dict[str, str] = {}

    def every_query_answers() -> bool:
        empty.clear()
        empty.update({q: file for q, file in queries.items() if not prometheus.query(q)})
        return not empty

    wait_until(every_query_answers, 60, lambda: f"queries with no series: {empty}")
    up = prometheus.query("up")
    assert len(up) == len(metrics_stack.probe_urls) and all(s["value"][1] == "1" for s in up)
    (commands,) = prometheus.query("sum(increase(exchange_engine_commands_total[2m]))")
    assert float(commands["value"][1]) > 0


def alert_state(prometheus: Prometheus) -> dict[str, str]:
    """symbol -> state of the active ExchangeEngineStalled alerts."""
    return {a["labels"]["symbol"]: a["state"] for a in prometheus.alerts(STALLED)}


def test_a_stopped_engine_raises_the_stalled_alert_until_it_runs_again(
    metrics_stack: Stack, prometheus: Prometheus
) -> None:
    wait_until(
        lambda: bool(prometheus.query(f'exchange_engine_seq{{symbol="{STOPPED}"}}')), 30, "engine scraped"
    )
    assert alert_state(prometheus) == {}
    process = metrics_stack.supervisor.services[f"engine-{STOPPED}"].process
    assert process is not None
    os.kill(process.pid, signal.SIGSTOP)
    try:
        pending = wait_until(
            lambda: alert_state(prometheus).get(STOPPED) == "pending", PENDING_WITHIN_S, "pending"
        )
        firing = wait_until(
            lambda: alert_state(prometheus).get(STOPPED) == "firing", FIRING_WITHIN_S, "firing"
        )
        assert pending + firing >= STALLED_FOR_S - 1  # it waited its `for:` before firing
        assert set(alert_state(prometheus)) == {STOPPED}
        (alert,) = prometheus.alerts(STALLED)
        assert alert["labels"]["severity"] == "page"
        assert re.fullmatch(rf"Engine {STOPPED} applies no commands", alert["annotations"]["summary"])
    finally:
        os.kill(process.pid, signal.SIGCONT)
    resolved = wait_until(lambda: alert_state(prometheus) == {}, RESOLVED_WITHIN_S, "resolved after SIGCONT")
    assert process.poll() is None
    timings = f"pending in {pending:.1f} s, then firing in {firing:.1f} s; resolved in {resolved:.1f} s"
    print(f"SIGSTOP: {timings} after SIGCONT")
