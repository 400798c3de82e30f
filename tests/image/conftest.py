"""The image, built from the repository's Dockerfile on substitute bases (tests/image/bases.py),
and the chart's pods run from it as podman containers under the chart's security context, against
this machine's Redis and PostgreSQL (a database and a key prefix of their own).

The chart is rendered with one market and its pods are mapped onto this machine as
tests/chart/pods.py maps them onto processes (host network: every address is 127.0.0.1, every port a
free one); each container gets the pod's command, environment and volumes (ConfigMap and Secret
mounts read-only, emptyDir as a tmpfs). Everything the run made is removed at the end, on failure too.
"""

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests import services
from tests.chart.conftest import Manifest, by_kind, component, pod_spec
from tests.chart.pods import Cluster, LocalPod, render_for_this_machine
from tests.image import bases
from tests.image.podman import (
    LABEL,
    RUNTIME,
    build,
    conmon_of,
    containers_of,
    image_exists,
    image_size,
    podman,
    remove_run,
)

ROOT = Path(__file__).resolve().parents[2]
RUN = uuid.uuid4().hex[:10]
IMAGE = f"localhost/exchange-image-check:{RUN}"
PYTHON_BASE = f"localhost/exchange-image-check-python:{RUN}"
NODE_BASE = f"localhost/exchange-image-check-node:{RUN}"
SYMBOL = "BTCUSDT"
START_ORDER = ["engine", "settlement", "gateway", "ws", "dbwriter", "marketmaker", "marketsim"]
# The chart's pod and container security context, as podman flags.
SECURITY = ["--user", "10001:10001", "--read-only", "--cap-drop=ALL", "--security-opt", "no-new-privileges"]
READY_S = 180.0


