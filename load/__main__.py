"""`make load` (`python -m load`): a bounded, headless locust run against the exchange as `make run`
starts it, the per-market scaling benchmark and the short fault tests, then load/RESULTS.md.

Unless LOAD_URL names a running exchange, it starts `python -m launcher` itself (the `make run`
stack, market simulation included) on free ports with a database of its own, key prefix and
run directory (.run/load), and stops it afterwards. All locust users share 127.0.0.1, so that
stack runs with the per-IP request-weight limit off (per-key order limits stay Binance's).

LOAD_USERS (60), LOAD_SECONDS (60), LOAD_SPAWN_RATE (20) size the run; LOAD_PARTS
(locust,scaling,faults) chooses what runs. Raw locust CSV and HTML go to artifacts/load/.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import drop_database, fresh_database
from launcher.stack import free_port
from load.report import read_stats, render
from tests.client import sign_up

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "load"
RESULTS = Path(__file__).with_name("RESULTS.md")


def start_exchange(env: dict[str, str], log: Path, timeout_s: float = 120.0) -> subprocess.Popen[str]:
    """`python -m launcher` with `env`; returns once it prints that the exchange is up."""
    process = subprocess.Popen(
        [sys.executable, "-m", "launcher"], env={**os.environ, **env}, stdout=subprocess.PIPE,
        stderr=log.open("w"), text=True, start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    for line in process.stdout:
        if line.startswith("Exchange is up."):
            return process
        if time.monotonic() > deadline:
            break
    process.terminate()
    raise SystemExit(f"the exchange did not start; see {log}")


def stop_exchange(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


def run_locust(url: str, ws_url: str, users: int, seconds: int, rate: int) -> dict[str, Any]:
    """Locust headless against `url`; returns the run's description and its server-error count."""
    prefix = ARTIFACTS / "locust"
    command = [
        sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
        "-u", str(users), "-r", str(rate), "-t", f"{seconds}s", "--host", url, "--csv", str(prefix),
        "--html", str(ARTIFACTS / "locust.html"), "--only-summary", "--stop-timeout", "10",
        "--exit-code-on-error", "0", "--reset-stats",
    ]  # fmt: skip
    accounts = ARTIFACTS / "accounts.json"
    traders = [sign_up(url) for _ in range(users * 4 // 7 + 1)]  # the Trader share of the users
    accounts.write_text(json.dumps([[t.api_key, t.secret] for t in traders]))
    summary = ARTIFACTS / "summary.json"
    summary.unlink(missing_ok=True)
    env = {**os.environ, "LOAD_WS_URL": ws_url, "LOAD_ACCOUNTS": str(accounts), "LOAD_SUMMARY": str(summary)}
    log = ARTIFACTS / "locust.log"
    with log.open("w") as fh:
        subprocess.run(command, env=env, stdout=fh, stderr=subprocess.STDOUT, check=True)
    server_errors = sum(json.loads(summary.read_text())["server_errors"].values())
    return {"url": url, "users": users, "seconds": seconds, "rate": rate, "server_errors": server_errors,
            "mix": "traders : market-data readers : WS subscribers = 4 : 2 : 1"}  # fmt: skip


def run_faults() -> dict[str, Any]:
    """The fault tests (CI's short version), which write their counts to FAULT_REPORT."""
    report = ARTIFACTS / "faults.json"
    report.unlink(missing_ok=True)
    env = {**os.environ, "FAULT_REPORT": str(report)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/e2e/test_faults.py"]
    with (ARTIFACTS / "faults.log").open("w") as fh:
        subprocess.run(command, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if not report.exists():
        raise SystemExit(f"the fault tests wrote no report; see {ARTIFACTS / 'faults.log'}")
    return dict(json.loads(report.read_text()))


def main() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    parts = set(os.environ.get("LOAD_PARTS", "locust,scaling,faults").split(","))
    users = int(os.environ.get("LOAD_USERS", "60"))
    seconds = int(os.environ.get("LOAD_SECONDS", "60"))
    rate = int(os.environ.get("LOAD_SPAWN_RATE", "20"))
    locust: dict[str, Any] = {}
    if "locust" in parts:
        url = os.environ.get("LOAD_URL", "")
        ws_url = os.environ.get("LOAD_WS_URL", "")
        exchange = None
        if not url:
            port, ws_port = free_port(), free_port()
            dsn = fresh_database()
            env = {"GATEWAY_PORT": str(port), "WS_PORT": str(ws_port), "RUN_DIR": str(ROOT / ".run" / "load"),
                   "DATABASE_URL": dsn, "KEY_PREFIX": f"load{int(time.time())}:",
                   "RATE_LIMIT_IP_WEIGHT_PER_MINUTE": "0"}  # fmt: skip
            exchange = start_exchange(env, ARTIFACTS / "launcher.log")
            url, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{ws_port}"
        elif not ws_url:  # make run's default: the WebSocket port is the gateway's + 1
            host, port_text = url.replace("http://", "ws://").rsplit(":", 1)
            ws_url = f"{host}:{int(port_text) + 1}"
        try:
            print(f"locust: {users} users for {seconds} s against {url} ...", flush=True)
            locust = run_locust(url, ws_url, users, seconds, rate)
        finally:
            if exchange is not None:
                stop_exchange(exchange)
                drop_database(dsn)
    scaling = None
    if "scaling" in parts:
        from bench import scaling_bench

        scaling = scaling_bench.main()
        (ARTIFACTS / "scaling.json").write_text(json.dumps(scaling))
    faults = run_faults() if "faults" in parts else None
    rows = read_stats(ARTIFACTS / "locust_stats.csv") if locust else []
    RESULTS.write_text(render(locust, rows, scaling, faults) + "\n")
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
