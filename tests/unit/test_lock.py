"""The committed locks agree with pyproject.toml: every install (venv, CI, image) comes from them.

`make lock` regenerates them; this fails when a dependency is added to or changed in pyproject.toml
without doing so, or when the image's subsets drift from the full lock.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)")


def pins(lock: str) -> dict[str, Version]:
    """Package name (canonical) -> pinned version, for every pin of one lock file."""
    found: dict[str, Version] = {}
    for line in (ROOT / "requirements" / lock).read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match[1])] = Version(match[2])
    return found


def requirements(extras: list[str]) -> list[Requirement]:
    """pyproject's runtime dependencies plus those of `extras`, following self-references."""
    wanted = [Requirement(r) for r in PROJECT["dependencies"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in PROJECT["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == canonicalize_name(PROJECT["name"]):
                todo.extend(requirement.extras)
            else:
                wanted.append(requirement)
    return wanted


LOCKS = {
    "dev.lock": ["dev", "bench", "load"],
    "runtime.lock": [],
    "codegen.lock": ["codegen"],
}


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_requirement_is_pinned_within_its_range(lock: str) -> None:
    locked = pins(lock)
    problems = []
    for requirement in requirements(LOCKS[lock]):
        version = locked.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement} is not in requirements/{lock}")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement} does not allow the locked {version}")
    assert not problems, "run `make lock`: " + "; ".join(problems)


@pytest.mark.parametrize("subset", ["runtime.lock", "codegen.lock"])
def test_image_locks_are_subsets_of_the_full_lock(subset: str) -> None:
    full, part = pins("dev.lock"), pins(subset)
    assert part, f"requirements/{subset} pins nothing"
    differing = {name: (str(v), str(full.get(name))) for name, v in part.items() if full.get(name) != v}
    assert not differing, f"requirements/{subset} differs from dev.lock: {differing}"


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_pin_carries_hashes(lock: str) -> None:
    text = (ROOT / "requirements" / lock).read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    unhashed = [b.split()[0] for b in blocks if PIN.match(b) and "--hash=sha256:" not in b]
    assert not unhashed, f"pins without hashes in requirements/{lock}: {unhashed}"
