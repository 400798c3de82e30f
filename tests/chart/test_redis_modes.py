"""redis.mode: single (one Redis StatefulSet of this chart), cluster (a Redis Cluster from the
vendored Bitnami redis-cluster dependency) and external (an address given): what each renders,
every client's REDIS_URL, the deprecated redis.bundled, and the combinations refused with a message.
tests/chart/test_cluster_pods.py runs the cluster mode's pods against a real Redis Cluster."""

import base64
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.chart.conftest import (
    CHART,
    Manifest,
    by_kind,
    component,
    containers,
    env_of,
    helm_template,
    pod_specs,
    render,
)
from tests.chart.test_manifests import KUBERNETES_VERSION, effective

CLUSTER = ("-f", str(CHART / "ci" / "redis-cluster-values.yaml"))  # the values `make chart-lint` lints
CLUSTER_NAME = "rel-redis-cluster"
CLUSTER_URL = f"redis+cluster://:$(REDIS_PASSWORD)@{CLUSTER_NAME}-headless:6379"
PASSWORD_REF = {"name": CLUSTER_NAME, "key": "redis-password"}


@pytest.fixture(scope="module")
def cluster_mode() -> list[Manifest]:
    return render(*CLUSTER)


def redis_clients(manifests: list[Manifest]) -> list[tuple[str, dict[str, Any], list[str]]]:
    """(workload/container, env, env names in order) of every container given a REDIS_URL."""
    clients = []
    for workload, spec in pod_specs(manifests):
        for container in containers(spec):
            names = [e["name"] for e in container.get("env", [])]
            if "REDIS_URL" in names:
                where = f"{workload['metadata']['name']}/{container['name']}"
                clients.append((where, env_of(container), names))
    return clients


