"""User data stream keys (POST/PUT/DELETE /api/v3/userDataStream), API key only."""

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
