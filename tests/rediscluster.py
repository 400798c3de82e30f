"""A real local Redis Cluster for tests: 3 masters and 3 replicas (`redis-server --cluster-enabled
yes`) on free ports of 127.0.0.1, in a temp dir, without persistence. It never touches the shared
Redis on 6379. docs/cluster.md says how to start one by hand."""

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

NODES = 6  # 3 masters, each with 1 replica


@dataclass(frozen=True)
class LocalCluster:
    ports: list[int]
    home: Path = Path(".")
    restarted: list["subprocess.Popen[bytes]"] = field(default_factory=list, compare=False)

    @property
    def url(self) -> str:
        """The URL every service takes as REDIS_URL to run on this cluster."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def cli(self, *args: str, port: int | None = None) -> str:
        """redis-cli's output for `args` run on node `port` (the first node by default)."""
        command = ["redis-cli", "-p", str(port or self.ports[0]), *args]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=30).stdout

    def masters(self) -> dict[str, list[tuple[int, int]]]:
        """{"host:port": [(first slot, last slot), ...]} of every master (CLUSTER NODES)."""
        out: dict[str, list[tuple[int, int]]] = {}
        for line in self.cli("CLUSTER", "NODES").splitlines():
            fields = line.split()
            if "master" not in fields[2].split(","):
                continue
            ranges = out.setdefault(fields[1].split("@")[0], [])
            for part in fields[8:]:
                if part.startswith("["):
                    continue  # a slot being migrated
                first, _, last = part.partition("-")
                ranges.append((int(first), int(last or first)))
        return out

    def node_ids(self) -> dict[str, str]:
        """{"host:port": node id} of every master."""
        out = {}
        for line in self.cli("CLUSTER", "NODES").splitlines():
            fields = line.split()
            if "master" in fields[2].split(","):
                out[fields[1].split("@")[0]] = fields[0]
        return out

    def move_empty_slot(self, slot: int, to: str) -> None:
        """Give `slot` (which holds no key yet) to the master at `to` ("host:port"), telling
        every master, and wait until every node agrees."""
        ids = self.node_ids()
        for address in ids:
            self.cli("CLUSTER", "SETSLOT", str(slot), "NODE", ids[to], port=int(address.rpartition(":")[2]))

        def agreed() -> bool:
            return all(self._owner(slot, p) == to for p in self.ports)

        _wait(agreed, f"slot {slot} on {to} everywhere")

    def _owner(self, slot: int, port: int) -> str | None:
        for line in self.cli("CLUSTER", "NODES", port=port).splitlines():
            fields = line.split()
            if "master" not in fields[2].split(","):
                continue
            for part in fields[8:]:
                first, _, last = part.partition("-")
                if not part.startswith("[") and int(first) <= slot <= int(last or first):
                    return fields[1].split("@")[0]
        return None

    def spread(self, keys: list[str]) -> None:
        """Move empty slots so that `keys` (one per market, say) are held by every master, when
        there are at least as many keys as masters."""
        holders = {key: self.master_of(key) for key in keys}
        for idle in set(self.masters()) - set(holders.values()):
            crowded = max(set(holders.values()), key=lambda m: sum(h == m for h in holders.values()))
            key = next(k for k, holder in holders.items() if holder == crowded)
            self.move_empty_slot(int(self.cli("CLUSTER", "KEYSLOT", key)), idle)
            holders[key] = idle

    def replica_of(self, master: str) -> str:
        """The "host:port" of the replica of the master at `master`."""
        replicas = self.replicas_of(master)
        if not replicas:
            raise AssertionError(f"{master} has no replica")
        return replicas[0]

    def replicas_of(self, master: str) -> list[str]:
        """The "host:port" of every replica of the node at `master` (none if it is no master)."""
        master_id = self.node_ids().get(master)
        out = []
        for line in self.cli("CLUSTER", "NODES").splitlines():
            fields = line.split()
            if master_id and fields[3] == master_id and "slave" in fields[2].split(","):
                out.append(fields[1].split("@")[0])
        return out

    def fail_over(self, replica: str, seconds: float = 90.0) -> None:
        """Promote `replica` ("host:port") by a manual `CLUSTER FAILOVER` and wait until every
        node sees it as master and its former master as its replica. Redis aborts a manual
        failover that has not finished within 5 s (a loaded host can take longer to hand over),
        so the command is sent again every 6 s until it has taken effect."""
        old = next(m for m in self.masters() if replica in self.replicas_of(m))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.cli("CLUSTER", "FAILOVER", port=port_of(replica))
            try:
                _wait(lambda: self._promoted(replica, old), f"{replica} promoted over {old}", 6.0)
                return
            except RuntimeError:
                continue
        raise RuntimeError(f"{replica} was not promoted over {old} within {seconds} s")

    def _promoted(self, new: str, old: str) -> bool:
        """Whether every node's CLUSTER NODES has `new` as a master and `old` as its replica."""
        for port in self.ports:
            roles = {}
            for line in self.cli("CLUSTER", "NODES", port=port).splitlines():
                fields = line.split()
                roles[fields[1].split("@")[0]] = (fields[0], "master" in fields[2].split(","), fields[3])
            if not (new in roles and old in roles and roles[new][1]):
                return False
            if roles[old][1] or roles[old][2] != roles[new][0]:
                return False
        return True

    def kill(self, address: str) -> None:
        """SIGKILL the node at `address` ("host:port")."""
        os.kill(self.pid(address), signal.SIGKILL)
        _wait(lambda: not _answers(port_of(address)), f"{address} gone")

    def pid(self, address: str) -> int:
        return int(self.cli("INFO", "server", port=port_of(address)).split("process_id:")[1].split()[0])

    def start_again(self, address: str) -> None:
        """Start the node at `address` again in its folder: it rejoins from its nodes.conf."""
        port = port_of(address)
        self.restarted.append(_start_node(self.home, port))
        _wait(lambda: _answers(port), f"{address} answering again")

    def move_slot(self, slot: int, to: str) -> int:
        """Move `slot` with its keys to the master at `to`, as `redis-cli --cluster reshard` does:
        SETSLOT IMPORTING on the target, MIGRATING on the source, MIGRATE of its keys in
        batches, then SETSLOT NODE on the target, the source and every other master. Returns how
        many keys moved."""
        ids = self.node_ids()
        source = next(a for a, ranges in self.masters().items() if any(f <= slot <= la for f, la in ranges))
        if source == to:
            return 0
        src, dst = port_of(source), port_of(to)
        self.cli("CLUSTER", "SETSLOT", str(slot), "IMPORTING", ids[source], port=dst)
        self.cli("CLUSTER", "SETSLOT", str(slot), "MIGRATING", ids[to], port=src)
        moved = 0
        while keys := self.cli("CLUSTER", "GETKEYSINSLOT", str(slot), "100", port=src).split():
            host, _, _ = to.rpartition(":")
            self.cli("MIGRATE", host, str(dst), "", "0", "5000", "REPLACE", "KEYS", *keys, port=src)
            moved += len(keys)
        for address in [to, source, *(a for a in ids if a not in (to, source))]:
            self.cli("CLUSTER", "SETSLOT", str(slot), "NODE", ids[to], port=port_of(address))
        _wait(lambda: all(self._owner(slot, p) == to for p in self.live_ports()), f"slot {slot} on {to}")
        return moved

    def live_ports(self) -> list[int]:
        return [port for port in self.ports if _answers(port)]

    def master_of(self, key: str) -> str:
        """The "host:port" of the master that holds `key`'s slot."""
        slot = int(self.cli("CLUSTER", "KEYSLOT", key))
        for address, ranges in self.masters().items():
            if any(first <= slot <= last for first, last in ranges):
                return address
        raise AssertionError(f"no master holds slot {slot}")


