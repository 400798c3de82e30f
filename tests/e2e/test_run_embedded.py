"""`make run` on a machine where no Redis or PostgreSQL runs. REDIS_URL / DATABASE_URL are unset and
LOCAL_REDIS_PORT / LOCAL_POSTGRES_PORT point at free ports, so the machine's own stores are neither
found nor touched: the launcher starts an embedded Redis and PostgreSQL with their data in its run
dir, migrates the database, the exchange comes up on them and takes a signed order; SIGINT then
leaves no process that the launcher started and nothing listening on its ports."""

import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from launcher.embedded import POSTGRES_DIR, REDIS_DIR
from launcher.stack import free_port
from tests.client import sign_up
from tests.launched import launch_with

SYMBOL = "BTCUSDT"


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def descendants(pid: int) -> dict[int, tuple[float, str]]:
    """Every process under `pid`: pid -> (start time, name)."""
    found = {}
    for child in psutil.Process(pid).children(recursive=True):
        try:
            found[child.pid] = (child.create_time(), child.name())
        except psutil.NoSuchProcess:
            continue
    return found


def still_running(pid: int, started: float) -> bool:
    try:
        process = psutil.Process(pid)
        return process.create_time() == started and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def run_dir() -> Iterator[Path]:
    """A run dir that PostgreSQL can reach when the test runs as root (then the server runs as
    `nobody`; pytest's own temporary folders are private to their owner)."""
    folder = Path(tempfile.mkdtemp(prefix="run-embedded-"))
    folder.chmod(0o755)
    yield folder / ".run"
    shutil.rmtree(folder)


def test_embedded_stores_serve_the_exchange_and_stop_with_it(run_dir: Path) -> None:
    redis_port, postgres_port = free_port(), free_port()
    assert not listening(redis_port) and not listening(postgres_port)
    env = {
        "LOCAL_REDIS_PORT": str(redis_port),
        "LOCAL_POSTGRES_PORT": str(postgres_port),
        "MARKETMAKER": "false",
        "MARKETSIM": "false",
        "METRICS_PORT_BASE": "0",
    }
    with launch_with(run_dir, env, unset=("REDIS_URL", "DATABASE_URL", "KEY_PREFIX")) as launched:
        redis_line, postgres_line = launched.field("Redis"), launched.field("PostgreSQL")
        assert redis_line.startswith(f"redis://127.0.0.1:{redis_port}/0") and "embedded" in redis_line
        assert postgres_line.startswith(f"postgresql://postgres@127.0.0.1:{postgres_port}/exchange")
        assert f"data: {run_dir / POSTGRES_DIR}" in postgres_line
        assert (run_dir / POSTGRES_DIR / "PG_VERSION").is_file()
        assert (run_dir / REDIS_DIR).is_dir()

        web = launched.field("Web page")
        trader = sign_up(web)
        placed = trader.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT",
                             timeInForce="GTC", price="20000", quantity="0.01")  # fmt: skip
        assert placed["status"] == "NEW"
        order = trader.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"])
        assert order["status"] == "NEW" and order["price"] == "20000.00000000"
        trader.http.close()

        started = descendants(launched.process.pid)
        names = {name for _, name in started.values()}
        assert {"redis-server", "postgres"} <= names, names
        ports = [redis_port, postgres_port] + [
            int(launched.env[k]) for k in ("GATEWAY_PORT", "WS_PORT", "GRPC_PORT")
        ]
        assert all(listening(p) for p in (redis_port, postgres_port, int(launched.env["GATEWAY_PORT"])))

        launched.process.send_signal(signal.SIGINT)
        assert launched.process.wait(timeout=90) == 0

    left = {pid: name for pid, (at, name) in started.items() if still_running(pid, at)}
    assert left == {}
    assert [p for p in ports if listening(p)] == []
