"""The WebSocket tier started before Redis is up waits for it with back-off (no traceback, no
exit) and becomes ready once Redis answers."""

import tempfile
import time
from pathlib import Path

import httpx

from launcher.stack import free_port
from launcher.supervisor import Supervisor
from tests.e2e.private_redis import AofRedis


def ready(port: int) -> int:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code
    except httpx.HTTPError:
        return 0


def test_ws_waits_for_redis_and_becomes_ready() -> None:
    redis = AofRedis()  # not started yet
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="ws-start-"))
    supervisor = Supervisor({"REDIS_URL": redis.url, "PORT": str(port), "WS_PORT": str(port)}, log_dir)
    supervisor.add("ws", "ws")
    supervisor.start_all()
    try:
        for _ in range(100):
            if ready(port) == 503:
                break
            time.sleep(0.1)
        assert ready(port) == 503  # serving, not ready: Redis is down
        time.sleep(2.0)  # several retries
        process = supervisor.services["ws"].process
        assert process is not None and process.poll() is None
        redis.start()
        for _ in range(150):
            if ready(port) == 200:
                break
            time.sleep(0.1)
        assert ready(port) == 200
        log = (log_dir / "ws.log").read_text()
        assert "backend unreachable" in log and "Traceback" not in log
    finally:
        supervisor.stop_all()
        if redis.process is not None:
            redis.stop()
