"""build/bench/results.json's shape (bench.results): pure logic, no benchmark run."""

import json
from pathlib import Path

from bench.results import Figure, document, write


def figures() -> list[Figure]:
    return [
        Figure(
            "gateway_http",
            "orders",
            2_000.0,
            16_000.0,
            0.30,
            latency_ms={"ours": {"p50": 20.0, "p99": 50.0}, "floor": {"p50": 2.5, "p99": 11.0}},
            cpu_ms_per_unit={"ours": {"gateway": 0.3, "redis": 0.12}, "floor": {"floor": 0.03}},
        ),
        Figure("engine_service", "commands", 90_000.0, 120_000.0, 0.60),
    ]


def test_document_has_machine_reference_and_one_entry_per_benchmark() -> None:
    doc = document(figures(), nproc=2, load_start=1.234, load_end=3.456, reference_ops_per_s=733_123.4)
    assert doc["machine"] == {
        "nproc": 2,
        "load_average_start": 1.23,
        "load_average_end": 3.46,
        "reference": {"name": "limit-order-book 2.0.0 (C++), ops/s", "ops_per_s": 733_123},
    }
    benchmarks = doc["benchmarks"]
    assert isinstance(benchmarks, dict)
    assert set(benchmarks) == {"gateway_http", "engine_service"}
    gateway = benchmarks["gateway_http"]
    assert gateway["ours_per_s"] == 2_000.0 and gateway["floor_per_s"] == 16_000.0
    assert gateway["ratio"] == 0.125 and gateway["target_ratio"] == 0.30
    assert gateway["meets_target"] is False
    assert gateway["latency_ms"] == {"ours": {"p50": 20.0, "p99": 50.0}, "floor": {"p50": 2.5, "p99": 11.0}}
    assert gateway["cpu_ms_per_unit"]["ours"] == {"gateway": 0.3, "redis": 0.12}
    engine = benchmarks["engine_service"]
    assert engine["ratio"] == 0.75 and engine["meets_target"] is True
    assert engine["latency_ms"] == {} and engine["cpu_ms_per_unit"] == {}


def test_a_floor_of_zero_gives_ratio_zero_and_no_reference_gives_null() -> None:
    doc = document([Figure("db_processor", "trades", 10.0, 0.0, 0.70)], 2, 0.0, 0.0, None)
    assert doc["benchmarks"]["db_processor"]["ratio"] == 0.0  # type: ignore[index]
    assert doc["machine"]["reference"]["ops_per_s"] is None  # type: ignore[index]


def test_write_creates_the_folder_and_round_trips(tmp_path: Path) -> None:
    doc = document(figures(), 2, 0.5, 0.7, 700_000.0)
    path = write(doc, tmp_path / "bench" / "results.json")
    assert json.loads(path.read_text()) == doc


def test_core_records_both_reference_ratios_with_their_targets() -> None:
    from bench.engine_bench import figures, verdict

    core, cpp = figures(ours=900_000.0, lme=300_000.0, lob=1_000_000.0)
    doc = document([core, cpp], 2, 1.0, 1.0, 1_000_000.0)
    benchmarks = doc["benchmarks"]
    assert isinstance(benchmarks, dict)
    assert benchmarks["core"]["ratio"] == 3.0 and benchmarks["core"]["target_ratio"] == 2.5
    assert benchmarks["core"]["meets_target"] is True and verdict(core) == "meets"
    assert benchmarks["core_vs_cpp"]["ratio"] == 0.9 and benchmarks["core_vs_cpp"]["target_ratio"] == 1.0
    assert benchmarks["core_vs_cpp"]["meets_target"] is False and verdict(cpp) == "BELOW"
