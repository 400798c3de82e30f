"""What the chart's values do: the markets registry, adding a market, secrets, external stores,
dashboards, and the values that the schema or the templates refuse."""

import base64
import copy
import json
import subprocess
import tarfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

from exchange_core.markets import DEFAULT_FILE, load_markets, parse_markets
from tests.chart.conftest import (
    CHART,
    ROOT,
    SIX_MARKETS,
    Manifest,
    by_kind,
    component,
    env_of,
    helm_binary,
    helm_template,
    pod_specs,
    render,
)

DASHBOARDS = ROOT / "observability" / "dashboards"
DATABASE_USERS = {"gateway", "dbwriter", "bootstrap"}
REGISTRY_READERS = {"gateway", "ws", "settlement", "dbwriter", "marketmaker", "marketsim"}
GIVEN_SECRET = ("--set", "secrets.existingSecret=exchange-given")
# The default mix's agents, as their Secret keys name them (SIM_<AGENT>_API_KEY).
SIM_AGENTS = ["MAKER_TIGHT", "MAKER_MEDIUM", "MAKER_WIDE", "DEPTH", "NOISE", "MOMENTUM", "MEANREV", "SWEEPER"]


def registry(manifests: list[Manifest]) -> str:
    (config,) = [m for m in by_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("-markets")]
    return str(config["data"]["markets.toml"])


def test_default_markets_are_the_repositorys_registry(defaults: list[Manifest], tmp_path: Path) -> None:
    """values.yaml repeats services/exchange_core/markets.toml (a chart cannot read outside itself):
    the rendered registry must parse to exactly the same markets."""
    rendered = tmp_path / "markets.toml"
    rendered.write_text(registry(defaults))
    assert load_markets(rendered) == load_markets(DEFAULT_FILE)


def test_the_six_market_registry_parses(six_markets: list[Manifest]) -> None:
    markets = parse_markets(tomllib.loads(registry(six_markets)))
    assert list(markets) == ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ETHBTC", "XRPUSDT", "DOGEUSDT"]
    assert markets["DOGEUSDT"].spec.step_units == 10**8


def keyed(manifests: list[Manifest]) -> dict[tuple[str, str], Manifest]:
    return {(m["kind"], m["metadata"]["name"]): m for m in manifests}


def without_registry_checksum(manifest: Manifest) -> Manifest:
    stripped = copy.deepcopy(manifest)
    stripped["spec"]["template"]["metadata"]["annotations"].pop("checksum/markets")
    return stripped


def test_adding_a_market_adds_its_engine_and_changes_nothing_else(tmp_path: Path) -> None:
    values = yaml.safe_load(SIX_MARKETS.read_text())
    five = tmp_path / "five.yaml"
    five.write_text(yaml.safe_dump({**values, "markets": values["markets"][:5]}))
    before = keyed(render("-f", str(SIX_MARKETS), "-f", str(five), *GIVEN_SECRET))
    after = keyed(render("-f", str(SIX_MARKETS), *GIVEN_SECRET))

    assert set(after) - set(before) == {("StatefulSet", "rel-exchange-engine-dogeusdt")}
    assert set(before) <= set(after)
    changed = {key for key in before if before[key] != after[key]}
    registry_readers = {
        (m["kind"], m["metadata"]["name"]) for m in after.values() if component(m) in REGISTRY_READERS
    }
    # Deployments, and the settlement workers' StatefulSet (not the engines' nor Redis's).
    registry_readers = {key for key in registry_readers if key[0] in ("Deployment", "StatefulSet")}
    # The registry changes, and the services reading all of it roll to read it; no engine moves.
    assert changed == {("ConfigMap", "rel-exchange-markets"), *registry_readers}
    for key in registry_readers:
        assert without_registry_checksum(before[key]) == without_registry_checksum(after[key])
    assert not any(component(before[key]) == "engine" for key in changed)


def test_a_market_with_its_own_resources(six_markets: list[Manifest]) -> None:
    engines = {m["metadata"]["labels"]["exchange/market"]: m for m in by_kind(six_markets, "StatefulSet")
               if component(m) == "engine"}  # fmt: skip

    def limits(symbol: str) -> dict[str, Any]:
        resources: dict[str, Any] = engines[symbol]["spec"]["template"]["spec"]["containers"][0]["resources"]
        return resources["limits"]

    assert limits("BTCUSDT") == {"cpu": "2", "memory": "2Gi"}
    assert limits("ETHUSDT") == {"cpu": "1", "memory": "1Gi"}


