"""The gateway's port against slow and large requests, over real sockets as an attacker sends them
(issue 15, finding 10): drip-fed headers are cut off after gateway.httpprotocol's read deadline,
an idle keep-alive connection still outlives that deadline, and a body over
gateway.bodylimit.MAX_BODY_BYTES is answered 413 before it is read."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.bodylimit import MAX_BODY_BYTES
from gateway.httpprotocol import READ_TIMEOUT_S
from launcher.stack import Stack, running_stack
from tests import services
from tests.logcheck import tracebacks

DRIPPERS = 40
WAIT_S = 45.0  # generous: the deadline is READ_TIMEOUT_S, the machine may be busy


@pytest.fixture(scope="module")
def stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(pg_dsn, prefix, ["BTCUSDT"]) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def _address(stack: Stack) -> tuple[str, int]:
    parts = urlsplit(stack.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def drip_until_closed(address: tuple[str, int], open_for: list[float]) -> None:
    """Send a request line and then one header byte a second until the server closes the socket
    (or WAIT_S passes); appends how long the socket stayed open."""
    started = time.monotonic()
    with socket.create_connection(address, timeout=2) as conn:
        conn.sendall(b"GET /api/v3/ping HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        while time.monotonic() - started < WAIT_S:
            try:
                conn.sendall(b"a")
                if conn.recv(1024) == b"":
                    break
            except TimeoutError:
                continue
            except OSError:  # reset by the server
                break
    open_for.append(time.monotonic() - started)


def idle_then_request(address: tuple[str, int], answers: list[bytes]) -> None:
    """Two requests on one keep-alive connection, READ_TIMEOUT_S + 2 s apart."""
    request = b"GET /api/v3/ping HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(request)
        answers.append(conn.recv(4096))
        time.sleep(READ_TIMEOUT_S + 2)
        conn.sendall(request)
        answers.append(conn.recv(4096))


def test_drip_fed_sockets_are_closed_and_idle_keep_alive_is_not(stack: Stack) -> None:
    address = _address(stack)
    open_for: list[float] = []
    answers: list[bytes] = []
    threads = [threading.Thread(target=drip_until_closed, args=(address, open_for)) for _ in range(DRIPPERS)]
    threads.append(threading.Thread(target=idle_then_request, args=(address, answers)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"{DRIPPERS} drip-fed sockets: open {min(open_for):.1f}..{max(open_for):.1f} s")
    assert len(open_for) == DRIPPERS
    assert all(READ_TIMEOUT_S - 1 <= s < WAIT_S for s in open_for), sorted(open_for)
    assert len(answers) == 2 and all(a.startswith(b"HTTP/1.1 200") for a in answers), answers
    assert tracebacks(stack.log_dir) == []


def test_a_body_over_the_limit_is_refused_before_it_is_read(stack: Stack) -> None:
    with socket.create_connection(_address(stack), timeout=10) as conn:
        conn.sendall(
            b"POST /api/v3/order HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 20000000\r\n\r\nsymbol=BTCUSDT&"
        )
        head = conn.recv(4096)
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b'{"code":-1101,"msg":"Request body too large' in head

    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b"a" * 1024

    refused = httpx.post(f"{stack.url}/api/web/login", content=chunks(), timeout=10)
    assert refused.status_code == 413 and refused.json()["code"] == -1101
    form = {"symbol": "BTCUSDT", "pad": "x" * (MAX_BODY_BYTES - 100)}
    under = httpx.post(f"{stack.url}/api/v3/order", data=form, timeout=10)
    assert under.status_code != 413 and under.json()["code"] != -1101  # read, then refused for its key
