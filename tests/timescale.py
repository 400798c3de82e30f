"""A real TimescaleDB for tests: PGlite with the TimescaleDB extension (WASM), served over the
PostgreSQL wire protocol by pglite-socket (the Node project in tests/pglite/).

Quirks of this server, which every client here must respect:
- one backend: one connection at a time (others queue), so a pool has at most one connection,
  and session state (prepared statements, temp tables) outlives a connection: asyncpg must run
  with statement_cache_size=0 (unnamed statements) or its statement names collide;
- no COPY FROM STDIN (it crashes the server): the DB writer stages with INSERT (use_copy=False);
- sslmode=disable, user and password postgres, database postgres; in memory only.
"""

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parent / "pglite"
# asyncpg options this server needs (see above).
CONNECT_OPTIONS: dict[str, int] = {"statement_cache_size": 0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def install() -> None:
    """`npm ci` unless node_modules already matches package-lock.json."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("the TimescaleDB tests need Node.js and npm (apt-get install nodejs npm)")
    lock = PROJECT / "package-lock.json"
    installed = PROJECT / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PROJECT, check=True, timeout=600
    )


@contextmanager
def pglite_server(startup_timeout: float = 90.0) -> Iterator[str]:
    """Start a PGlite TimescaleDB on a free local port; yields its DSN; stops it afterwards.

    The server's output goes to a log file whose path is in the error if it fails to start.
    """
    install()
    port = _free_port()
    log = Path(tempfile.mkdtemp(prefix="pglite-")) / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["node", "server.mjs", str(port)], cwd=PROJECT, stdout=out, stderr=out)
    try:
        _wait_ready(process, log, startup_timeout)
        yield f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres?sslmode=disable"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: "subprocess.Popen[bytes]", log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if b"READY" in log.read_bytes():
            return
        if process.poll() is not None:
            raise RuntimeError(f"the PGlite server exited with {process.returncode}; see {log}")
        time.sleep(0.1)
    raise RuntimeError(f"the PGlite server was not ready within {timeout:.0f} s; see {log}")
