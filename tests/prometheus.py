"""Prometheus and promtool from Debian's package (`make prometheus`), the rules of
observability/rules, and a real Prometheus server for tests: started on 127.0.0.1 on a free port
with a given configuration, asked through its HTTP API, stopped."""

import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from launcher.stack import free_port

ROOT = Path(__file__).resolve().parents[1]
OBSERVABILITY = ROOT / "observability"
RULES = OBSERVABILITY / "rules"
RULE_TESTS = OBSERVABILITY / "rules-tests"


def binary(name: str) -> str:
    """The path of `prometheus` or `promtool`, installed by `make prometheus` when missing."""
    found = shutil.which(name)
    if found is None:
        subprocess.run(["make", "-C", str(ROOT), "prometheus"], check=True, capture_output=True)
        found = shutil.which(name)
    assert found is not None, f"`make prometheus` did not install {name}"
    return found


def rule_files() -> list[Path]:
    return sorted(RULES.glob("*.yml"))


def rules() -> list[dict[str, Any]]:
    """Every rule (alerting and recording) of every file in observability/rules."""
    return [
        rule
        for path in rule_files()
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def recorded() -> dict[str, str]:
    """Recording rule name -> its expression."""
    return {rule["record"]: rule["expr"] for rule in rules() if "record" in rule}


@dataclass
class Prometheus:
    """A running Prometheus server and its HTTP API."""

    url: str
    process: "subprocess.Popen[str]"

    def get(self, path: str, **params: str) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The series an instant query returns."""
        data = self.get("/api/v1/query", query=expr)
        result: list[dict[str, Any]] = data["result"]
        return result

    def alerts(self, name: str) -> list[dict[str, Any]]:
        """The active (pending or firing) alerts called `name`."""
        return [a for a in self.get("/api/v1/alerts")["alerts"] if a["labels"]["alertname"] == name]


@contextmanager
def running_prometheus(config: dict[str, Any], data_dir: Path) -> Iterator[Prometheus]:
    """Prometheus with `config` (written to data_dir/prometheus.yml; relative rule files are read
    from data_dir) on 127.0.0.1 and a free port, until it answers /-/ready; stopped on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config_file = data_dir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    log = (data_dir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary("prometheus"),
            f"--config.file={config_file}",
            f"--storage.tsdb.path={data_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    prometheus = Prometheus(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while not ready(prometheus.url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Prometheus did not start:\n{(data_dir / 'prometheus.log').read_text()}")
            time.sleep(0.2)
        yield prometheus
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_until(check: Callable[[], bool], seconds: float, what: str | Callable[[], str]) -> float:
    """Seconds until `check()` holds (asked every 0.25 s); fails after `seconds`, saying `what`
    (or what it returns then)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds} s: {what() if callable(what) else what}")
        time.sleep(0.25)
    return time.monotonic() - start


def ready(url: str) -> bool:
    """Prometheus at `url` answers /-/ready."""
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
