"""`make observe`: Prometheus on 127.0.0.1 with observability/prometheus.yml and every rule
loaded, its data where OBSERVE_DATA says, its URL printed; Ctrl-C (SIGINT) stops it."""

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import yaml

from launcher.stack import free_port
from tests.prometheus import OBSERVABILITY, ROOT, binary, ready, rule_files, wait_until

UP_WITHIN_S = 60.0


def test_make_observe_serves_the_rules_and_scrapes_the_make_run_ports(tmp_path: Path) -> None:
    binary("prometheus")
    port = free_port()
    data = tmp_path / "prometheus"
    process = subprocess.Popen(
        ["make", "--no-print-directory", "observe", f"OBSERVE_PORT={port}", f"OBSERVE_DATA={data}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"Prometheus  {url} "), first
        wait_until(lambda: ready(url) or process.poll() is not None, UP_WITHIN_S, "ready")
        assert process.poll() is None, process.stdout.read()

        groups = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        expected = [g["name"] for p in rule_files() for g in yaml.safe_load(p.read_text())["groups"]]
        assert sorted(g["name"] for g in groups) == sorted(expected)
        assert sum(len(g["rules"]) for g in groups) == sum(
            len(g["rules"]) for p in rule_files() for g in yaml.safe_load(p.read_text())["groups"]
        )

        def targets() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = httpx.get(f"{url}/api/v1/targets", timeout=5).json()["data"][
                "activeTargets"
            ]
            return found

        wait_until(lambda: bool(targets()), 10, "targets discovered")
        config = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text())
        configured = {
            t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]
        }
        assert {t["labels"]["instance"] for t in targets()} == configured
        assert "127.0.0.1:9100" in configured

        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
        assert listening.split() and all(f"127.0.0.1:{port}" in line for line in listening.splitlines())
        assert (data / "wal").is_dir()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode is not None
    with_port = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
    assert with_port.strip() == ""
