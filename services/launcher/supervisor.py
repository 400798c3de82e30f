"""A small process supervisor: start services as child processes, restart any that dies,
stop them all (SIGTERM, then SIGKILL) on request."""

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_PDEATHSIG = 1


@dataclass
class Service:
    """One child process: `python -m <module>` with extra environment."""

    name: str
    module: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0


def signal_on_parent_death(sig: signal.Signals) -> Callable[[], None]:
    """A preexec_fn (Linux): the child receives `sig` when its parent dies, so that no child
    outlives a parent killed with SIGKILL."""

    def set_it() -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig))

    return set_it


class Supervisor:
    """`detach=True` (the launcher) starts each child in a session of its own, so that a Ctrl-C
    in the terminal reaches only the supervisor, which then stops the children in order; on Linux
    the children also receive SIGTERM if the supervisor dies."""

    def __init__(self, base_env: dict[str, str], log_dir: Path, detach: bool = False) -> None:
        self.base_env = base_env
        self.log_dir = log_dir
        self.detach = detach
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
        die_with_parent = self.detach and sys.platform == "linux"
        service.process = subprocess.Popen(
            [sys.executable, "-m", service.module],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=self.detach,
            preexec_fn=signal_on_parent_death(signal.SIGTERM) if die_with_parent else None,
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

    def pids(self) -> dict[str, int]:
        """The process id of every service started so far (running or not)."""
        return {name: s.process.pid for name, s in self.services.items() if s.process is not None}

    def stop(self, names: Iterable[str], grace_s: float = 10.0) -> None:
        """SIGTERM the named running services, wait up to `grace_s` for all, SIGKILL the rest."""
        wanted = set(names)
        self._stop([s for name, s in self.services.items() if name in wanted], grace_s)

    def stop_all(self, grace_s: float = 10.0) -> None:
        self._stop(list(self.services.values()), grace_s)

    def _stop(self, services: list[Service], grace_s: float) -> None:
        running = [s.process for s in services if s.process is not None and s.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
