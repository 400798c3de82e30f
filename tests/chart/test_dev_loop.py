"""The image and the dev loop around the chart (Dockerfile, skaffold.yaml, k8s/), checked for
consistency with the chart and the code, as far as it can be without Docker or a cluster."""

import re
from pathlib import Path

import kubernetes_validate
import yaml

from tests.chart.conftest import CHART, ROOT, Manifest, by_kind, pod_specs, render
from tests.chart.test_manifests import KUBERNETES_VERSION

DOCKERFILE = ROOT / "Dockerfile"


def runnable(module: str) -> bool:
    """Whether `python -m module` names a module of services/ that runs as a program."""
    path = ROOT / "services" / Path(*module.split("."))
    return (path / "__main__.py").is_file() or (
        path.with_suffix(".py").is_file() and "__main__" in path.with_suffix(".py").read_text()
    )


def test_every_container_of_the_image_runs_a_module_that_exists(defaults: list[Manifest]) -> None:
    """The image's entrypoint is `python -m`: a container's first argument is the module."""
    assert 'ENTRYPOINT ["python", "-m"]' in DOCKERFILE.read_text()
    modules = set()
    for _, spec in pod_specs(defaults):
        for container in [*spec["containers"], *spec.get("initContainers", [])]:
            if container["image"].startswith("exchange:"):
                modules.add(container["args"][0])
    assert modules == {
        "gateway", "ws", "engine", "settlement", "dbwriter", "marketmaker", "launcher.bootstrap",
    }  # fmt: skip
    assert all(runnable(module) for module in modules), modules


def test_the_image_runs_as_the_user_the_chart_expects() -> None:
    text = DOCKERFILE.read_text()
    final_stage = text.rsplit("\nFROM ", 1)[1]
    (user,) = re.findall(r"^USER (\d+):(\d+)$", final_stage, re.MULTILINE)
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert (int(user[0]), int(user[1])) == (
        values["podSecurityContext"]["runAsUser"],
        values["podSecurityContext"]["runAsGroup"],
    )
    assert int(user[0]) != 0
    assert "WEB_DIR=/app/web" in final_stage and "COPY --from=web /web/dist /app/web" in final_stage


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    """Every COPY from the context names a path the .dockerignore lets through (web/ comes from
    the web page's own package)."""
    sources = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    assert "pyproject.toml" in sources and "services/" in sources and "protos/" in sources
    allowed = [line[1:] for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")]
    for source in sources:
        assert any(source.startswith(a) for a in allowed), source
        if not source.startswith("web/"):
            assert (ROOT / source).exists(), source


def test_skaffold_builds_the_image_the_chart_deploys_with_the_dev_values() -> None:
    config = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
    (artifact,) = config["build"]["artifacts"]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert artifact["image"] == values["image"]["repository"]
    assert (ROOT / artifact["docker"]["dockerfile"]).resolve() == DOCKERFILE
    (release,) = config["deploy"]["helm"]["releases"]
    assert (ROOT / release["chartPath"]).resolve() == CHART
    for key in release["setValueTemplates"]:
        section, field = key.split(".")
        assert field in values[section]
    args = [arg for f in release["valuesFiles"] for arg in ("-f", str(ROOT / f))]
    manifests = render(*args, release=release["name"])
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    services = {s["metadata"]["name"] for s in by_kind(manifests, "Service")}
    for forward in config["portForward"]:
        assert forward["resourceName"] in services
    assert not by_kind(manifests, "HorizontalPodAutoscaler")


def test_the_kind_cluster_maps_the_ingress_ports_to_localhost_only() -> None:
    cluster = yaml.safe_load((ROOT / "k8s" / "kind-config.yaml").read_text())
    (node,) = cluster["nodes"]
    mappings = {m["hostPort"]: m for m in node["extraPortMappings"]}
    assert set(mappings) == {80, 443}
    assert all(m["listenAddress"] == "127.0.0.1" for m in mappings.values())
    assert "ingress-ready=true" in node["kubeadmConfigPatches"][0]
