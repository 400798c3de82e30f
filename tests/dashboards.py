"""The Grafana dashboards in observability/dashboards/ and the metric names their PromQL reads."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DASHBOARDS = Path(__file__).resolve().parents[1] / "observability" / "dashboards"

# PromQL words that are not metric names when not followed by "(" (functions and aggregations
# always are followed by one, so they need no list).
KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
                      "and", "or", "unless", "inf", "nan", "atan2"})  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects, e.g. `exchange_engine_trades_total` out of
    `sum by (symbol) (rate(exchange_engine_trades_total{symbol=~"$symbol"}[$__rate_interval]))`.
    Strings, label matchers, ranges, grouping clauses and Grafana variables are removed first;
    an identifier followed by "(" is a function or aggregation, not a metric."""
    text = _STRING.sub('""', expr)
    text = _VARIABLE.sub("", text)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        token = match.group(0)
        if text[match.end() :].lstrip().startswith("(") or token in KEYWORDS:
            continue
        if match.start() and (text[match.start() - 1].isdigit() or text[match.start() - 1] == "."):
            continue  # the exponent or unit of a number (1e3)
        names.add(token)
    return names


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def expressions(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard: its panels' targets and its query variables
    (label_values(metric, label) counts as a selection of `metric`)."""
    exprs = [
        t["expr"] for p in _panels(dashboard.get("panels", [])) for t in p.get("targets", []) if t.get("expr")
    ]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query or "")
        found = re.fullmatch(r"\s*label_values\(\s*([^,()]+?)\s*,\s*\w+\s*\)\s*", text)
        exprs.append(found.group(1) if found else text)
    return exprs


def all_dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: load(p) for p in sorted(DASHBOARDS.glob("*.json"))}
