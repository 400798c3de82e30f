"""Is the exchange up? The gateway answers /api/v3/ping, the WebSocket port accepts connections,
and every engine has recovered its book and reads its command stream."""

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from launcher.processes import engine_name
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


def log_offsets(log_dir: Path) -> dict[str, int]:
    """The size of every log in `log_dir` now: where the lines of the next start begin."""
    return {p.stem: p.stat().st_size for p in log_dir.glob("*.log")}


def engine_recovered(log_dir: Path, offsets: dict[str, int], symbol: str) -> Check:
    """True once the engine of `symbol` has written, since `offsets` were taken, that it has
    recovered its book: it then joins its consumer group and reads cmd:{symbol}. (Redis 7.0 lists
    a stream consumer only once it has been delivered an entry, so the group cannot tell.)"""
    name = engine_name(symbol)
    path = log_dir / f"{name}.log"

    def ok() -> bool:
        try:
            with path.open("rb") as fh:
                fh.seek(offsets.get(name, 0))
                return f"{symbol} recovered".encode() in fh.read()
        except FileNotFoundError:
            return False

    return Check(f"engine of {symbol}", ok)


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
