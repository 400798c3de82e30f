"""Is the exchange up? Every process that serves /readyz answers it 200: the gateway and the
WebSocket tier on their own ports, engines (the book recovered, or standing by), settlement
workers and DB writers on their METRICS_PORT."""

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from launcher.supervisor import Supervisor


@dataclass(frozen=True)
class Check:
    """One condition of "up": `name` for messages, `ok()` polled until true."""

    name: str
    ok: Callable[[], bool]


class StartupFailed(Exception):
    """A process exited while starting, or the exchange did not come up in time."""


def gateway_answers(url: str) -> Check:
    def ok() -> bool:
        try:
            return httpx.get(f"{url}/api/v3/ping", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return Check(f"gateway at {url}", ok)


def port_accepts(port: int, what: str) -> Check:
    def ok() -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", port)) == 0

    return Check(f"{what} on 127.0.0.1:{port}", ok)


def ready(name: str, url: str) -> Check:
    """True once `url`/readyz answers 200."""

    def ok() -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return Check(f"{name} at {url}", ok)


def wait_until_healthy(
    supervisor: Supervisor, checks: list[Check], timeout_s: float, stopping: Callable[[], bool]
) -> bool:
    """Poll `checks` until all pass (True) or `stopping()` (False). Raises StartupFailed when a
    process exits meanwhile or `timeout_s` passes, naming what is not up."""
    deadline = time.monotonic() + timeout_s
    pending = list(checks)
    while pending:
        if stopping():
            return False
        for name, service in supervisor.services.items():
            if service.process is not None and service.process.poll() is not None:
                raise StartupFailed(f"{name} exited at start-up (code {service.process.returncode})")
        pending = [c for c in pending if not c.ok()]
        if not pending:
            break
        if time.monotonic() > deadline:
            raise StartupFailed(f"not up after {timeout_s:.0f} s: {', '.join(c.name for c in pending)}")
        time.sleep(0.2)
    return True
