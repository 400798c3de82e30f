"""`make run` as a user runs it: `python -m launcher` in a subprocess with its own database, key
prefix, ports and run dir, and what it printed. Shared by tests/e2e/test_run.py and the browser
tests."""

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from launcher.run import PIDS_FILE, UP_LINE
from launcher.stack import free_port
from tests import services

REPO = Path(__file__).resolve().parents[1]
UP_WITHIN_S = 90.0


@dataclass
class Launched:
    """A running `python -m launcher` and what it printed."""

    process: "subprocess.Popen[str]"
    env: dict[str, str]
    run_dir: Path
    lines: "queue.Queue[str]"
    output: list[str]
    up_at: float = 0.0

    def wait_for_line(self, start: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if line.startswith(start):
                return line
        raise AssertionError(f"no line starting {start!r}; output:\n{''.join(self.output)}")

    def field(self, label: str) -> str:
        """The value of a banner line `  <label> <value>`."""
        for line in self.output:
            if line.strip().startswith(label):
                return line.strip()[len(label) :].strip()
        raise AssertionError(f"no {label!r} line in:\n{''.join(self.output)}")

    def pids(self) -> dict[str, int]:
        """The launcher's processes.json (read again while the launcher is rewriting it)."""
        for _ in range(50):
            try:
                written = json.loads((self.run_dir / PIDS_FILE).read_text())
            except ValueError:
                time.sleep(0.05)
                continue
            return {name: int(pid) for name, pid in written.items()}
        raise AssertionError(f"{PIDS_FILE} stays unreadable")


def _read_lines(stream: Any, lines: "queue.Queue[str]", output: list[str]) -> None:
    for line in stream:
        output.append(line)
        lines.put(line)


@contextmanager
def launch(run_dir: Path, redis_url: str, **extra_env: str) -> Iterator[Launched]:
    """Start `python -m launcher` (a fresh database, key prefix and ports), wait for its banner,
    yield it; then SIGINT it (if still running), print its output, drop its database and keys."""
    services.ensure_postgres()
    dsn = services.PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/exchange_run_{uuid.uuid4().hex[:10]}"
    prefix = services.new_prefix()
    env = {
        "DATABASE_URL": dsn,  # not created yet: the launcher creates and migrates it
        "REDIS_URL": redis_url,
        "KEY_PREFIX": prefix,
        **extra_env,
    }
    try:
        with launch_with(run_dir, env) as launched:
            yield launched
    finally:
        asyncio.run(services.delete_prefix(prefix))
        asyncio.run(services.drop_test_database(dsn))


def launcher_env(run_dir: Path, env: dict[str, str], unset: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment of a launcher with its own run dir and free ports, plus `env`, less the
    variables in `unset`."""
    inherited = {k: v for k, v in os.environ.items() if k not in unset}
    return {
        **inherited,
        "RUN_DIR": str(run_dir),
        "GATEWAY_PORT": str(free_port()),
        "WS_PORT": str(free_port()),
        "GRPC_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
        **env,
    }


@contextmanager
def launch_with(run_dir: Path, env: dict[str, str], unset: tuple[str, ...] = ()) -> Iterator[Launched]:
    """Start `python -m launcher` in the environment launcher_env(run_dir, env, unset), wait for
    its banner, yield it; then SIGINT it (if still running) and print its output."""
    full_env = launcher_env(run_dir, env, unset)
    full_env.pop("SECRET_KEY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "launcher"],
        cwd=REPO,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    launched = Launched(process, full_env, run_dir, queue.Queue(), [])
    threading.Thread(
        target=_read_lines, args=(process.stdout, launched.lines, launched.output), daemon=True
    ).start()
    try:
        launched.wait_for_line(UP_LINE, UP_WITHIN_S)
        launched.up_at = time.monotonic()
        launched.wait_for_line("Ctrl-C", 5)
        yield launched
    except BaseException:
        for log in sorted((run_dir / "logs").glob("*.log")):
            print(f"== {log.name}\n{log.read_text()[-3000:]}")
        raise
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        print("".join(launched.output))
