"""The market simulation in the chart: its agent mix from the values reaches `python -m marketsim`
as the SIM_* settings it reads, every agent the mix names has its own key in the Secret (set up by
the bootstrap Job, exempt from the gateway's rate limits), a scenario in the values is the file
SIM_SCENARIO names in the pod, and `marketsim.enabled=false` leaves no trace of it."""

import json
from pathlib import Path

import pytest

from marketsim.control import load_scenario
from marketsim.settings import SimSettings, agent_names, mixes_from_env
from tests.chart.conftest import Manifest, by_kind, component, env_of, helm_template, render
from tests.chart.pods import Cluster, LocalPod

SOLO = {
    "name": "solo",
    "spread_bps": 5,
    "spacing_bps": 2,
    "levels": 4,
    "size_multiplier": 3,
    "requote_seconds": 1.5,
}
MIX = {"depth_levels": 40, "noise_per_minute": 12, "makers": [SOLO]}
MARKET_MIX = {"ETHBTC": {"sweeps_per_minute": 0}}  # ETHBTC: the default makers, no sweeper
EXAMPLE_SCENARIO = Path(__file__).parents[2] / "examples" / "scenario-flash-crash.json"


def local_pod(cluster: Cluster, name: str) -> LocalPod:
    (workload,) = [
        m for m in cluster.manifests if m["kind"] in ("Deployment", "Job") and component(m) == name
    ]
    (pod,) = cluster.pods(workload)
    return pod


def test_the_mix_of_the_values_is_what_marketsim_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = render(
        "--set-json",
        f"marketsim.mix={json.dumps(MIX)}",
        "--set-json",
        f"marketsim.marketMix={json.dumps(MARKET_MIX)}",
    )
    cluster = Cluster(manifests, tmp_path)
    sim = local_pod(cluster, "marketsim")
    assert sim.args == ["marketsim"]
    for name, value in sim.env.items():  # the pod's environment, as marketsim reads it
        if name.startswith("SIM_"):
            monkeypatch.setenv(name, value)
    settings = SimSettings()
    assert settings.mix_for("BTCUSDT").depth_levels == 40
    assert [m.name for m in settings.mix_for("BTCUSDT").makers] == ["solo"]
    assert settings.mix_for("ETHBTC").sweeps_per_minute == 0
    assert len(settings.mix_for("ETHBTC").makers) == 3
    # The agents with keys are those marketsim's launcher would create for this mix.
    agents = agent_names(mixes_from_env(sim.env))
    assert list(settings.sim_accounts) == agents
    assert agents == ["maker-solo", "maker-tight", "maker-medium", "maker-wide", "depth", "noise", "momentum",
                      "meanrev", "sweeper"]  # fmt: skip
    (secret,) = cluster.secrets.values()
    for agent, (key, secret_text) in settings.sim_accounts.items():
        name = f"SIM_{agent.upper().replace('-', '_')}_API"
        assert (key, secret_text) == (secret[f"{name}_KEY"], secret[f"{name}_SECRET"])
    # The bootstrap Job sets up the same keys; the gateway exempts them, and the market maker's.
    job = local_pod(cluster, "bootstrap")
    assert json.loads(job.env["SIM_ACCOUNTS"]) == {a: list(k) for a, k in settings.sim_accounts.items()}
    exempt = set(local_pod(cluster, "gateway").env["RATE_LIMIT_EXEMPT_KEYS"].split(","))
    assert exempt == {secret["MM_API_KEY"], *(key for key, _ in settings.sim_accounts.values())}


def test_the_simulation_reaches_the_gateway_through_the_network_policy() -> None:
    manifests = render("--set", "networkPolicy.enabled=true")
    (public,) = [p for p in by_kind(manifests, "NetworkPolicy") if p["metadata"]["name"].endswith("-public")]
    (rule,) = public["spec"]["ingress"]
    assert "from" not in rule  # from every pod, the simulation's among them
    selected = {e["key"]: e["values"] for e in public["spec"]["podSelector"]["matchExpressions"]}
    assert "gateway" in selected["app.kubernetes.io/component"]
    (sim,) = [m for m in by_kind(manifests, "Deployment") if component(m) == "marketsim"]
    container = sim["spec"]["template"]["spec"]["containers"][0]
    assert env_of(container)["GATEWAY_URL"] == "http://rel-exchange-gateway:8000"


