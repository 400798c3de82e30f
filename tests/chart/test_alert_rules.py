"""The chart ships observability/rules (through the charts/exchange/rules link) as one
PrometheusRule with the monitors, and none without them."""

import subprocess
import tarfile
from pathlib import Path

import yaml

from tests.chart.conftest import CHART, Manifest, by_kind, helm_binary, render
from tests.prometheus import RULES, binary, rule_files


def groups_of_the_rule_files() -> list[dict[str, object]]:
    return [group for path in rule_files() for group in yaml.safe_load(path.read_text())["groups"]]


def test_the_rules_link_is_the_repositorys_rules() -> None:
    link = CHART / "rules"
    assert link.is_symlink() and link.resolve() == RULES.resolve()


def test_with_the_monitors_the_prometheus_rule_holds_every_rule_file(
    six_markets: list[Manifest], tmp_path: Path
) -> None:
    (rule,) = by_kind(six_markets, "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["name"] == "rel-exchange"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    groups = rule["spec"]["groups"]
    assert groups == groups_of_the_rule_files()
    assert len({g["name"] for g in groups}) == len(groups) >= 8
    alerts = [r for g in groups for r in g["rules"] if "alert" in r]
    assert "{{ $labels.symbol }}" in alerts[0]["annotations"]["summary"]  # left to Prometheus, not Helm
    rendered = tmp_path / "rendered.yml"
    rendered.write_text(yaml.safe_dump({"groups": groups}))
    done = subprocess.run(
        [binary("promtool"), "check", "rules", str(rendered)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_without_the_monitors_there_is_no_prometheus_rule(defaults: list[Manifest]) -> None:
    assert by_kind(defaults, "PrometheusRule") == []
    off = render(
        "--set", "metrics.serviceMonitor.enabled=false", "-f", str(CHART / "ci" / "six-markets-values.yaml")
    )
    assert by_kind(off, "PrometheusRule") == [] and by_kind(off, "Deployment")


def test_the_packaged_chart_holds_the_rules(tmp_path: Path) -> None:
    subprocess.run(
        [str(helm_binary()), "package", str(CHART), "-d", str(tmp_path)], check=True, capture_output=True
    )
    (package,) = tmp_path.glob("exchange-*.tgz")
    with tarfile.open(package) as archive:
        packaged = {Path(name).name for name in archive.getnames() if "/rules/" in name}
    assert packaged == {f.name for f in rule_files()} and packaged
