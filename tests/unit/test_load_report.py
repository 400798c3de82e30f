"""load/RESULTS.md from locust's CSV statistics, the scaling figures and the fault counts."""

from pathlib import Path

from load.report import read_stats, render

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
    "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
    "99.99%,100%"
)
STATS = [
    "POST,/api/v3/order,3000,2,14,20,1,900,400,50.5,0.0,14,16,18,20,30,36,45,56,100,120,130",
    "WS,trade delivery,2000,0,6,7,1,40,160,33.3,0.0,6,7,8,9,12,15,17,19,30,40,40",
    ",Aggregated,5000,2,10,15,1,900,300,83.8,0.0,10,12,14,16,25,32,40,54,90,120,130",
]


def test_headline_tables_and_counts(tmp_path: Path) -> None:
    csv = tmp_path / "locust_stats.csv"
    csv.write_text("\n".join([HEADER, *STATS]) + "\n")
    rows = read_stats(csv)
    assert [r.label for r in rows] == ["POST /api/v3/order", "WS trade delivery", "Aggregated"]
    locust = {"url": "http://x", "users": 7, "seconds": 60, "rate": 7, "server_errors": 0, "mix": "m"}
    scaling = [{"markets": 1, "per_second": 30_000.0}, {"markets": 2, "per_second": 45_000.0}]
    fault = {"fault": "engine SIGKILL #1", "orders": 10, "lost": 0, "duplicated": 0}
    faults = {"orders": 10, "lost": 0, "duplicated": 0, "conserved": True, "statuses": {"200": 10},
              "clients": 3, "silent_clients": [], "note": "n", "faults": [fault]}  # fmt: skip
    text = render(locust, rows, scaling, faults)
    assert "| REST orders (POST /api/v3/order) | 50.5 orders/s | p50 14 ms, p95 36 ms, p99 56 ms |" in text
    assert (
        "| WS trade delivery (trade time to client) | 2,000 trades delivered | p50 6 ms, p95 15 ms, p99 19"
        in text
    )
    assert "| Engines, 2 market(s) | 45,000 commands/s | 1.50x of one |" in text
    assert "| 2 | 45,000 | 22,500 | 1.50x |" in text
    assert "| engine SIGKILL #1 | 10 | 0 | 0 |" in text
    assert "Clients that succeeded after the last fault: 3 of 3." in text
