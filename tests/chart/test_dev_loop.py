"""The image and the dev loop around the chart (Dockerfile, skaffold.yaml, k8s/), checked for
consistency with the chart and the code, as far as it can be without Docker or a cluster."""

from pathlib import Path

import dockerfile
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


def instructions() -> list[dockerfile.Command]:
    """The Dockerfile as Docker's own parser reads it (a syntax error raises)."""
    return list(dockerfile.parse_file(str(DOCKERFILE)))


def final_stage() -> list[dockerfile.Command]:
    commands = instructions()
    last_from = max(i for i, c in enumerate(commands) if c.cmd == "FROM")
    return commands[last_from:]


def test_every_container_of_the_image_runs_a_module_that_exists(defaults: list[Manifest]) -> None:
    """The image's entrypoint is `python -m`: a container's first argument is the module (the
    defaults, and the market maker that is off beside the market simulation)."""
    (entrypoint,) = [c for c in final_stage() if c.cmd == "ENTRYPOINT"]
    assert entrypoint.value == ("python", "-m") and entrypoint.json
    modules = set()
    for _, spec in pod_specs(defaults + render("--set", "marketmaker.enabled=true")):
        for container in [*spec["containers"], *spec.get("initContainers", [])]:
            if container["image"].startswith("exchange:"):
                modules.add(container["args"][0])
    assert modules == {
        "gateway", "ws", "engine", "settlement", "dbwriter", "marketmaker", "marketsim", "launcher.bootstrap",
        "launcher.smoke",
    }  # fmt: skip
    assert all(runnable(module) for module in modules), modules


def test_the_image_runs_as_the_user_the_chart_expects_with_the_web_page() -> None:
    stage = final_stage()
    (user,) = [c.value[0] for c in stage if c.cmd == "USER"]
    uid, gid = (int(part) for part in user.split(":"))
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert (uid, gid) == (
        values["podSecurityContext"]["runAsUser"],
        values["podSecurityContext"]["runAsGroup"],
    )
    assert uid != 0
    env = {}
    for command in stage:
        if command.cmd == "ENV":
            env.update(zip(command.value[::2], command.value[1::2], strict=True))
    copies = [(c.flags, c.value) for c in stage if c.cmd == "COPY"]
    assert (("--from=web",), ("/web/dist", env["WEB_DIR"])) in copies
    assert env["PYTHONPATH"] == "/app/services"
    assert (("--from=build",), ("/src/services", "/app/services")) in copies
    assert not [c for c in stage if c.cmd == "RUN" and ("gcc" in c.value[0] or "npm" in c.value[0])]


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    """Every COPY from the context names a path the .dockerignore lets through (web/ comes from
    the web page's own package)."""
    sources = [src for c in instructions() if c.cmd == "COPY" and not c.flags for src in c.value[:-1]]
    assert {"requirements/runtime.lock", "requirements/codegen.lock", "services/", "protos/"} <= set(sources)
    allowed = [line[1:] for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")]
    for source in sources:
        assert any(source.startswith(a) for a in allowed), source
        if not source.startswith("web/"):
            assert (ROOT / source).exists(), source


def test_every_pip_install_of_the_image_is_from_a_lock_with_hashes() -> None:
    installs = [c.value[0] for c in instructions() if c.cmd == "RUN" and "pip install" in c.value[0]]
    assert len(installs) == 2
    for run in installs:
        (command,) = [part for part in run.split("&&") if "pip install" in part]
        assert command.split()[-3:-1] == ["--require-hashes", "-r"] and command.endswith(".lock"), command


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
