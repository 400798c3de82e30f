"""A redis-server of a test's own, which the test may stop and start again."""

import signal
import subprocess
import tempfile
from dataclasses import dataclass, field

from launcher.stack import free_port
from tests import services


@dataclass
class AofRedis:
    """redis-server on a free port with AOF (everysec) in a directory of its own."""

    port: int = field(default_factory=free_port)
    folder: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="aof-redis-"))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.folder,
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        services._wait_for(self.port)

    def stop(self) -> None:
        """SIGTERM: Redis writes the AOF out (fsync) and exits."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
