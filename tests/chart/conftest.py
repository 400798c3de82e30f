"""Rendering charts/exchange with the real helm binary (build/tools/helm, fetched by `make`)."""

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "exchange"
SIX_MARKETS = CHART / "ci" / "six-markets-values.yaml"
HELM = ROOT / "build" / "tools" / "helm"
RELEASE = "rel"

Manifest = dict[str, Any]


def helm_binary() -> Path:
    if not HELM.exists():
        subprocess.run(["make", "-C", str(ROOT), "build/tools/helm"], check=True, capture_output=True)
    return HELM


def helm_template(*args: str, release: str = RELEASE) -> subprocess.CompletedProcess[str]:
    """`helm template <release> charts/exchange <args>`, not checked."""
    command = [str(helm_binary()), "template", release, str(CHART), "--namespace", "exchange", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def render(*args: str, release: str = RELEASE) -> list[Manifest]:
    """Every manifest `helm template` renders with `args` (-f FILE, --set K=V)."""
    done = helm_template(*args, release=release)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def by_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def component(manifest: Manifest) -> str:
    return str(manifest["metadata"]["labels"].get("app.kubernetes.io/component", ""))


def pod_spec(workload: Manifest) -> dict[str, Any]:
    """The pod spec of a Pod, or of the pod template of a Deployment, StatefulSet or Job."""
    spec: dict[str, Any] = (
        workload["spec"] if workload["kind"] == "Pod" else workload["spec"]["template"]["spec"]
    )
    return spec


def pod_specs(manifests: list[Manifest]) -> Iterator[tuple[Manifest, dict[str, Any]]]:
    """(workload, its pod spec) for every Deployment, StatefulSet, Job and Pod."""
    for m in manifests:
        if m["kind"] in ("Deployment", "StatefulSet", "Job", "Pod"):
            yield m, pod_spec(m)


def containers(spec: dict[str, Any], init: bool = True) -> list[dict[str, Any]]:
    return [*spec["containers"], *(spec.get("initContainers", []) if init else [])]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """name -> value (a string) or valueFrom (a dict)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@pytest.fixture(scope="session")
def defaults() -> list[Manifest]:
    return render()


@pytest.fixture(scope="session")
def six_markets() -> list[Manifest]:
    return render("-f", str(SIX_MARKETS))


@pytest.fixture(scope="session", params=["defaults", "six-markets"])
def rendered(request: pytest.FixtureRequest) -> list[Manifest]:
    """Both renderings the chart check covers: default values and six markets."""
    fixture = "defaults" if request.param == "defaults" else "six_markets"
    manifests: list[Manifest] = request.getfixturevalue(fixture)
    return manifests
