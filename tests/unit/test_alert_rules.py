"""The alerting and recording rules of observability/rules: promtool accepts them, their unit
tests (observability/rules-tests, `promtool test rules`) pass, every alert has a test where it
fires and one where it stays quiet, and a broken rule fails those tests."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.dashboards import metric_names
from tests.prometheus import OBSERVABILITY, RULE_TESTS, RULES, alerts, binary, recorded, rule_files


def promtool(*args: str, cwd: Path = OBSERVABILITY) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def rule_tests() -> list[Path]:
    return sorted(RULE_TESTS.glob("*.test.yml"))


def test_promtool_checks_the_rules_and_the_make_run_config() -> None:
    done = promtool("check", "rules", *map(str, rule_files()))
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.name for p in rule_files()} == {"slo.yml", "exchange.yml", "dashboards.yml"}
    config = promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr
    assert "3 rule files found" in config.stdout


def test_the_rule_unit_tests_pass() -> None:
    tests = rule_tests()
    assert {p.name for p in tests} == {"slo.test.yml", "exchange.test.yml", "dashboards.test.yml"}
    done = promtool("test", "rules", *map(str, tests))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == len(tests)


def _alert_cases() -> list[dict[str, Any]]:
    return [
        case
        for path in rule_tests()
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    ]


def test_every_alert_has_a_test_where_it_fires_and_one_where_it_stays_quiet() -> None:
    cases = _alert_cases()
    fires = {c["alertname"] for c in cases if c.get("exp_alerts")}
    quiet = {c["alertname"] for c in cases if not c.get("exp_alerts")}
    names = set(alerts())
    assert len(names) == 15
    assert names - fires == set(), "alerts never shown firing"
    assert names - quiet == set(), "alerts never shown quiet"
    assert (fires | quiet) - names == set(), "tests of alerts that do not exist"


def test_every_alert_has_a_severity_a_summary_and_a_runbook_section() -> None:
    readme = (OBSERVABILITY / "README.md").read_text()
    for name, rule in alerts().items():
        assert rule["labels"]["severity"] in {"page", "ticket", "warning"}, name
        assert rule["annotations"]["summary"], name
        assert rule["annotations"]["runbook"] == f"observability/README.md#{name.lower()}", name
        assert f"\n### {name}\n" in readme, f"no runbook section for {name}"


def test_rules_read_only_exported_metrics_or_recorded_ones() -> None:
    """Names a rule reads are recorded by another rule, Prometheus's `up`, the client library's
    process_* or the exchange's exchange_* (tests/e2e/test_observability.py checks those against
    what the services export)."""
    records = recorded()
    for rule in [*alerts().values(), *({"expr": e} for e in records.values())]:
        for name in metric_names(rule["expr"]):
            assert name in records or name == "up" or name.startswith(("exchange_", "process_")), name


def test_a_broken_rule_fails_its_unit_tests(tmp_path: Path) -> None:
    """The stalled-engine alert waiting 10 minutes instead of 1 is caught."""
    shutil.copytree(RULES, tmp_path / "rules")
    shutil.copytree(RULE_TESTS, tmp_path / "rules-tests")
    exchange = tmp_path / "rules" / "exchange.yml"
    text = exchange.read_text()
    stalled = text.index("alert: ExchangeEngineStalled")
    broken = text[:stalled] + text[stalled:].replace("for: 1m", "for: 10m", 1)
    exchange.write_text(broken)
    done = promtool("test", "rules", "exchange.test.yml", cwd=tmp_path / "rules-tests")
    assert done.returncode != 0
    assert "alertname: ExchangeEngineStalled" in done.stdout + done.stderr
