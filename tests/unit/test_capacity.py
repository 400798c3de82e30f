"""The capacity model (bench.capacity): grouping of per-process CPU, the pods arithmetic and the
ceilings, from a results document written by hand. Pure arithmetic, no benchmark run."""

import json
from pathlib import Path

import pytest

from bench.capacity import (
    Assumptions,
    batched_from_results,
    ceilings,
    costs_from,
    costs_from_results,
    main,
    plan,
    pods,
)
from bench.results import Figure, document

PER_PROCESS = {
    "gateway": 0.30,
    "engine-BTCUSDT": 0.02,
    "engine-ETHUSDT": 0.03,
    "settlement": 0.15,
    "dbwriter": 0.05,
    "ws": 0.04,
    "redis-master:7000": 0.04,
    "redis-master:7001": 0.05,
    "redis-master:7002": 0.03,
    "redis-replica:7003": 0.01,
    "redis-replica:7004": 0.02,
    "redis-replica:7005": 0.01,
    "wrk": 0.09,
    "ws-clients": 0.02,
}


def results_doc() -> dict[str, object]:
    cluster = {
        "date": "2026-12-06",
        "load_average": [12.0, 14.0],
        "configs": {
            "cluster": {"cpu_ms_per_order": PER_PROCESS, "ws_cpu_ms_per_frame": 0.008},
            "single": {"cpu_ms_per_order": {"gateway": 0.25, "redis": 0.11}, "ws_cpu_ms_per_frame": None},
        },
    }
    return document([], 2, 12.0, 14.0, None, {"cluster": cluster})


def test_costs_group_processes_by_component_and_leave_out_load_generators() -> None:
    costs = costs_from_results(results_doc())
    assert costs.gateway == pytest.approx(0.30)
    assert costs.engine == pytest.approx(0.05)
    assert costs.settlement == pytest.approx(0.15)
    assert costs.dbwriter == pytest.approx(0.05)
    assert costs.redis_masters == pytest.approx(0.12)
    assert costs.redis_replicas == pytest.approx(0.04)
    assert costs.ws_per_frame == pytest.approx(0.008)


def test_one_redis_counts_as_the_masters_and_a_missing_ws_figure_as_zero() -> None:
    costs = costs_from_results(results_doc(), "single")
    assert costs.redis_masters == pytest.approx(0.11) and costs.redis_replicas == 0.0
    assert costs.ws_per_frame == 0.0 and costs.engine == 0.0


def test_marginal_figures_are_preferred_when_the_results_have_them() -> None:
    doc = results_doc()
    cluster = doc["measurements"]["cluster"]  # type: ignore[index]
    cluster["configs"]["cluster"]["cpu_ms_per_order_marginal"] = {"gateway": 0.2, "redis-master:7000": 0.05}
    cluster["configs"]["cluster"]["ws_cpu_ms_per_frame_marginal"] = 0.006
    costs = costs_from_results(doc)
    assert costs.gateway == pytest.approx(0.2) and costs.redis_masters == pytest.approx(0.05)
    assert costs.ws_per_frame == pytest.approx(0.006) and costs.settlement == 0.0


def test_results_without_cluster_measurements_are_refused() -> None:
    with pytest.raises(ValueError, match="bench cluster"):
        costs_from_results(document([], 2, 0.0, 0.0, None))


def test_pods_round_up_at_the_utilisation_and_never_below_one() -> None:
    assert pods(3.0, 0.6) == 5  # 3 / 0.6 = 5 exactly, not 6 from a rounding error
    assert pods(3.01, 0.6) == 6
    assert pods(0.0, 0.6) == 1


def test_plan_at_100k_orders_over_1000_markets() -> None:
    rows = {r.component: r for r in plan(costs_from(PER_PROCESS, 0.008), 100_000, Assumptions())}
    assert rows["gateway"].cores == pytest.approx(30.0) and rows["gateway"].pods == 50
    assert rows["engine"].cores == pytest.approx(5.0) and rows["engine"].pods == 1_000
    assert rows["settlement"].cores == pytest.approx(15.0) and rows["settlement"].pods == 25
    assert rows["DB processor"].pods == 9  # 5 cores / 0.6 = 8.33
    assert rows["Redis masters"].cores == pytest.approx(12.0) and rows["Redis masters"].pods == 20
    assert rows["Redis replicas"].pods == 20 and rows["Redis replicas"].cores == pytest.approx(4.0)
    assert rows["ws tier"].cores == pytest.approx(8.0) and rows["ws tier"].pods == 14  # 10 frames x 0.008 ms
    assert rows["gateway"].arithmetic == "100,000/s x 0.3000 ms = 30.00 cores; / 60% = 50"


def test_partitioned_workers_never_outnumber_the_markets() -> None:
    rows = {r.component: r for r in plan(costs_from(PER_PROCESS, 0.008), 1_000_000, Assumptions(markets=100))}
    assert rows["settlement"].pods == 100  # 150 cores of work would want 250
    assert rows["engine"].pods == 100


def test_the_hottest_market_meets_its_ceilings() -> None:
    costs = costs_from(PER_PROCESS, 0.008)
    at_10k = {c.what.split()[0]: c for c in ceilings(costs, 10_000, Assumptions())}
    assert all(c.fits for c in at_10k.values())
    assert at_10k["settlement"].cores == pytest.approx(0.15)  # 1,000/s x 0.15 ms
    assert at_10k["settlement"].max_orders_per_s == pytest.approx(4_000)  # 0.6 x 1000 / 0.15
    at_100k = {c.what.split()[0]: c for c in ceilings(costs, 100_000, Assumptions())}
    assert not at_100k["settlement"].fits and not at_100k["Redis"].fits  # 10,000/s x 0.12 ms = 1.2 cores
    assert at_100k["engine"].fits  # 10,000/s x 0.05 ms = 0.5 cores


def test_a_busy_markets_batched_costs_come_from_the_service_and_settlement_benchmarks() -> None:
    engine = Figure("engine_service", "commands", 4e4, 1e5, 0.6, cpu_ms_per_unit={"ours": {"engine": 0.01}})
    worker = {"ours": {"settlement": 0.1, "redis": 0.05}}
    settlement = Figure("settlement_one_worker", "orders", 6e3, 2e4, 0.6, cpu_ms_per_unit=worker)
    doc = document([engine, settlement], 2, 1.0, 1.0, None)
    batched = batched_from_results(doc)
    assert batched == {"engine": pytest.approx(0.01), "settlement": pytest.approx(0.1)}
    costs = costs_from(PER_PROCESS, 0.008)
    hot = {c.what.split()[0]: c for c in ceilings(costs, 1_000_000, Assumptions(), batched)}
    assert hot["engine"].max_orders_per_s == pytest.approx(60_000)  # 0.6 x 1000 / 0.01
    assert not hot["engine"].fits  # the hottest market: 100,000/s x 0.01 ms = 1 core
    assert hot["settlement"].cores == pytest.approx(10.0)  # 100,000/s x 0.1 ms
    assert batched_from_results(document([], 2, 0.0, 0.0, None)) == {}


def test_main_prints_the_model_from_a_results_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results_doc()))
    text = main([str(path)])
    assert "2026-12-06" in text and "== 1,000,000 orders/s" in text
    assert "CEILING  settlement of the hottest market: 10,000/s needs 1.50 cores" in text
    assert capsys.readouterr().out.strip() == text
