"""A redis-server of a test's own, which the test may stop and start again."""

import shutil
import signal
import subprocess
import tempfile
import time
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


@dataclass
class ReplicatedRedis:
    """A master and one replica (redis-server, no persistence) on free ports.

    Each runs in a temporary directory of its own: a replica's full sync writes an RDB file into
    its working directory even with `--save ""`.
    """

    port: int = field(default_factory=free_port)
    replica_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    folder: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="replicated-redis-"))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]
        common += ["--dir", self.folder]
        for port, role in (
            (self.port, []),
            (self.replica_port, ["--replicaof", "127.0.0.1", str(self.port)]),
        ):
            self.processes.append(
                subprocess.Popen(
                    ["redis-server", "--port", str(port), *common, *role], stdout=subprocess.DEVNULL
                )
            )
            services._wait_for(port)
        deadline = time.monotonic() + 20
        while "master_link_status:up" not in self.cli(self.replica_port, "INFO", "replication"):
            assert time.monotonic() < deadline, "the replica never connected"
            time.sleep(0.1)

    def cli(self, port: int, *args: str) -> str:
        return subprocess.run(
            ["redis-cli", "-p", str(port), *args], check=True, capture_output=True, text=True, timeout=30
        ).stdout

    def pause_replica(self) -> None:
        self.processes[1].send_signal(signal.SIGSTOP)

    def resume_replica(self) -> None:
        self.processes[1].send_signal(signal.SIGCONT)

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGCONT)
            process.kill()
            process.wait(30)
        shutil.rmtree(self.folder, ignore_errors=True)
