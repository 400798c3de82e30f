"""The launcher's pure parts: restart pacing, the secret key file, which processes it starts."""

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from launcher.prepare import PrepareError, secret_key
from launcher.processes import Layout, add_services, module_available
from launcher.restarts import MAX_DELAY_S, QUICK_CRASH_S, RestartPolicy
from launcher.run import metrics_line
from launcher.settings import LauncherSettings
from launcher.supervisor import Supervisor


def test_a_crash_restarts_at_once_and_a_crash_loop_backs_off() -> None:
    policy = RestartPolicy()
    policy.started_now("gw", 0.0)
    assert policy.exited("gw", 1.0) == 0.0 and policy.ready(1.0) == ["gw"]
    delays = []
    now = 1.0
    for _ in range(8):
        policy.started_now("gw", now)
        delays.append(policy.exited("gw", now + 1))
        assert policy.waiting("gw") and policy.ready(now + 1 + delays[-1] - 0.01) == []
        now += 1 + delays[-1]
        assert policy.ready(now) == ["gw"]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, MAX_DELAY_S, MAX_DELAY_S, MAX_DELAY_S]
    policy.started_now("gw", now)
    assert policy.exited("gw", now + QUICK_CRASH_S + 1) == 0.0  # it ran a while: a fresh crash


def test_secret_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    key = secret_key("", tmp_path)
    Fernet(key.encode())
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert secret_key("", tmp_path) == key
    given = Fernet.generate_key().decode()
    assert secret_key(given, tmp_path) == given
    with pytest.raises(PrepareError, match="SECRET_KEY"):
        secret_key("not a key", tmp_path)


def test_processes_engines_first_market_maker_last(tmp_path: Path) -> None:
    supervisor = Supervisor({}, tmp_path)
    add_services(supervisor, Layout(["BTCUSDT", "ETHBTC"], ws_port=9001, marketmaker_env={"MM_API_KEY": "k"}))
    assert list(supervisor.services) == [
        "engine-BTCUSDT", "engine-ETHBTC", "settlement", "gateway", "ws", "marketmaker"]  # fmt: skip
    assert supervisor.services["ws"].env == {"PORT": "9001", "WS_PORT": "9001"}
    assert supervisor.services["engine-ETHBTC"].env == {"SYMBOL": "ETHBTC"}
    assert supervisor.services["settlement"].env == {"WORKERS": "1", "WORKER_INDEX": "0"}
    assert module_available("gateway") and module_available("marketmaker")
    assert not module_available("no_such_service") and not module_available("exchange_core")


def test_the_market_simulation_starts_after_the_market_maker(tmp_path: Path) -> None:
    supervisor = Supervisor({}, tmp_path)
    layout = Layout(["BTCUSDT"], marketmaker_env={"MM_API_KEY": "k"}, marketsim_env={"SIM_ACCOUNTS": "{}"})
    # The market maker's metrics port comes last: the simulation's is the same with it or without.
    assert layout.probed() == ["engine-BTCUSDT", "settlement", "marketsim", "marketmaker"]
    assert Layout(["BTCUSDT"], marketsim_env={}).probed() == ["engine-BTCUSDT", "settlement", "marketsim"]
    add_services(supervisor, layout)
    assert list(supervisor.services)[-2:] == ["marketmaker", "marketsim"]
    assert supervisor.services["marketsim"].module == "marketsim"
    assert supervisor.services["marketsim"].env == {"SIM_ACCOUNTS": "{}"}
    assert module_available("marketsim")


def test_settlement_workers_share_the_markets_by_index(tmp_path: Path) -> None:
    supervisor = Supervisor({}, tmp_path)
    layout = Layout(["BTCUSDT"], dbwriter=True, settlement_workers=3, dbwriter_workers=2)
    settlement = ["settlement", "settlement-1", "settlement-2"]
    assert layout.probed() == ["engine-BTCUSDT", *settlement, "dbwriter", "dbwriter-1"]
    add_services(supervisor, layout)
    workers = {name: s.env for name, s in supervisor.services.items() if s.module == "settlement"}
    assert workers == {name: {"WORKERS": "3", "WORKER_INDEX": str(i)} for i, name in enumerate(settlement)}
    assert supervisor.services["dbwriter-1"].env == {"WORKERS": "2", "WORKER_INDEX": "1"}


def test_metrics_ports_go_to_the_services_without_an_http_port(tmp_path: Path) -> None:
    supervisor = Supervisor({}, tmp_path)
    layout = Layout(["BTCUSDT"], ws_port=9001, dbwriter=True, marketmaker_env={"MM_API_KEY": "k"})
    assert layout.probed() == ["engine-BTCUSDT", "settlement", "dbwriter", "marketmaker"]
    layout.metrics_ports = {name: 9100 + i for i, name in enumerate(layout.probed())}
    add_services(supervisor, layout)
    ports = {name: s.env.get("METRICS_PORT") for name, s in supervisor.services.items()}
    assert ports == {"engine-BTCUSDT": "9100", "settlement": "9101", "gateway": None, "ws": None,
                     "dbwriter": "9102", "marketmaker": "9103"}  # fmt: skip
    line = metrics_line(LauncherSettings(gateway_port=8000), layout)
    assert "http://127.0.0.1:8000/metrics" in line and "http://127.0.0.1:9001/metrics" in line
    assert "http://127.0.0.1:9100-9103/metrics" in line


def test_the_market_maker_runs_only_without_the_simulation_unless_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Beside the simulation the market maker's quotes would hold the price against its scenarios:
    by default it runs only when the simulation does not; MARKETMAKER decides when given."""
    for name in ("MARKETMAKER", "MARKETSIM"):
        monkeypatch.delenv(name, raising=False)
    assert LauncherSettings().marketsim and not LauncherSettings().runs_marketmaker
    monkeypatch.setenv("MARKETSIM", "false")
    assert LauncherSettings().runs_marketmaker
    monkeypatch.setenv("MARKETMAKER", "false")
    assert not LauncherSettings().runs_marketmaker
    monkeypatch.setenv("MARKETSIM", "true")
    monkeypatch.setenv("MARKETMAKER", "true")
    assert LauncherSettings().runs_marketmaker and LauncherSettings().marketsim
