"""Every service of a running stack (one market, ws tier, DB processor, market maker) serves
/metrics, /healthz and /readyz; every metric a dashboard or an alerting or recording rule
(observability/rules) queries is exported by some service."""

import asyncio
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from botkit.stats import Stats
from botkit.telemetry import stats_registry
from launcher.stack import Stack
from marketsim.__main__ import METRICS_PREFIX as SIM_METRICS_PREFIX
from tests.client import sign_up
from tests.dashboards import all_dashboards, expressions, metric_names
from tests.grpc_client import order_and_short_stream
from tests.prometheus import alerts, recorded

SYMBOL = "BTCUSDT"
SYMBOLS = [SYMBOL]
TRADING = "exchange.api.v1.Trading"


def scrape(url: str) -> dict[str, float]:
    """Sample name (with labels, sorted) -> value of one /metrics."""
    response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}"] = sample.value
    return out


def names(samples: dict[str, float]) -> set[str]:
    return {key.split("{", 1)[0] for key in samples}


def value(samples: dict[str, float], name: str, **labels: str) -> float:
    key = f"{name}{{{','.join(f'{k}={v}' for k, v in sorted(labels.items()))}}}"
    return samples.get(key, -1.0)


def wait_for(check: "object", url: str, seconds: float = 30.0) -> dict[str, float]:
    deadline = time.monotonic() + seconds
    while True:
        samples = scrape(url)
        if check(samples):  # type: ignore[operator]
            return samples
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}/metrics never satisfied the check: {sorted(samples)[:80]}")
        time.sleep(0.3)


def test_every_service_answers_health_and_readiness(metrics_stack: Stack) -> None:
    expected = {"gateway", "ws", "settlement", "dbwriter", "marketmaker", f"engine-{SYMBOL}"}
    assert set(metrics_stack.probe_urls) == expected
    for name, url in metrics_stack.probe_urls.items():
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200, name
        ready = httpx.get(f"{url}/readyz", timeout=5)
        assert ready.status_code == 200, (name, ready.text)
        assert httpx.get(f"{url}/nothing-here", timeout=5).status_code in (400, 404), name


def test_metrics_count_the_work_and_cover_every_dashboard_query(metrics_stack: Stack) -> None:
    trader = sign_up(metrics_stack.url)
    placed = trader.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                         price="20000", quantity="0.01")  # fmt: skip
    assert placed["status"] == "NEW"
    asyncio.run(order_and_short_stream(metrics_stack.grpc_target, trader.api_key, trader.secret, SYMBOL))
    urls = metrics_stack.probe_urls
    gateway = wait_for(
        lambda s: (
            value(s, "exchange_grpc_requests_total", method=f"{TRADING}/StreamAccount", code="CANCELLED") == 1
        ),
        urls["gateway"],
    )
    assert value(gateway, "exchange_grpc_requests_total", method=f"{TRADING}/PlaceOrder", code="OK") == 1
    assert value(gateway, "exchange_grpc_request_duration_seconds_count", method=f"{TRADING}/PlaceOrder") == 1
    assert value(gateway, "exchange_grpc_stream_messages_sent_total", method=f"{TRADING}/StreamAccount") >= 1
    assert value(gateway, "exchange_grpc_streams_open", method=f"{TRADING}/StreamAccount") == 0
    assert (
        value(gateway, "exchange_http_requests_total", method="POST", route="/api/v3/order", status="200")
        >= 1
    )
    assert (
        value(gateway, "exchange_http_request_duration_seconds_count", method="POST", route="/api/v3/order")
        >= 1
    )
    assert not any("route=/api/v3/order/" in k or "orderId" in k for k in gateway)
    engine = wait_for(
        lambda s: value(s, "exchange_engine_trades_total", symbol=SYMBOL) > 0, urls[f"engine-{SYMBOL}"]
    )
    assert value(engine, "exchange_engine_commands_total", symbol=SYMBOL) >= 1
    assert value(engine, "exchange_engine_batch_commands_count", symbol=SYMBOL) >= 1
    settlement = wait_for(
        lambda s: value(s, "exchange_settlement_events_total", symbol=SYMBOL) > 0, urls["settlement"]
    )
    dbwriter = wait_for(lambda s: value(s, "exchange_dbwriter_orders_written_total") > 0, urls["dbwriter"])
    marketmaker = wait_for(
        lambda s: value(s, "exchange_marketmaker_orders_placed_total") > 0, urls["marketmaker"]
    )
    for samples, role in ((engine, "engine"), (settlement, "settlement"), (dbwriter, "dbwriter")):
        assert value(samples, "exchange_lease_held", role=role, partition=SYMBOL) == 1, role
        assert value(samples, "exchange_lease_token", role=role, partition=SYMBOL) >= 1, role
        assert value(samples, "exchange_lease_acquired_total", role=role, partition=SYMBOL) >= 1, role
    ws = scrape(urls["ws"])
    assert value(ws, "exchange_ws_clients") == 0
    exported = set().union(*(names(s) for s in (gateway, engine, settlement, dbwriter, marketmaker, ws)))
    # The market simulation (not in this stack) exports the bots' counters under its own prefix.
    simulated = stats_registry(Stats(), SIM_METRICS_PREFIX).collect()
    exported |= {sample.name for family in simulated for sample in family.samples}

    records = recorded()
    queried: dict[str, set[str]] = {}
    sources = [
        (file, expr) for file, dashboard in all_dashboards().items() for expr in expressions(dashboard)
    ]
    sources += [(f"rule {name}", expr) for name, expr in records.items()]
    sources += [(f"alert {name}", rule["expr"]) for name, rule in alerts().items()]
    for source, expr in sources:
        for name in metric_names(expr):
            if name not in records and name != "up":  # a recorded name: its rule's names count
                queried.setdefault(name, set()).add(source)
    assert len(queried) > 40
    missing = {name: sorted(files) for name, files in queried.items() if name not in exported}
    assert not missing, f"queried by a dashboard or a rule, exported by no service: {missing}"