def named(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    (manifest,) = [m for m in by_kind(manifests, kind) if m["metadata"]["name"] == name]
    return manifest


def the_cluster_chart(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m["metadata"]["name"].startswith(CLUSTER_NAME)]


def test_single_is_the_default_and_the_deprecated_bundled_true_renders_the_same(
    defaults: list[Manifest],
) -> None:
    assert yaml.safe_load((CHART / "values.yaml").read_text())["redis"]["mode"] == "single"
    (redis,) = [m for m in by_kind(defaults, "StatefulSet") if component(m) == "redis"]
    assert redis["spec"]["replicas"] == 1
    assert not the_cluster_chart(defaults)
    clients = redis_clients(defaults)
    assert len(clients) >= 10
    for where, env, _ in clients:
        assert env["REDIS_URL"] == "redis://:$(REDIS_PASSWORD)@rel-exchange-redis:6379/0", where
    given = ("--set", "secrets.existingSecret=given")  # no generated (random) Secret to differ
    assert render("--set", "redis.bundled=true", *given) == render(*given)


def test_cluster_mode_renders_the_bitnami_cluster_and_no_single_redis(cluster_mode: list[Manifest]) -> None:
    assert not [m for m in cluster_mode if component(m) == "redis"]
    assert "rel-exchange-redis" not in [p["metadata"]["name"] for p in by_kind(cluster_mode, "NetworkPolicy")]
    nodes = named(cluster_mode, "StatefulSet", CLUSTER_NAME)
    assert nodes["metadata"]["labels"]["helm.sh/chart"] == "redis-cluster-13.0.4"
    assert nodes["spec"]["replicas"] == 6
    (redis,) = nodes["spec"]["template"]["spec"]["containers"]
    env = env_of(redis)
    assert len(env["REDIS_NODES"].split()) == 6
    assert env["REDIS_AOF_ENABLED"] == "yes"
    headless = named(cluster_mode, "Service", f"{CLUSTER_NAME}-headless")
    assert headless["spec"]["clusterIP"] == "None"
    assert {"name": "tcp-redis", "port": 6379, "targetPort": "tcp-redis"} in headless["spec"]["ports"]
    assert nodes["spec"]["serviceName"] == headless["metadata"]["name"]
    config = named(cluster_mode, "ConfigMap", f"{CLUSTER_NAME}-default")
    appended = config["data"]["redis-default.conf"].splitlines()[-3:]
    assert appended == ["appendfsync everysec", "maxmemory 1536mb", "maxmemory-policy noeviction"]
    assert redis["resources"]["limits"] == {"cpu": "1", "memory": "2Gi"}


def test_in_cluster_mode_every_client_reaches_the_cluster_with_its_password(
    cluster_mode: list[Manifest],
) -> None:
    secret = named(cluster_mode, "Secret", CLUSTER_NAME)
    assert len(base64.b64decode(secret["data"]["redis-password"])) >= 10
    clients = redis_clients(cluster_mode)
    assert len(clients) >= 10
    assert {where.split("/")[0] for where, _, _ in clients} >= {
        "rel-exchange-gateway", "rel-exchange-ws", "rel-exchange-settlement", "rel-exchange-dbwriter",
        "rel-exchange-bootstrap-1", "rel-exchange-marketsim", "rel-exchange-engine-btcusdt",
    }  # fmt: skip
    for where, env, names in clients:
        assert env["REDIS_URL"] == CLUSTER_URL, where
        assert env["REDIS_PASSWORD"] == {"secretKeyRef": PASSWORD_REF}, where
        assert names.index("REDIS_PASSWORD") < names.index("REDIS_URL"), where  # $(VAR) expands from before


def test_cluster_mode_manifests_are_valid_kubernetes_and_the_nodes_run_unprivileged(
    cluster_mode: list[Manifest],
) -> None:
    for manifest in cluster_mode:
        if manifest["kind"] not in ("ServiceMonitor", "PodMonitor", "PrometheusRule"):
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    nodes = named(cluster_mode, "StatefulSet", CLUSTER_NAME)
    spec = nodes["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False
    for container in containers(spec):
        assert effective(spec, container, "runAsNonRoot") is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_a_cluster_of_your_own_secret_and_name_is_followed() -> None:
    manifests = render(
        *CLUSTER, "--set", "redis-cluster.fullnameOverride=kv",
        "--set", "redis-cluster.existingSecret=kv-auth",
        "--set", "redis-cluster.existingSecretPasswordKey=pw",
    )  # fmt: skip
    assert [m["metadata"]["name"] for m in by_kind(manifests, "StatefulSet") if not component(m)] == ["kv"]
    for where, env, _ in redis_clients(manifests):
        assert env["REDIS_URL"] == "redis+cluster://:$(REDIS_PASSWORD)@kv-headless:6379", where
        assert env["REDIS_PASSWORD"] == {"secretKeyRef": {"name": "kv-auth", "key": "pw"}}, where


@pytest.mark.parametrize(
    "url",
    [
        "redis://:pw@cache.example:6379/2",
        "redis+cluster://:pw@kv-0.kv.example:6379",
        "rediss+cluster://kv:6380",
    ],
)
def test_external_mode_passes_a_redis_or_cluster_url_as_given(url: str) -> None:
    manifests = render("--set", "redis.mode=external", "--set", f"redis.external.url={url}")
    assert not [m for m in manifests if component(m) == "redis"] and not the_cluster_chart(manifests)
    clients = redis_clients(manifests)
    assert len(clients) >= 10
    for where, env, _ in clients:
        assert env["REDIS_URL"] == url and "REDIS_PASSWORD" not in env, where


def test_external_mode_from_a_secret_and_the_deprecated_bundled_false() -> None:
    from_secret = render("--set", "redis.mode=external", "--set", "redis.external.secretName=kv")
    for where, env, _ in redis_clients(from_secret):
        assert env["REDIS_URL"] == {"secretKeyRef": {"name": "kv", "key": "REDIS_URL"}}, where
    url = ("--set", "redis.external.url=redis://c:6379/0", "--set", "secrets.existingSecret=given")
    assert render("--set", "redis.bundled=false", *url) == render("--set", "redis.mode=external", *url)


EXTERNAL = ("--set", "redis.mode=external")
REFUSED = [
    (["--set", "redis.mode=sharded"],
     "at '/redis/mode': value must be one of 'single', 'cluster', 'external'"),
    (["--set", "redis.mode=cluster"], "redis.mode: cluster needs redis-cluster.enabled: true"),
    (["--set", "redis-cluster.enabled=true"],
     "redis-cluster.enabled: true needs redis.mode: cluster (it is single)"),
    ([*CLUSTER, "--set", "redis.bundled=true"],
     "redis.bundled: true (deprecated) contradicts redis.mode: cluster"),
    ([*CLUSTER, "--set", "redis.bundled=false"],
     "redis.bundled: false (deprecated) contradicts redis.mode: cluster"),
    ([*EXTERNAL, "--set", "redis.bundled=true"], "contradicts redis.mode: external"),
    ([*EXTERNAL], "redis.external.url (or redis.external.secretName) is required"),
    ([*EXTERNAL, "--set", "redis.external.url=cache.example:6379"], "at '/redis/external/url'"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), REFUSED)
def test_contradicting_or_incomplete_redis_values_are_refused(args: list[str], message: str) -> None:
    done = helm_template(*args)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr
