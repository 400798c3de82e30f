"""Benchmark figures as ratios to their floors, and build/bench/results.json.

Every benchmark with a floor adds one `Figure` (ours and the floor measured in the same run, on
the same inputs); `document` turns them, with the machine's description, into the JSON that
`make bench` writes. The ratio is what a target applies to: this host's speed changes from day to
day, ours and its floor change together.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

RESULTS_PATH = Path(__file__).resolve().parent.parent / "build" / "bench" / "results.json"


@dataclass
class Figure:
    """One benchmark: ours and its floor in `unit` (per second), latencies in ms where they
    matter, CPU ms per unit of work per process where measured, and the target ratio."""

    name: str
    unit: str
    ours: float
    floor: float
    target_ratio: float
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # "ours"/"floor" -> p50, p99
    cpu_ms_per_unit: dict[str, dict[str, float]] = field(default_factory=dict)  # "ours"/"floor" -> process

    @property
    def ratio(self) -> float:
        return self.ours / self.floor if self.floor else 0.0

    def line(self) -> str:
        """`ours, floor, ratio (target)` as printed by the benchmarks."""
        verdict = "meets" if self.ratio >= self.target_ratio else "BELOW"
        return (
            f"   ours {self.ours:,.0f} {self.unit}/s, floor {self.floor:,.0f} {self.unit}/s: "
            f"ratio {self.ratio:.0%} ({verdict} the target >= {self.target_ratio:.0%})"
        )


FIGURES: list[Figure] = []
# Benchmarks without one floor (the cluster benchmark's configurations) record their figures here by name.
MEASUREMENTS: dict[str, object] = {}


def add(figure: Figure) -> Figure:
    """Record `figure` for results.json and print its line."""
    FIGURES.append(figure)
    print(figure.line())
    return figure


def record(name: str, measurement: object) -> None:
    """Keep `measurement` (JSON-serialisable) for results.json's "measurements" under `name`."""
    MEASUREMENTS[name] = measurement


def load_average() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def document(
    figures: list[Figure],
    nproc: int,
    load_start: float,
    load_end: float,
    reference_ops_per_s: float | None,
    measurements: dict[str, object] | None = None,
) -> dict[str, object]:
    """results.json's content: the machine, the speed reference, one entry per benchmark with a
    floor, and the `measurements` of those without one."""
    return {
        "machine": {
            "nproc": nproc,
            "load_average_start": round(load_start, 2),
            "load_average_end": round(load_end, 2),
            "reference": {
                "name": "limit-order-book 2.0.0 (C++), ops/s",
                "ops_per_s": round(reference_ops_per_s) if reference_ops_per_s else None,
            },
        },
        "benchmarks": {
            f.name: {
                "unit": f.unit,
                "ours_per_s": round(f.ours, 1),
                "floor_per_s": round(f.floor, 1),
                "ratio": round(f.ratio, 4),
                "target_ratio": f.target_ratio,
                "meets_target": f.ratio >= f.target_ratio,
                "latency_ms": {k: {q: round(v, 3) for q, v in d.items()} for k, d in f.latency_ms.items()},
                "cpu_ms_per_unit": {
                    k: {p: round(v, 4) for p, v in d.items()} for k, d in f.cpu_ms_per_unit.items()
                },
            }
            for f in figures
        },
        "measurements": dict(measurements or {}),
    }


def write(doc: dict[str, object], path: Path = RESULTS_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return path