def test_disabled_the_simulation_leaves_no_workload_key_or_exemption(tmp_path: Path) -> None:
    manifests: list[Manifest] = render("--set", "marketsim.enabled=false")
    assert not [m for m in manifests if component(m) == "marketsim"]
    cluster = Cluster(manifests, tmp_path)
    (secret,) = cluster.secrets.values()
    assert not [k for k in secret if k.startswith("SIM_")]
    assert "SIM_ACCOUNTS" not in local_pod(cluster, "bootstrap").env
    assert local_pod(cluster, "gateway").env["RATE_LIMIT_EXEMPT_KEYS"] == secret["MM_API_KEY"]


def test_the_schema_refuses_a_mix_marketsim_would_refuse() -> None:
    for wrong in ('{"depth_levelz": 10}', '{"depth_levels": -1}', '{"makers": [{"name": "Solo!"}]}'):
        done = helm_template("--set-json", f"marketsim.mix={wrong}")
        assert done.returncode != 0 and "marketsim" in done.stderr, wrong


def test_a_scenario_in_the_values_is_the_file_marketsim_starts_with(tmp_path: Path) -> None:
    scenario = json.loads(EXAMPLE_SCENARIO.read_text())
    manifests = render("--set-json", f"marketsim.scenario={json.dumps(scenario)}")
    (config_map,) = [
        m for m in by_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("-scenario")
    ]
    assert json.loads(config_map["data"]["scenario.json"]) == scenario
    cluster = Cluster(manifests, tmp_path)
    sim = local_pod(cluster, "marketsim")
    # The pod's SIM_SCENARIO is a path inside the mounted ConfigMap (here its local folder).
    assert sim.env["SIM_SCENARIO"].endswith("/scenario.json")
    loaded = load_scenario(sim.env["SIM_SCENARIO"])
    assert loaded.name == scenario["name"]
    assert [s.market for s in loaded.steps] == [s["market"] for s in scenario["steps"]]
    assert loaded.markets() == ["BTCUSDT", "ETHUSDT"]
    (workload,) = [m for m in by_kind(manifests, "Deployment") if component(m) == "marketsim"]
    mounts = workload["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "scenario", "mountPath": "/etc/marketsim", "readOnly": True} in mounts
    # Another scenario changes the pod template, so the pod restarts with it.
    other = render("--set-json", f"marketsim.scenario={json.dumps({**scenario, 'name': 'other'})}")
    (moved,) = [m for m in by_kind(other, "Deployment") if component(m) == "marketsim"]
    annotations = workload["spec"]["template"]["metadata"]["annotations"]
    assert (
        annotations["checksum/scenario"]
        != moved["spec"]["template"]["metadata"]["annotations"]["checksum/scenario"]
    )


def test_without_a_scenario_there_is_no_file_and_no_setting() -> None:
    manifests = render()
    assert not [m for m in by_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("-scenario")]
    (workload,) = [m for m in by_kind(manifests, "Deployment") if component(m) == "marketsim"]
    assert "SIM_SCENARIO" not in env_of(workload["spec"]["template"]["spec"]["containers"][0])
    assert "checksum/scenario" not in workload["spec"]["template"]["metadata"]["annotations"]


def test_the_schema_refuses_what_is_not_a_scenario() -> None:
    for wrong in ('{"steps": []}', '{"name": "x", "stepz": [{}]}', '"halt"'):
        done = helm_template("--set-json", f"marketsim.scenario={wrong}")
        assert done.returncode != 0 and "scenario" in done.stderr, wrong