def port_of(address: str) -> int:
    return int(address.rpartition(":")[2])


def _start_node(home: Path, port: int) -> "subprocess.Popen[bytes]":
    node = home / str(port)
    node.mkdir(exist_ok=True)
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
               "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "3000", "--save", "",
               "--appendonly", "no", "--repl-diskless-sync-delay", "0", "--dir", str(node),
               "--logfile", "redis.log"]  # fmt: skip
    return subprocess.Popen(command, cwd=node, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"the local Redis Cluster did not get {what} within {seconds} s")


@contextmanager
def local_cluster() -> Iterator[LocalCluster]:
    """Start the six nodes, create the cluster, wait for cluster_state:ok; stop and remove all."""
    home = Path(tempfile.mkdtemp(prefix="redis-cluster-"))
    ports = _free_ports(NODES)
    processes: list[subprocess.Popen[bytes]] = []
    restarted: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            processes.append(_start_node(home, port))
        cluster = LocalCluster(ports, home, restarted)

        def answering() -> bool:
            if any(process.poll() is not None for process in processes):
                raise RuntimeError(f"a Redis Cluster node exited; its log is under {home}")
            return all(_answers(port) for port in ports)

        _wait(answering, "every node answering")
        addresses = [f"127.0.0.1:{port}" for port in ports]
        subprocess.run(["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", "1",
                        "--cluster-yes"], check=True, capture_output=True, timeout=60)  # fmt: skip

        def ok() -> bool:
            return all("cluster_state:ok" in cluster.cli("CLUSTER", "INFO", port=port) for port in ports)

        _wait(ok, "cluster_state:ok on every node")
        _wait(lambda: len(cluster.masters()) == NODES // 2, "three masters")

        def replicas_online() -> bool:  # each master's replica synced (WAIT 1 counts it)
            masters = [int(node.rsplit(":", 1)[1]) for node in cluster.masters()]
            return all("state=online" in cluster.cli("INFO", "replication", port=port) for port in masters)

        _wait(replicas_online, "every replica online")
        yield cluster
    finally:
        processes += restarted
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(home, ignore_errors=True)


def _answers(port: int) -> bool:
    try:
        result = subprocess.run(
            ["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True, timeout=5
        )
    except subprocess.TimeoutExpired:
        return False
    return result.stdout.strip() == "PONG"


def _free_ports(count: int) -> list[int]:
    """`count` ports free on 127.0.0.1 whose cluster bus ports (+10000) are free too: a node's
    port must be at most 55535."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20000, 55535)
        if port not in ports and _free(port) and _free(port + 10000):
            ports.append(port)
    return ports


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