def decoded(secret: Manifest) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def test_the_generated_secret_holds_usable_keys(defaults: list[Manifest]) -> None:
    (secret,) = by_kind(defaults, "Secret")
    values = decoded(secret)
    Fernet(values["SECRET_KEY"].encode())  # a valid Fernet key, as the gateway needs
    for name in ("MM_API_KEY", "MM_API_SECRET"):
        assert len(values[name]) == 64 and values[name].isalnum()
    assert len(values["DEMO_PASSWORD"]) >= 8 and len(values["DB_PASSWORD"]) >= 16
    assert len(values["REDIS_PASSWORD"]) == 32 and values["REDIS_PASSWORD"].isalnum()  # safe in a URL
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    referenced, optional = set(), set()
    for _, spec in pod_specs(defaults):
        for container in [*spec["containers"], *spec.get("initContainers", [])]:
            for value in env_of(container).values():
                if isinstance(value, dict) and "secretKeyRef" in value:
                    assert value["secretKeyRef"]["name"] == secret["metadata"]["name"]
                    key = value["secretKeyRef"]["key"]
                    (optional if value["secretKeyRef"].get("optional") else referenced).add(key)
    sim_keys = {f"SIM_{agent}_API_{part}" for agent in SIM_AGENTS for part in ("KEY", "SECRET")}
    assert {k for k in values if k.startswith("SIM_")} == sim_keys
    assert all(len(values[k]) == 64 and values[k].isalnum() for k in sim_keys)
    assert len({values[k] for k in sim_keys}) == len(sim_keys)  # every key and secret its own
    base = {"SECRET_KEY", "DB_PASSWORD", "REDIS_PASSWORD"}
    assert referenced == base | sim_keys
    # The market maker's key and secret are generated all the same (the Secret is kept across
    # upgrades, so turning marketmaker.enabled on later finds them), and the gateway knows the key.
    assert "MM_API_KEY" in optional
    # The agents' keys are also the gateway's (optional there, as the market maker's), not their secrets.
    assert sim_keys - optional == {k for k in sim_keys if k.endswith("_SECRET")}
    # The admin API opens only with an ADMIN_TOKEN the operator adds: never generated.
    assert "ADMIN_TOKEN" in optional and "ADMIN_TOKEN" not in values


def test_an_existing_secret_replaces_the_generated_one() -> None:
    manifests = render(*GIVEN_SECRET)
    assert not by_kind(manifests, "Secret")
    (job,) = by_kind(manifests, "Job")
    env = env_of(job["spec"]["template"]["spec"]["containers"][0])
    assert env["SECRET_KEY"]["secretKeyRef"]["name"] == "exchange-given"


def test_the_bootstrap_job_gets_what_the_launcher_sets_up(defaults: list[Manifest]) -> None:
    (job,) = by_kind(defaults, "Job")
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    env = env_of(container)
    assert container["args"] == ["launcher.bootstrap"]
    assert job["metadata"]["name"] == "rel-exchange-bootstrap-1"  # one per release revision
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SIM_ACCOUNTS", "SIM_FUNDS"} <= set(env)
    demo_dir = env["RUN_DIR"]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == demo_dir]
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["items"] == [{"key": "DEMO_PASSWORD", "path": "demo-password"}]
    waiting = {
        component(w): w["spec"]["template"]["spec"]["initContainers"][0]
        for w, s in pod_specs(defaults)
        if s.get("initContainers")
    }
    assert set(waiting) == {"gateway", "dbwriter", "marketsim"}
    assert all(c["args"] == ["launcher.bootstrap", "--wait"] for c in waiting.values())
    # The simulation waits for its agents' keys, which the Job sets up with their funds.
    assert env_of(waiting["marketsim"])["SIM_ACCOUNTS"] == env["SIM_ACCOUNTS"]
    assert env["SIM_FUNDS"] == "USDT=20000000,BTC=300,ETH=5000,SOL=100000"
    with_marketmaker = render("--set", "marketmaker.enabled=true")
    (job,) = by_kind(with_marketmaker, "Job")
    env = env_of(job["spec"]["template"]["spec"]["containers"][0])
    assert {"MM_API_KEY", "MM_API_SECRET", "MM_FUNDS"} <= set(env) and env["MARKETMAKER"] == "true"
    waiting = {
        component(w): w["spec"]["template"]["spec"]["initContainers"][0]
        for w, s in pod_specs(with_marketmaker)
        if s.get("initContainers")
    }
    assert "MM_API_KEY" in env_of(waiting["marketmaker"]) and "MM_API_KEY" not in env_of(waiting["gateway"])
    assert "SIM_ACCOUNTS" not in env_of(waiting["marketmaker"])


