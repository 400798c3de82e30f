"""Shared test set-up. Fixtures for Redis and PostgreSQL arrive with the services that need them."""

import os
from pathlib import Path

from hypothesis import settings

import matching

settings.register_profile("ci", deadline=None, print_blob=True)
settings.load_profile("ci")


def _check_compiled_core_is_fresh() -> None:
    """A compiled core older than its source would test stale code: refuse to run."""
    package = Path(matching.__file__).parent
    for source in package.glob("*.py"):
        built = list(package.glob(f"{source.stem}.cpython-*.so"))
        if built and built[0].stat().st_mtime < source.stat().st_mtime:
            raise RuntimeError(f"{built[0].name} is older than {source.name}: run `make core`")


if not os.environ.get("MATCHING_ALLOW_STALE"):
    _check_compiled_core_is_fresh()
