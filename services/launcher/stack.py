"""The exchange as real processes on one machine: one engine per market, settlement and the
gateway (uvicorn), supervised. Used by `make run`, the end-to-end tests and the benchmarks."""

import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from exchange_core.markets import load_markets
from launcher.supervisor import Supervisor


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    url: str
    prefix: str
    supervisor: Supervisor
    symbols: list[str]
    log_dir: Path

    def logs(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.log_dir.glob("*.log")))


@contextmanager
def running_stack(
    database_url: str, prefix: str, symbols: list[str] | None = None, port: int = 0, **extra_env: str
) -> Iterator[Stack]:
    """Start the stack, wait until the gateway answers, yield it, stop it. Logs go to a temp dir
    and are printed if anything fails."""
    symbols = symbols or list(load_markets())
    port = port or free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="stack-"))
    env = {
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DATABASE_URL": database_url,
        "KEY_PREFIX": prefix,
        "SECRET_KEY": Fernet.generate_key().decode(),
        "PORT": str(port),
        "LOG_LEVEL": "INFO",
        **extra_env,
    }
    supervisor = Supervisor(env, log_dir)
    for symbol in symbols:
        supervisor.add(f"engine-{symbol}", "engine", SYMBOL=symbol, CONSUMER=f"engine-{symbol}")
    supervisor.add("settlement", "settlement")
    supervisor.add("gateway", "gateway")
    supervisor.start_all()
    stack = Stack(f"http://127.0.0.1:{port}", prefix, supervisor, symbols, log_dir)
    try:
        wait_until_up(stack)
        yield stack
    except BaseException:
        print(stack.logs())
        raise
    finally:
        supervisor.stop_all()


def wait_until_up(stack: Stack, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{stack.url}/api/v3/ping", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        for name, service in stack.supervisor.services.items():
            if service.process is not None and service.process.poll() is not None:
                raise RuntimeError(f"{name} exited at start-up:\n{stack.logs()}")
        time.sleep(0.2)
    raise RuntimeError(f"the gateway did not come up:\n{stack.logs()}")
