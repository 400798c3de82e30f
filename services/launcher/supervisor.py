"""A small process supervisor: start services as child processes, restart any that dies,
stop them all (SIGTERM, then SIGKILL) on request."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Service:
    """One child process: `python -m <module>` with extra environment."""

    name: str
    module: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0


class Supervisor:
    def __init__(self, base_env: dict[str, str], log_dir: Path) -> None:
        self.base_env = base_env
        self.log_dir = log_dir
        self.services: dict[str, Service] = {}
        log_dir.mkdir(parents=True, exist_ok=True)

    def add(self, name: str, module: str, **env: str) -> Service:
        service = Service(name, module, env)
        self.services[name] = service
        return service

    def start(self, name: str) -> None:
        service = self.services[name]
        env = {**os.environ, **self.base_env, **service.env}
        log = (self.log_dir / f"{name}.log").open("ab")
        service.process = subprocess.Popen(
            [sys.executable, "-m", service.module], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def start_all(self) -> None:
        for name in self.services:
            self.start(name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to one service (a crash or a hang, for tests); wait for it to die unless
        the signal only pauses or resumes it."""
        process = self.services[name].process
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            if sig not in (signal.SIGSTOP, signal.SIGCONT):
                process.wait(timeout=30)

    def restart_dead(self) -> list[str]:
        """Start again every service whose process has exited; returns their names."""
        restarted = []
        for name, service in self.services.items():
            if service.process is not None and service.process.poll() is not None:
                service.restarts += 1
                self.start(name)
                restarted.append(name)
        return restarted

    def stop_all(self, grace_s: float = 10.0) -> None:
        running = [
            s.process for s in self.services.values() if s.process is not None and s.process.poll() is None
        ]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
