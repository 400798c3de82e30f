"""Production settings the chart renders (issue 15, finding 16): the gateway's /metrics apart from
its public port and the Ingress, Redis with a password, a memory bound that refuses writes and a
readiness that waits for the AOF to load, engines started only once recovered, a Fernet key of
32 random bytes, and numeric image tags."""

import base64
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

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

UNITS = {"kb": 1024, "mb": 1024**2, "gb": 1024**3, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}


def _bytes(quantity: str) -> int:
    for unit, size in UNITS.items():
        if quantity.endswith(unit):
            return int(quantity[: -len(unit)]) * size
    return int(quantity)


def _workload(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    (found,) = [m for m in by_kind(manifests, kind) if component(m) == name]
    return found


def _container(workload: Manifest) -> dict[str, Any]:
    first: dict[str, Any] = workload["spec"]["template"]["spec"]["containers"][0]
    return first


def test_gateway_metrics_are_on_their_own_port_which_no_service_or_ingress_routes(
    six_markets: list[Manifest],
) -> None:
    gateway = _container(_workload(six_markets, "Deployment", "gateway"))
    ports = {p["name"]: p["containerPort"] for p in gateway["ports"]}
    assert env_of(gateway)["METRICS_PORT"] == str(ports["metrics"]) and ports["metrics"] != ports["http"]
    (service,) = [s for s in by_kind(six_markets, "Service") if component(s) == "gateway"]
    assert "metrics" not in [p["targetPort"] for p in service["spec"]["ports"]]
    assert ports["metrics"] not in [p["port"] for p in service["spec"]["ports"]]
    (ingress,) = by_kind(six_markets, "Ingress")
    for path in ingress["spec"]["rules"][0]["http"]["paths"]:
        assert path["backend"]["service"]["port"]["number"] != ports["metrics"]
    (pod_monitor,) = by_kind(six_markets, "PodMonitor")
    assert "gateway" in pod_monitor["spec"]["selector"]["matchExpressions"][1]["values"]
    assert [e["port"] for e in pod_monitor["spec"]["podMetricsEndpoints"]] == ["metrics"]
    (service_monitor,) = by_kind(six_markets, "ServiceMonitor")
    assert "gateway" not in service_monitor["spec"]["selector"]["matchExpressions"][1]["values"]


def test_redis_wants_the_password_of_the_secret_and_every_client_sends_it(defaults: list[Manifest]) -> None:
    redis = _container(_workload(defaults, "StatefulSet", "redis"))
    args = redis["args"]
    assert args[args.index("--requirepass") + 1] == "$(REDIS_PASSWORD)"
    secret_ref = env_of(redis)["REDIS_PASSWORD"]["secretKeyRef"]
    assert secret_ref == {"name": "rel-exchange-secrets", "key": "REDIS_PASSWORD"}
    assert env_of(redis)["REDISCLI_AUTH"] == "$(REDIS_PASSWORD)"  # the probes' redis-cli
    (secret,) = by_kind(defaults, "Secret")
    assert len(base64.b64decode(secret["data"]["REDIS_PASSWORD"])) == 32
    clients = 0
    for _, spec in pod_specs(defaults):
        for container in containers(spec):
            names = [e["name"] for e in container.get("env", [])]
            if "REDIS_URL" not in names:
                continue
            clients += 1
            url = env_of(container)["REDIS_URL"]
            assert url.startswith("redis://:$(REDIS_PASSWORD)@rel-exchange-redis:6379/"), container["name"]
            # $(VAR) expands only from variables defined before it.
            assert names.index("REDIS_PASSWORD") < names.index("REDIS_URL"), container["name"]
    assert clients >= 5


def test_an_external_redis_url_is_left_as_given() -> None:
    manifests = render("--set", "redis.mode=external", "--set", "redis.external.url=redis://:pw@r:6379/0")
    assert not [m for m in by_kind(manifests, "StatefulSet") if component(m) == "redis"]
    gateway = _container(_workload(manifests, "Deployment", "gateway"))
    assert env_of(gateway)["REDIS_URL"] == "redis://:pw@r:6379/0" and "REDIS_PASSWORD" not in env_of(gateway)


def test_redis_refuses_writes_at_a_maxmemory_under_its_memory_limit(defaults: list[Manifest]) -> None:
    redis = _container(_workload(defaults, "StatefulSet", "redis"))
    args = redis["args"]
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    maxmemory = _bytes(args[args.index("--maxmemory") + 1])
    limit = _bytes(redis["resources"]["limits"]["memory"])
    assert 0 < maxmemory <= limit * 0.8, (maxmemory, limit)  # room for the AOF rewrite's fork
    done = helm_template("--set", "redis.maxmemory=lots")
    assert done.returncode != 0 and "maxmemory" in done.stderr


def _readiness(redis: dict[str, Any], answer: str, tmp_path: Path) -> int:
    """The exit status of the readiness command with a redis-cli that answers `answer` to ping
    (the real Redis cannot be held in its LOADING state on demand)."""
    fake = tmp_path / "redis-cli"
    fake.write_text(f"#!/bin/sh\necho '{answer}'\n")  # redis-cli prints replies and exits 0
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    command = redis["readinessProbe"]["exec"]["command"]
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    return subprocess.run(command, env=env, timeout=10).returncode


def test_redis_is_not_ready_while_it_loads_its_append_only_file(
    defaults: list[Manifest], tmp_path: Path
) -> None:
    redis = _container(_workload(defaults, "StatefulSet", "redis"))
    assert _readiness(redis, "PONG", tmp_path) == 0
    assert _readiness(redis, "LOADING Redis is loading the dataset in memory", tmp_path) != 0
    assert _readiness(redis, "NOAUTH Authentication required.", tmp_path) != 0
    assert redis["livenessProbe"]["exec"]["command"] == ["redis-cli", "ping"]  # a long load is alive


def test_engines_have_started_only_once_recovered(six_markets: list[Manifest]) -> None:
    engines = [m for m in by_kind(six_markets, "StatefulSet") if component(m) == "engine"]
    assert len(engines) == 6
    for engine in engines:
        probe = _container(engine)["startupProbe"]["httpGet"]
        assert probe == {"path": "/readyz", "port": "metrics"}  # ready: recovered or standing by


def test_the_fernet_key_is_32_random_bytes() -> None:
    keys = set()
    for _ in range(3):
        (secret,) = by_kind(render(), "Secret")
        key = base64.b64decode(secret["data"]["SECRET_KEY"])
        Fernet(key)  # raises unless urlsafe base64 of 32 bytes
        raw = base64.urlsafe_b64decode(key)
        assert len(raw) == 32
        # randAscii made 32 printable characters: (95/256)^32 ~ 1e-14 for random bytes.
        assert not all(32 <= b < 127 for b in raw)
        keys.add(key)
    assert len(keys) == 3
    template = (CHART / "templates" / "secret.yaml").read_text()
    assert "randAscii" not in template


@pytest.mark.parametrize(
    ("values", "image"),
    [
        ("image:\n  tag: 42\n", "exchange:42"),
        ("image:\n  tag: 20240101\n", "exchange:20240101"),
        ("image:\n  tag: 1.5\n", "exchange:1.5"),
        ('image:\n  tag: "1.10"\n', "exchange:1.10"),
        ("redis:\n  image:\n    tag: 7.2\n", "redis:7.2"),
    ],
)
def test_numeric_image_tags_are_accepted_as_written(values: str, image: str, tmp_path: Path) -> None:
    file = tmp_path / "values.yaml"
    file.write_text(values)
    images = {c["image"] for _, spec in pod_specs(render("-f", str(file))) for c in containers(spec)}
    assert image in images
    if image.startswith("exchange:"):
        assert {i for i in images if i.startswith("exchange:")} == {image}


def test_a_numeric_tag_given_on_the_command_line_is_accepted() -> None:
    images = {c["image"] for _, spec in pod_specs(render("--set", "image.tag=42")) for c in containers(spec)}
    assert "exchange:42" in images
