"""The repository's Markdown points only at what the repository holds.

Every relative link in a Markdown file (README.md, docs/, each folder's README) names a file or
folder of the repository, and its `#anchor`, when it has one, a heading of that Markdown file; no
link leaves the repository (a clone has nothing beside it). Every repository path written in
backticks (`services/gateway/orders.py`) exists, so a page that says where a change goes keeps
saying it after files move. Built or generated paths (web/dist, services/exchange_proto) are not
checked: a clone does not have them until `make`; nor are the vendored Helm dependencies'
documents (charts/exchange/charts: their upstream's, as published).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".git", ".venv", ".run", "node_modules", "build", "artifacts", "dist"}
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
FENCE = re.compile(r"^\s*(```|~~~)")
TOP_FOLDERS = "services|protos|tests|bench|load|docs|charts|observability|k8s|web|requirements"
REPO_PATH = re.compile(rf"`((?:{TOP_FOLDERS})/[A-Za-z0-9_./-]*)`")
GENERATED = ("web/dist", "web/node_modules", "services/exchange_proto")
VENDORED = ("charts/exchange/charts/",)


def markdown_files() -> list[Path]:
    return sorted(
        p
        for p in ROOT.rglob("*.md")
        if not SKIPPED_DIRS.intersection(p.relative_to(ROOT).parts[:-1])
        and not any(part.startswith(".") for part in p.relative_to(ROOT).parts[:-1])
        and not p.relative_to(ROOT).as_posix().startswith(VENDORED)
    )


def prose(text: str) -> str:
    """The text outside fenced code blocks (a link inside one is an example, not a link)."""
    kept, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(line)
    return "\n".join(kept)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces become hyphens."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for line in prose(path.read_text()).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            base = slug(heading.group(1))
            name, n = base, 1
            while name in found:
                name, n = f"{base}-{n}", n + 1
            found.add(name)
    return found


def dead_links(path: Path, root: Path = ROOT) -> list[str]:
    """The links of one Markdown file that do not resolve inside `root`, with why."""
    dead = []
    text = prose(path.read_text())
    for target in [*LINK.findall(text), *IMAGE.findall(text)]:
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.is_relative_to(root):
            dead.append(f"{target}: outside the repository")
        elif not resolved.exists():
            dead.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor.lower() not in anchors(resolved):
            dead.append(f"{target}: no heading #{anchor} in {resolved.relative_to(root)}")
    return dead


def missing_paths(path: Path, root: Path = ROOT) -> list[str]:
    """Repository paths named in backticks (`services/...`) that do not exist under `root`."""
    named = set(REPO_PATH.findall(path.read_text()))
    return sorted(
        p
        for p in named
        if not p.startswith(GENERATED) and "*" not in p and not (root / p.rstrip("/")).exists()
    )


DOCS = markdown_files()


def test_the_documentation_is_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in DOCS}
    assert {"README.md", "docs/architecture.md", "docs/grpc.md", "docs/matching.md"} <= names


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_in_the_repository(doc: Path) -> None:
    assert dead_links(doc) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_repository_path_named_exists(doc: Path) -> None:
    assert missing_paths(doc) == []


def test_a_dead_link_and_a_missing_path_are_caught(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "services" / "matching").mkdir(parents=True)
    (tmp_path / "services" / "matching" / "engine.py").write_text("")
    (tmp_path / "docs" / "other.md").write_text("# The order path\n\n## Keys and streams\n")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Here\n\n[up](../../outside.md) [gone](nothing-here.md) [self](#nowhere) [ok](#here)\n"
        "[web](https://example.com) [file](other.md) [heading](other.md#keys-and-streams)\n"
        "[bad heading](other.md#keys) [folder](../services/matching/)\n\n"
        "```\n[in code](not-checked.md)\n```\n"
        "`services/gateway/no_such_module.py` and `services/matching/engine.py`\n"
    )
    assert dead_links(page, tmp_path) == [
        "../../outside.md: outside the repository",
        "nothing-here.md: no such file",
        "#nowhere: no heading #nowhere in docs/page.md",
        "other.md#keys: no heading #keys in docs/other.md",
    ]
    assert missing_paths(page, tmp_path) == ["services/gateway/no_such_module.py"]
    assert slug("Numbers: `int` inside, strings at the edge") == "numbers-int-inside-strings-at-the-edge"
    assert slug("The [`order_json`](x.md) shape") == "the-order_json-shape"
