"""The rendered chart (default values and six markets) is valid Kubernetes and holds the rules:
one engine workload per market, probes and resources on every container, nobody runs as root,
Services and the Ingress reach real ports."""

import copy
import tomllib
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
    pod_specs,
    render,
)

# The Kubernetes version the manifests must be valid for (kind's node images of 2025-2026).
KUBERNETES_VERSION = "1.33.0"
PROMETHEUS_OPERATOR_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
LONG_RUNNING = ("Deployment", "StatefulSet")


def test_every_manifest_is_valid_against_the_kubernetes_schemas(rendered: list[Manifest]) -> None:
    """Strict: an unknown or misplaced field fails, not only a wrong type. The prometheus-operator
    kinds have no schema there; test_monitors_select_real_pods_and_ports and
    tests/chart/test_alert_rules.py check them."""
    checked = 0
    for manifest in rendered:
        if manifest["kind"] in PROMETHEUS_OPERATOR_KINDS:
            assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
            continue
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 25


def test_the_default_rendering_is_valid_on_the_oldest_supported_kubernetes(defaults: list[Manifest]) -> None:
    """Chart.yaml's kubeVersion (>= 1.27): no API the oldest supported cluster lacks."""
    oldest = (
        yaml.safe_load((CHART / "Chart.yaml").read_text())["kubeVersion"].removeprefix(">=").split("-")[0]
    )
    assert oldest == "1.27.0"
    for manifest in defaults:
        kubernetes_validate.validate(manifest, oldest, strict=True)


