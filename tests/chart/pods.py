"""Run the containers of a rendered chart as local processes: the chart's own commands and
environment (Secret and ConfigMap references resolved, `$(VAR)` expanded, mounted volumes as
temporary folders), so that the wiring between the chart and the services is tested for real
without a cluster. What a cluster gives each pod is mapped onto this machine: every address is
127.0.0.1, and each pod's metrics port becomes a free port of its own (pods have their own IPs).
"""

import base64
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from launcher.stack import free_port
from tests import services
from tests.chart.conftest import SIX_MARKETS, Manifest, by_kind, pod_spec, render

POD_ADDRESS = "0.0.0.0"
LOCAL = "127.0.0.1"
SIM_DEPTH_LEVELS = 30


def render_for_this_machine(
    root: Path, symbols: list[str], prefix: str, dsn: str, *extra: str, redis: tuple[str, ...] = ()
) -> list[Manifest]:
    """The chart with the markets `symbols` (of the six-market values), this machine's Redis with the
    key prefix `prefix` (or the redis.* values `redis`), the database `dsn`, free ports, the market
    maker (off by default beside the simulation; on here so that its pod runs too) requoting every
    0.5 s, a light market simulation (a deep book of SIM_DEPTH_LEVELS levels
    a side, few takers), demo funds in USDT and BTC (assets every market here trades), then the
    `extra` helm arguments."""
    values = yaml.safe_load(SIX_MARKETS.read_text())
    markets = root / "markets-values.yaml"
    markets.write_text(yaml.safe_dump({"markets": [m for m in values["markets"] if m["symbol"] in symbols]}))
    redis = redis or ("--set", "redis.mode=external", "--set", f"redis.external.url={services.REDIS_URL}")
    return render(
        "-f", str(markets), *redis,
        "--set", "database.bundled=false", "--set", f"database.external.url={dsn}",
        "--set", f"keyPrefix={prefix}", "--set", f"gateway.port={free_port()}",
        "--set", f"ws.port={free_port()}", "--set", f"gateway.grpcPort={free_port()}",
        "--set", "marketmaker.enabled=true", "--set", "marketmaker.env.MM_REQUOTE_SECONDS=0.5",
        "--set", "demo.funds=USDT=1000\\,BTC=1",
        "--set-json", f'marketsim.mix={{"depth_levels": {SIM_DEPTH_LEVELS}, "noise_per_minute": 6}}',
        *extra,
    )  # fmt: skip


@dataclass
class LocalPod:
    """One container of a rendered workload, ready to start: `python -m <args>` with `env`."""

    name: str
    component: str
    args: list[str]
    env: dict[str, str]
    ports: dict[str, int]
    container: dict[str, Any]
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def start(self, log_dir: Path) -> None:
        self.log = log_dir / f"{self.name}.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", *self.args], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def run(self, log_dir: Path, timeout_s: float) -> int:
        """Start, wait for the exit (a Job or an init container); returns the exit code."""
        self.start(log_dir)
        assert self.process is not None
        return self.process.wait(timeout=timeout_s)

    def probe_url(self, probe: str) -> str:
        http = self.container[probe]["httpGet"]
        return f"http://{LOCAL}:{self.ports[http['port']]}{http['path']}"

    def output(self) -> str:
        return self.log.read_text()[-4000:] if self.log is not None and self.log.exists() else ""


@dataclass
class Cluster:
    """What the pods of one rendering see: the Secret's and ConfigMaps' data, mounted in `root`;
    `addresses` maps a "host:port" the pods name (a Service of a dependency, say) to one of this
    machine."""

    manifests: list[Manifest]
    root: Path
    addresses: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    config_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    services: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for secret in by_kind(self.manifests, "Secret"):
            data = secret["data"].items()
            self.secrets[secret["metadata"]["name"]] = {k: base64.b64decode(v).decode() for k, v in data}
        for config in by_kind(self.manifests, "ConfigMap"):
            self.config_maps[config["metadata"]["name"]] = config["data"]
        self.services = [s["metadata"]["name"] for s in by_kind(self.manifests, "Service")]

    def pods(self, workload: Manifest, init: bool = False) -> list[LocalPod]:
        """The containers (or init containers) of `workload` as local pods."""
        spec = pod_spec(workload)
        name = workload["metadata"]["name"]
        mounts_dir = self.root / name
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        return [
            self._pod(name, workload, container, volumes, mounts_dir)
            for container in spec.get("initContainers" if init else "containers", [])
        ]

    def _pod(
        self, name: str, workload: Manifest, container: dict[str, Any], volumes: dict[str, Any], mounts: Path
    ) -> LocalPod:
        paths = {
            m["mountPath"]: self._mount(volumes[m["name"]], mounts / m["name"])
            for m in container.get("volumeMounts", [])
        }
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        env: dict[str, str] = {}
        for entry in container.get("env", []):
            if "valueFrom" in entry:
                ref = entry["valueFrom"]["secretKeyRef"]
                if ref.get("optional") and ref["key"] not in self.secrets[ref["name"]]:
                    continue  # as Kubernetes does: an optional key that is absent sets nothing
                value = self.secrets[ref["name"]][ref["key"]]
            else:
                value = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), str(entry["value"]))
            mounted = [path for path in paths if value == path or value.startswith(path + "/")]
            if mounted:  # a path inside a volume: inside its local folder
                path = max(mounted, key=len)
                value = str(paths[path]) + value[len(path) :]
            env[entry["name"]] = value
        for key, value in env.items():  # Services by their DNS names: here, this machine
            for address, local in self.addresses.items():
                value = value.replace(f"@{address}", f"@{local}").replace(f"//{address}", f"//{local}")
            for service in self.services:
                value = value.replace(f"//{service}:", f"//{LOCAL}:")
            env[key] = value
        for key in ("HOST", "METRICS_HOST", "GRPC_HOST"):
            if env.get(key) == POD_ADDRESS:
                env[key] = LOCAL
        if "METRICS_PORT" in env:  # every pod has its own address; here each gets its own port
            ports["metrics"] = free_port()
            env["METRICS_PORT"] = str(ports["metrics"])
        component = workload["metadata"]["labels"]["app.kubernetes.io/component"]
        base = {k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH", "LANG", "HOME")}
        return LocalPod(
            f"{name}-{container['name']}", component, container["args"], {**base, **env}, ports, container
        )

    def _mount(self, volume: dict[str, Any], local: Path) -> Path:
        """A folder holding what `volume` mounts (ConfigMap or Secret items, or an empty dir)."""
        local.mkdir(parents=True, exist_ok=True)
        if "configMap" in volume:
            for key, text in self.config_maps[volume["configMap"]["name"]].items():
                (local / key).write_text(text)
        elif "secret" in volume:
            data = self.secrets[volume["secret"]["secretName"]]
            for item in volume["secret"].get("items", [{"key": k, "path": k} for k in data]):
                (local / item["path"]).write_text(data[item["key"]])
        return local


def stop(pods: list[LocalPod], grace_s: float = 20.0) -> None:
    """SIGTERM every running pod (as the kubelet does), SIGKILL what outlives `grace_s`."""
    running = [p.process for p in pods if p.process is not None and p.process.poll() is None]
    for process in running:
        process.terminate()
    for process in running:
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