@dataclass
class Container:
    """One container of a rendered pod, run by podman."""

    name: str
    pod: LocalPod
    grace_s: int
    started: float = 0.0
    ready_after_s: float | None = None

    @property
    def component(self) -> str:
        return self.pod.component

    def url(self, path: str) -> str:
        """`path` on the port of the pod's readiness probe."""
        port = self.pod.container["readinessProbe"]["httpGet"]["port"]
        return f"http://127.0.0.1:{self.pod.ports[port]}{path}"

    def logs(self) -> str:
        """The tail of what the container wrote (standard output and error)."""
        done = subprocess.run(
            ["podman", "logs", "--tail", "60", self.name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        return done.stdout.decode(errors="replace")


@dataclass
class Deployment:
    cluster: Cluster
    containers: list[Container]

    def one(self, component: str) -> Container:
        (found,) = [c for c in self.containers if c.component == component]
        return found

    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.one('gateway').pod.ports['http']}"


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The image (a tag of this run's own), removed at the end with the substitute bases."""
    log = tmp_path_factory.mktemp("build") / "buildah.log"
    try:
        started = time.monotonic()
        python_tar, node_tar = bases.rootfs_tarballs()
        bases.import_image(python_tar, PYTHON_BASE)
        bases.import_image(node_tar, NODE_BASE)
        print(f"\nsubstitute bases ready in {time.monotonic() - started:.0f} s: {PYTHON_BASE}, {NODE_BASE}")
        seconds = build(ROOT, IMAGE, {"PYTHON_IMAGE": PYTHON_BASE, "NODE_IMAGE": NODE_BASE}, log)
        print(f"image {IMAGE} built in {seconds:.0f} s: {image_size(IMAGE) / 1e6:.0f} MB")
        yield IMAGE
    finally:
        remove_run(RUN, [IMAGE, PYTHON_BASE, NODE_BASE])
        left = [name for name in (IMAGE, PYTHON_BASE, NODE_BASE) if image_exists(name)]
        assert left == [], f"images left behind: {left}"
        assert (
            RUN
            not in subprocess.run(["buildah", "containers", "--all"], capture_output=True, text=True).stdout
        )


def _mounts(cluster: Cluster, workload: Manifest, pod: LocalPod) -> tuple[list[str], dict[str, str]]:
    """podman flags mounting the pod's volumes, and the pod's environment with the container's
    paths (tests/chart/pods.py points it at the local folders that hold each volume)."""
    volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
    names = [entry["name"] for entry in pod.container.get("env", [])]
    env = {name: pod.env[name] for name in names if name in pod.env}  # an absent optional key sets nothing
    flags: list[str] = []
    for mount in pod.container.get("volumeMounts", []):
        local = cluster.root / workload["metadata"]["name"] / mount["name"]
        if "emptyDir" in volumes[mount["name"]]:
            flags += ["--tmpfs", f"{mount['mountPath']}:rw,mode=1777"]
        else:
            flags += ["--volume", f"{local}:{mount['mountPath']}:ro"]
        for name, value in env.items():
            if value == str(local) or value.startswith(f"{local}/"):
                env[name] = mount["mountPath"] + value[len(str(local)) :]
    return flags, env


def start(cluster: Cluster, workload: Manifest, pod: LocalPod, suffix: str = "") -> Container:
    """`podman run -d` the pod's container (host network, the chart's security context)."""
    name = f"{LABEL}-{RUN}-{pod.name}{suffix}"
    flags, env = _mounts(cluster, workload, pod)
    grace = int(pod_spec(workload).get("terminationGracePeriodSeconds", 30))
    container = Container(name, pod, grace)
    container.started = time.monotonic()
    podman(
        "run", "--detach", "--name", name, "--label", f"{LABEL}={RUN}", *RUNTIME, *SECURITY,
        "--network", "host", "--stop-timeout", str(grace), *flags,
        *[arg for key in env for arg in ("--env", key)], IMAGE, *pod.args,
        env={**os.environ, **env},
    )  # fmt: skip
    return container


def run_to_end(cluster: Cluster, workload: Manifest, pod: LocalPod, suffix: str = "") -> tuple[int, str]:
    """Run a Job's or an init container to its end: (exit code, its output's tail)."""
    container = start(cluster, workload, pod, suffix)
    code = int(podman("wait", container.name, timeout_s=180))
    return code, container.logs()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(containers: list[Container]) -> None:
    """Until every container's /readyz answers 200; records how long each took from its start."""
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        waiting = [c for c in containers if c.ready_after_s is None]
        if not waiting:
            return
        for container in waiting:
            if _answers(container.url("/readyz")):
                container.ready_after_s = time.monotonic() - container.started
        time.sleep(0.1)
    for container in containers:
        print(f"== {container.name}\n{container.logs()}")
    late = [c.name for c in containers if c.ready_after_s is None]
    raise AssertionError(f"/readyz not 200 within {READY_S:.0f} s: {late}")


@pytest.fixture(scope="module")
def deployment(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The bootstrap Job, then every workload in turn (its init containers, then its container,
    until /readyz answers 200, so that each start time is the service's own)."""
    services.ensure_redis()
    services.ensure_postgres()
    root = tmp_path_factory.mktemp("image-pods")
    prefix = services.new_prefix()
    dsn = services.PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/exchange_image_{RUN}"
    try:
        manifests = render_for_this_machine(root, [SYMBOL], prefix, dsn)
        cluster = Cluster(manifests, root)
        (job,) = by_kind(manifests, "Job")
        (bootstrap,) = cluster.pods(job)
        code, output = run_to_end(cluster, job, bootstrap)
        assert code == 0, output
        workloads = [m for m in manifests if m["kind"] in ("Deployment", "StatefulSet")]
        running: list[Container] = []
        for workload in sorted(workloads, key=lambda m: START_ORDER.index(component(m))):
            for init in cluster.pods(workload, init=True):
                code, output = run_to_end(cluster, workload, init)
                assert code == 0, output
            started = [start(cluster, workload, pod) for pod in cluster.pods(workload)]
            wait_ready(started)
            running += started
        print("\nstart (podman run -> /readyz 200):")
        for container in running:
            print(f"  {container.component:12} {container.ready_after_s:5.1f} s")
        yield Deployment(cluster, running)
    finally:
        remove_run(RUN, [])
        asyncio.run(services.delete_prefix(prefix))
        asyncio.run(services.drop_test_database(dsn))
        assert containers_of(RUN) == [], "containers left behind"
        assert conmon_of(RUN) == [], "conmon processes left behind"


def smoke_pod(deployment: Deployment) -> tuple[Manifest, LocalPod]:
    """The chart's `helm test` pod."""
    (manifest,) = [m for m in by_kind(deployment.cluster.manifests, "Pod") if component(m) == "smoke-test"]
    (pod,) = deployment.cluster.pods(manifest)
    return manifest, pod