def test_the_validator_refuses_a_misplaced_field(defaults: list[Manifest]) -> None:
    gateway = next(m for m in by_kind(defaults, "Deployment") if component(m) == "gateway")
    broken = copy.deepcopy(gateway)
    broken["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {"tcpSocket": {"port": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def market_symbols(manifests: list[Manifest]) -> list[str]:
    (registry,) = [m for m in by_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("-markets")]
    return [market["symbol"] for market in tomllib.loads(registry["data"]["markets.toml"])["markets"]]


@pytest.mark.parametrize(("fixture", "count"), [("defaults", 4), ("six_markets", 6)])
def test_exactly_one_engine_workload_per_market(
    fixture: str, count: int, request: pytest.FixtureRequest
) -> None:
    manifests: list[Manifest] = request.getfixturevalue(fixture)
    symbols = market_symbols(manifests)
    assert len(symbols) == count
    engines = [m for m in manifests if component(m) == "engine" and m["kind"] in LONG_RUNNING]
    assert all(m["kind"] == "StatefulSet" for m in engines)  # stable pod names; leases pick the writer
    assert sorted(m["metadata"]["labels"]["exchange/market"] for m in engines) == sorted(symbols)
    for engine in engines:
        (container,) = engine["spec"]["template"]["spec"]["containers"]
        env = env_of(container)
        assert engine["spec"]["replicas"] == 1
        assert env["SYMBOL"] == engine["metadata"]["labels"]["exchange/market"]
        assert container["args"] == ["engine"]
        # SIGTERM: the engine finishes its batch and writes a snapshot before it exits.
        assert engine["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 30


def test_every_long_running_container_has_probes_on_a_port_it_serves(rendered: list[Manifest]) -> None:
    probed = 0
    for workload, spec in pod_specs(rendered):
        if workload["kind"] not in LONG_RUNNING:
            continue
        for container in containers(spec, init=False):
            ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            for probe in ("livenessProbe", "readinessProbe"):
                assert probe in container, f"{workload['metadata']['name']}/{container['name']}: no {probe}"
                http = container[probe].get("httpGet")
                if http is not None:
                    assert http["port"] in ports
                    assert http["path"] == ("/healthz" if probe == "livenessProbe" else "/readyz")
            probed += 1
    assert probed >= 11


def test_services_bind_every_interface_in_pods(defaults: list[Manifest]) -> None:
    """A probe from the kubelet reaches a process only if it binds 0.0.0.0, not 127.0.0.1."""
    for workload, spec in pod_specs(defaults):
        name = component(workload)
        if name in ("gateway", "ws"):
            assert env_of(spec["containers"][0])["HOST"] == "0.0.0.0"
            if name == "gateway":
                assert env_of(spec["containers"][0])["GRPC_HOST"] == "0.0.0.0"
        elif name in ("engine", "settlement", "dbwriter", "marketmaker", "marketsim"):
            env = env_of(spec["containers"][0])
            assert (env["METRICS_HOST"], env["METRICS_PORT"]) == ("0.0.0.0", "9100")


def test_every_container_has_resource_requests_and_limits(rendered: list[Manifest]) -> None:
    for workload, spec in pod_specs(rendered):
        for container in containers(spec):
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                assert set(resources.get(kind, {})) >= {"cpu", "memory"}, (
                    f"{workload['metadata']['name']}/{container['name']}: no {kind}"
                )


def effective(spec: dict[str, Any], container: dict[str, Any], field: str) -> Any:
    return container.get("securityContext", {}).get(field, spec.get("securityContext", {}).get(field))


def test_no_container_runs_as_root(rendered: list[Manifest]) -> None:
    count = 0
    for workload, spec in pod_specs(rendered):
        assert spec["automountServiceAccountToken"] is False, workload["metadata"]["name"]
        for container in containers(spec):
            where = f"{workload['metadata']['name']}/{container['name']}"
            assert effective(spec, container, "runAsNonRoot") is True, where
            assert effective(spec, container, "runAsUser") not in (None, 0), where
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, where
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], where
            count += 1
    assert count >= 14


def labels_of_pods(manifests: list[Manifest]) -> list[tuple[dict[str, str], dict[str, int]]]:
    """(pod labels, named container ports) of every workload's pod template."""
    pods = []
    for workload, spec in pod_specs(manifests):
        ports = {p["name"]: p["containerPort"] for c in spec["containers"] for p in c.get("ports", [])}
        metadata = (
            workload["metadata"] if workload["kind"] == "Pod" else workload["spec"]["template"]["metadata"]
        )
        pods.append((metadata["labels"], ports))
    return pods


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A label selector (matchLabels / matchExpressions with In, or a plain map) against labels."""
    match = selector.get("matchLabels", selector if "matchExpressions" not in selector else {})
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    return all(labels.get(e["key"]) in e["values"] for e in selector.get("matchExpressions", []))


def test_every_service_selects_pods_that_serve_its_target_ports(rendered: list[Manifest]) -> None:
    pods = labels_of_pods(rendered)
    for service in by_kind(rendered, "Service"):
        chosen = [ports for labels, ports in pods if selects(service["spec"]["selector"], labels)]
        assert chosen, f"{service['metadata']['name']} selects no pod"
        for port in service["spec"]["ports"]:
            assert all(port["targetPort"] in ports for ports in chosen), (service["metadata"]["name"], port)


def test_the_ingress_routes_the_page_and_rest_to_the_gateway_and_streams_to_ws(
    defaults: list[Manifest],
) -> None:
    (ingress,) = by_kind(defaults, "Ingress")
    services = {s["metadata"]["name"]: s for s in by_kind(defaults, "Service")}
    routes = {}
    for path in ingress["spec"]["rules"][0]["http"]["paths"]:
        backend = path["backend"]["service"]
        service = services[backend["name"]]
        assert backend["port"]["number"] in [p["port"] for p in service["spec"]["ports"]]
        routes[path["path"]] = component(service)
    assert routes == {"/": "gateway", "/api": "gateway", "/ws-api": "gateway", "/ws": "ws", "/stream": "ws"}
    gateway = next(m for m in by_kind(defaults, "Deployment") if component(m) == "gateway")
    assert env_of(gateway["spec"]["template"]["spec"]["containers"][0])["WS_PUBLIC_URL"] == "/"
    grpc = next(p for p in services["rel-exchange-gateway"]["spec"]["ports"] if p["name"] == "grpc")
    assert grpc["port"] == 50051


def test_gateway_and_ws_scale_and_keep_a_pod_through_disruptions(defaults: list[Manifest]) -> None:
    deployments = {m["metadata"]["name"]: m for m in by_kind(defaults, "Deployment")}
    for hpa in by_kind(defaults, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        assert "replicas" not in deployments[hpa["spec"]["scaleTargetRef"]["name"]]["spec"]
    assert sorted(component(m) for m in by_kind(defaults, "HorizontalPodAutoscaler")) == ["gateway", "ws"]
    pods = labels_of_pods(defaults)
    for pdb in by_kind(defaults, "PodDisruptionBudget"):
        assert any(selects(pdb["spec"]["selector"], labels) for labels, _ in pods)
    assert sorted(component(m) for m in by_kind(defaults, "PodDisruptionBudget")) == ["gateway", "ws"]
    for tier in (m for m in by_kind(defaults, "Deployment") if component(m) in ("gateway", "ws")):
        spec = tier["spec"]["template"]["spec"]
        (spread,) = spec["topologySpreadConstraints"]
        assert selects(spread["labelSelector"], tier["spec"]["template"]["metadata"]["labels"])
        assert spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
        assert spec["terminationGracePeriodSeconds"] > 5
    single = render("--set", "gateway.autoscaling.enabled=false", "--set", "gateway.replicas=1")
    assert sorted(component(m) for m in by_kind(single, "PodDisruptionBudget")) == ["ws"]


def test_single_consumers_never_overlap() -> None:
    """The market maker and the market simulation are one client each: the old pod stops (and
    cancels its orders) before the new one starts."""
    workers = {component(m): m for m in by_kind(render("--set", "marketmaker.enabled=true"), "Deployment")}
    for name in ("marketmaker", "marketsim"):
        assert workers[name]["spec"]["replicas"] == 1
        assert workers[name]["spec"]["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize(
    ("name", "count"), [("settlement", 1), ("settlement", 4), ("dbwriter", 1), ("dbwriter", 3)]
)
def test_market_workers_are_a_statefulset_of_the_configured_size(name: str, count: int) -> None:
    """Pod N of the StatefulSet is worker N of WORKERS (the ordinal of its host name); the
    markets' leases keep one writer per market whatever the pods do."""
    manifests = render("--set", f"{name}.workers={count}")
    assert not [m for m in by_kind(manifests, "Deployment") if component(m) == name]
    (workers,) = [m for m in by_kind(manifests, "StatefulSet") if component(m) == name]
    assert workers["spec"]["replicas"] == count
    (container,) = workers["spec"]["template"]["spec"]["containers"]
    assert env_of(container)["WORKERS"] == str(count)
    assert "WORKER_INDEX" not in env_of(container)
    services = {m["metadata"]["name"]: m for m in by_kind(manifests, "Service")}
    governing = services[workers["spec"]["serviceName"]]
    assert governing["spec"]["clusterIP"] == "None"
    assert selects(governing["spec"]["selector"], workers["spec"]["template"]["metadata"]["labels"])


def test_engines_may_run_a_hot_standby_per_market() -> None:
    manifests = render("--set", "engine.replicas=2")
    engines = [m for m in by_kind(manifests, "StatefulSet") if component(m) == "engine"]
    assert engines and all(m["spec"]["replicas"] == 2 for m in engines)


def test_redis_keeps_an_append_only_file_and_never_evicts(defaults: list[Manifest]) -> None:
    (redis,) = [m for m in by_kind(defaults, "StatefulSet") if component(m) == "redis"]
    args = redis["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--appendfsync") + 1] == "everysec"
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    assert redis["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"


def test_stores_are_reachable_only_from_the_release(defaults: list[Manifest]) -> None:
    policies = {p["metadata"]["name"]: p for p in by_kind(defaults, "NetworkPolicy")}
    pods = labels_of_pods(defaults)
    for store, port in (("redis", "redis"), ("timescaledb", "postgres")):
        policy = policies[f"rel-exchange-{store}"]
        ((rule,),) = [policy["spec"]["ingress"]]
        assert rule["ports"] == [{"port": port, "protocol": "TCP"}]
        (source,) = rule["from"]
        assert source["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "rel"
        assert "namespaceSelector" not in source
    deny = policies["rel-exchange-default-deny"]
    assert "ingress" not in deny["spec"] and deny["spec"]["policyTypes"] == ["Ingress"]
    assert all(selects(deny["spec"]["podSelector"], labels) for labels, _ in pods)


def test_monitors_select_real_pods_and_ports(six_markets: list[Manifest]) -> None:
    pods = labels_of_pods(six_markets)
    services = by_kind(six_markets, "Service")
    (service_monitor,) = by_kind(six_markets, "ServiceMonitor")
    (pod_monitor,) = by_kind(six_markets, "PodMonitor")
    assert service_monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    chosen = [s for s in services if selects(service_monitor["spec"]["selector"], s["metadata"]["labels"])]
    assert sorted(component(s) for s in chosen) == ["ws"]  # the gateway's metrics port is not in its Service
    for endpoint in service_monitor["spec"]["endpoints"]:
        assert all(endpoint["port"] in [p["name"] for p in s["spec"]["ports"]] for s in chosen)
    scraped = [ports for labels, ports in pods if selects(pod_monitor["spec"]["selector"], labels)]
    assert len(scraped) == 1 + 6 + 3  # gateway, six engines, settlement workers, dbwriter, market maker
    for endpoint in pod_monitor["spec"]["podMetricsEndpoints"]:
        assert all(endpoint["port"] in ports for ports in scraped)


def test_monitors_are_off_by_default(defaults: list[Manifest]) -> None:
    assert not [m for m in defaults if m["kind"] in PROMETHEUS_OPERATOR_KINDS]


def test_traces_go_to_the_configured_collector(defaults: list[Manifest], six_markets: list[Manifest]) -> None:
    for manifests, endpoint in ((defaults, None), (six_markets, "http://otel-collector.monitoring:4318")):
        for workload, spec in pod_specs(manifests):
            for container in spec["containers"]:
                if workload["kind"] in LONG_RUNNING and container["image"].startswith("exchange:"):
                    assert env_of(container).get("OTEL_EXPORTER_OTLP_ENDPOINT") == endpoint