@pytest.mark.parametrize(
    ("args", "marketmaker", "marketsim"),
    [
        ([], False, True),
        (["--set", "marketsim.enabled=false"], True, False),
        (["--set", "marketmaker.enabled=true"], True, True),
        (["--set", "marketmaker.enabled=false", "--set", "marketsim.enabled=false"], False, False),
        (["--set", "marketmaker.enabled=null"], False, True),
    ],
)
def test_the_market_maker_runs_only_without_the_simulation_unless_asked(
    args: list[str], marketmaker: bool, marketsim: bool
) -> None:
    """Beside the simulation the market maker's quotes would hold the price against its scenarios:
    marketmaker.enabled null (the default) runs it only when marketsim.enabled is false."""
    manifests = render(*args)
    deployments = {component(m) for m in by_kind(manifests, "Deployment")}
    assert ("marketmaker" in deployments, "marketsim" in deployments) == (marketmaker, marketsim)
    (job,) = by_kind(manifests, "Job")
    env = env_of(job["spec"]["template"]["spec"]["containers"][0])
    assert env["MARKETMAKER"] == str(marketmaker).lower()
    assert ("MM_API_KEY" in env, "SIM_ACCOUNTS" in env) == (marketmaker, marketsim)


def test_external_redis_and_database() -> None:
    manifests = render(
        "--set", "redis.mode=external", "--set", "redis.external.url=redis://cache.example:6379/2",
        "--set", "database.bundled=false", "--set", "database.external.secretName=pg",
    )  # fmt: skip
    assert not [m for m in manifests if component(m) in ("redis", "timescaledb")]
    assert not [
        p
        for p in by_kind(manifests, "NetworkPolicy")
        if p["metadata"]["name"].endswith(("-redis", "-timescaledb"))
    ]
    for workload, spec in pod_specs(manifests):
        if component(workload) == "smoke-test":  # a client of the Services only
            continue
        env = env_of(spec["containers"][0])
        assert env["REDIS_URL"] == "redis://cache.example:6379/2"
        if component(workload) in DATABASE_USERS:
            assert env["DATABASE_URL"] == {"secretKeyRef": {"name": "pg", "key": "DATABASE_URL"}}
        assert "DB_PASSWORD" not in env


def test_only_the_processes_that_use_the_database_get_its_credentials(defaults: list[Manifest]) -> None:
    for workload, spec in pod_specs(defaults):
        for container in spec["containers"]:
            env = env_of(container)
            uses = component(workload) in DATABASE_USERS
            assert ("DATABASE_URL" in env, "DB_PASSWORD" in env) == (uses, uses), workload["metadata"]["name"]
        for init in spec.get("initContainers", []):  # waits until the bootstrap migrated it
            assert "DATABASE_URL" in env_of(init)


def test_a_release_name_too_long_for_the_engine_names_is_refused() -> None:
    done = helm_template(release="a-release-name-that-is-long-enough-to-hurt")
    assert done.returncode != 0 and "longer than the 52 characters" in done.stderr
    assert helm_template(release="exchange-prod").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "redis.bundled=false"], "redis.external.url"),
        (["--set", "database.bundled=false"], "database.external.url"),
        (["--set", "markets[0].symbol=btc-usdt"], "does not match pattern"),
        (["--set", "redis.appendfsync=no"], "appendfsync"),
        (["--set", "podSecurityContext.runAsNonRoot=false"], "runAsNonRoot"),
        (["--set", "gateway.replica=3"], "replica"),
        (["-f", str(CHART / "ci" / "six-markets-values.yaml"), "--set", "markets[5].symbol=BTCUSDT"],
         "BTCUSDT is listed twice"),
        (["-f", str(CHART / "ci" / "six-markets-values.yaml"), "--set", "markets[5].base=ADA"],
         "unknown asset ADA"),
        (["--set", "demo.funds=USDT=1\\,ADA=2"], "demo.funds: unknown asset ADA"),
    ],
)  # fmt: skip
def test_wrong_values_are_refused_with_a_message(args: list[str], message: str) -> None:
    done = helm_template(*args)
    assert done.returncode != 0
    assert message in done.stderr


def test_the_packaged_chart_holds_the_dashboards(tmp_path: Path) -> None:
    """helm follows the dashboards link when it packages the chart, as in lint and template."""
    subprocess.run(
        [str(helm_binary()), "package", str(CHART), "-d", str(tmp_path)], check=True, capture_output=True
    )
    (package,) = tmp_path.glob("exchange-*.tgz")
    with tarfile.open(package) as archive:
        packaged = {Path(name).name for name in archive.getnames() if "/dashboards/" in name}
    assert packaged == {f.name for f in DASHBOARDS.glob("*.json")} and packaged


def test_one_configmap_per_dashboard_with_its_json(defaults: list[Manifest]) -> None:
    """charts/exchange/dashboards links to observability/dashboards: no copy to keep in step."""
    link = CHART / "dashboards"
    assert link.is_symlink() and link.resolve() == DASHBOARDS.resolve()
    files = sorted(DASHBOARDS.glob("*.json"))
    assert files, "observability/dashboards holds no dashboard"
    maps = [
        m for m in by_kind(defaults, "ConfigMap") if m["metadata"]["labels"].get("grafana_dashboard") == "1"
    ]
    shipped = {name: json.loads(text) for m in maps for name, text in m["data"].items()}
    assert len(maps) == len(files)
    assert shipped == {f.name: json.loads(f.read_text()) for f in files}
