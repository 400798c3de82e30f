"""The dashboards are valid Grafana JSON with PromQL whose metric names we can tell."""

import yaml

from exchange_core.markets import load_markets
from launcher.processes import Layout
from launcher.settings import LauncherSettings
from tests.dashboards import DASHBOARDS, all_dashboards, expressions, metric_names


def test_metric_names_are_parsed_out_of_promql() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (le, symbol) (rate(exchange_engine_batch_commands_bucket"
        '{symbol=~"$symbol", job="a_b"}[$__rate_interval])))'
    )
    assert metric_names(expr) == {"exchange_engine_batch_commands_bucket"}
    ratio = "sum(rate(a_sum[5m])) / sum without (instance) (rate(a_count[1m])) > bool 1e3"
    assert metric_names(ratio) == {"a_sum", "a_count"}
    assert metric_names("max by (symbol) (exchange_settlement_lag_seconds)") == {
        "exchange_settlement_lag_seconds"
    }
    assert metric_names('up{job="x"} and on (instance) process_cpu_seconds_total') == {
        "up",
        "process_cpu_seconds_total",
    }


def test_the_four_dashboards_exist_and_every_panel_queries_something() -> None:
    dashboards = all_dashboards()
    assert set(dashboards) == {"exchange-overview.json", "engine.json", "ws.json", "dbwriter.json"}
    uids = {d["uid"] for d in dashboards.values()}
    assert len(uids) == 4
    for name, dashboard in dashboards.items():
        panels = [p for p in dashboard["panels"] if p["type"] != "row"]
        assert panels, name
        for panel in panels:
            exprs = [t["expr"] for t in panel["targets"]]
            assert exprs and all(metric_names(e) for e in exprs), (name, panel["title"])
        assert all(metric_names(e) for e in expressions(dashboard)), name
    assert "exchange_engine_commands_total" in set().union(
        *map(metric_names, expressions(dashboards["engine.json"]))
    )


def test_the_prometheus_config_scrapes_what_make_run_starts() -> None:
    """observability/prometheus.yml lists the ports `make run` gives (launcher.run: 9100 up)."""
    config = yaml.safe_load((DASHBOARDS.parent / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: [t for c in job["static_configs"] for t in c["targets"]]
        for job in config["scrape_configs"]
    }
    settings = LauncherSettings()
    layout = Layout(
        list(load_markets()),
        ws_port=8001,
        dbwriter=True,
        settlement_workers=settings.settlement_workers,
        dbwriter_workers=settings.dbwriter_workers,
        marketsim_env={},
        # Off by default beside the simulation (MARKETMAKER=true starts it): its port comes last.
        marketmaker_env={},
    )
    ports = {name: settings.metrics_port_base + i for i, name in enumerate(layout.probed())}
    assert targets["engine"] == [f"127.0.0.1:{ports[f'engine-{s}']}" for s in load_markets()]
    for job in ("settlement", "dbwriter", "marketsim", "marketmaker"):
        assert targets[job] == [f"127.0.0.1:{port}" for name, port in ports.items() if name.startswith(job)]
    assert targets["gateway"] == [f"127.0.0.1:{settings.gateway_port}"]
    assert targets["ws"] == [f"127.0.0.1:{settings.ws_port}"]


def test_the_collector_config_receives_otlp_and_exports_traces() -> None:
    config = yaml.safe_load((DASHBOARDS.parent / "otel-collector.yaml").read_text())
    assert set(config["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    assert all(name in config["exporters"] for name in pipeline["exporters"])
    assert all(name in config["processors"] for name in pipeline["processors"])
