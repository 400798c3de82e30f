"""User data stream keys (POST/PUT/DELETE /api/v3/userDataStream), with an API key or a web session."""

import uuid

import httpx

from launcher.stack import Stack
from tests.client import sign_up


def test_listen_key_lifecycle_and_ownership(stack: Stack) -> None:
    alice, bob = sign_up(stack.url), sign_up(stack.url)
    http = httpx.Client(base_url=f"{stack.url}/api/v3", timeout=10)
    as_alice = {"X-MBX-APIKEY": alice.api_key}
    key = http.post("/userDataStream", headers=as_alice).json()["listenKey"]
    assert len(key) == 64
    assert http.put("/userDataStream", params={"listenKey": key}, headers=as_alice).json() == {}
    refused = http.put("/userDataStream", params={"listenKey": key}, headers={"X-MBX-APIKEY": bob.api_key})
    assert refused.json()["code"] == -1125
    assert http.delete("/userDataStream", params={"listenKey": key}, headers=as_alice).json() == {}
    gone = http.put("/userDataStream", params={"listenKey": key}, headers=as_alice)
    assert (gone.status_code, gone.json()["code"]) == (400, -1125)
    assert http.post("/userDataStream").json()["code"] == -2014  # no API key


def test_a_web_session_opens_its_own_listen_key(stack: Stack) -> None:
    bob = sign_up(stack.url)
    web = httpx.Client(base_url=stack.url, timeout=10)
    email = f"stream-{uuid.uuid4().hex[:10]}@example.com"
    assert web.post("/api/web/signup", json={"email": email, "password": "long enough"}).status_code == 200
    no_csrf = web.post("/api/v3/userDataStream")
    assert (no_csrf.status_code, no_csrf.json()["code"]) == (403, -1002)
    csrf = {"X-Requested-With": "exchange-web"}
    key = web.post("/api/v3/userDataStream", headers=csrf).json()["listenKey"]
    assert len(key) == 64
    assert web.put("/api/v3/userDataStream", params={"listenKey": key}, headers=csrf).json() == {}
    as_bob = {"X-MBX-APIKEY": bob.api_key}
    refused = httpx.put(f"{stack.url}/api/v3/userDataStream", params={"listenKey": key}, headers=as_bob)
    assert refused.json()["code"] == -1125
    assert web.delete("/api/v3/userDataStream", params={"listenKey": key}, headers=csrf).json() == {}
    logged_out = httpx.post(f"{stack.url}/api/v3/userDataStream", headers=csrf)
    assert logged_out.json()["code"] == -2014  # neither a session nor an API key
