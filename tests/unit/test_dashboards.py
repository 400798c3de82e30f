"""The dashboards are valid Grafana JSON with PromQL whose metric names we can tell."""

from tests.dashboards import all_dashboards, expressions, metric_names


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
