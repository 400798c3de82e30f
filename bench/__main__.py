"""`make bench`: every benchmark, each printing its figures and checking its own results.

`python -m bench [core|stops|service|gateway|grpc|wsapi|ws|db|telemetry|scaling|ratelimit|settlement|
takeover|status|marketsim|loadgen|durable|cluster ...]`
runs a selection. Then build/bench/results.json holds, for each benchmark
with a floor, ours, the floor and the ratio (bench.results), the measurements of those without one
(`cluster`), with the machine's nproc, its load average at the start and the end, and the C++
limit-order-book's ops/s in this run as a speed reference.

`python -m bench capacity [RESULTS_JSON] [CONFIG]` runs no benchmark: it prints the capacity model
(bench.capacity) computed from the cluster benchmark's figures in results.json.
"""

import os
import sys

from bench import (
    capacity,
    cluster_bench,
    db_bench,
    durable_bench,
    engine_bench,
    gateway_bench,
    grpc_bench,
    loadgen_bench,
    marketsim_bench,
    ratelimit_bench,
    results,
    scaling_bench,
    service_bench,
    settlement_bench,
    status_bench,
    stops_bench,
    takeover_bench,
    telemetry_bench,
    ws_bench,
    wsapi_bench,
)

BENCHMARKS = {
    "core": lambda: engine_bench.main(),
    "stops": lambda: stops_bench.main(),
    "service": lambda: service_bench.main(),
    "gateway": lambda: gateway_bench.main(),
    "grpc": lambda: grpc_bench.main(),
    "wsapi": lambda: wsapi_bench.main(),
    "ws": lambda: ws_bench.main(),
    "db": lambda: db_bench.main(),
    "telemetry": lambda: telemetry_bench.main(),
    "scaling": lambda: scaling_bench.main(),
    "ratelimit": lambda: ratelimit_bench.main(),
    "settlement": lambda: settlement_bench.main(),
    "takeover": lambda: takeover_bench.main(),
    "status": lambda: status_bench.main(),
    "marketsim": lambda: marketsim_bench.main(),
    "loadgen": lambda: loadgen_bench.main(),
    "durable": lambda: durable_bench.main(),
    "cluster": lambda: cluster_bench.main(),
}


def main() -> None:
    if sys.argv[1:2] == ["capacity"]:
        capacity.main(sys.argv[2:])
        return
    chosen = sys.argv[1:] or list(BENCHMARKS)
    load_start = results.load_average()
    for name in chosen:
        BENCHMARKS[name]()
    reference = engine_bench.reference_ops_per_s()
    doc = results.document(
        results.FIGURES,
        len(os.sched_getaffinity(0)),
        load_start,
        results.load_average(),
        reference,
        results.MEASUREMENTS,
    )
    print(f"== {results.write(doc)}: {len(results.FIGURES)} ratios; limit-order-book {reference:,.0f} ops/s")


if __name__ == "__main__":
    main()
