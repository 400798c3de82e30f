"""API key management on the account page: create (the secret is shown once and works for a
signed request), and delete (the key stops working)."""

import hashlib
import hmac
import re
import time
from urllib.parse import urlencode

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import Watched
from tests.browser.pages import new_email, row, sign_up


def signed_account(base: str, api_key: str, secret: str) -> httpx.Response:
    query = urlencode({"timestamp": time.time_ns() // 1_000_000})
    signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return httpx.get(
        f"{base}/api/v3/account?{query}&signature={signature}", headers={"X-MBX-APIKEY": api_key}, timeout=10
    )


def test_create_show_the_secret_once_and_delete_an_api_key(web: Watched) -> None:
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    keys = page.get_by_role("table", name="API keys")
    expect(keys).to_contain_text("No API keys yet.")

    page.get_by_label("Key label").fill("my bot")
    page.get_by_role("button", name="Create API key").click()
    shown = page.get_by_role("region", name="New API key")
    expect(shown).to_contain_text("shown only this once")
    api_key = shown.get_by_label("API key").input_value()
    secret = shown.get_by_label("Secret key").input_value()
    assert re.fullmatch(r"[A-Za-z0-9]{64}", api_key) and len(secret) >= 32
    expect(row(keys, "my bot")).to_contain_text(api_key[:12])
    assert signed_account(web.base, api_key, secret).status_code == 200

    shown.get_by_role("button", name="Done").click()
    expect(shown).to_be_hidden()
    page.reload()
    expect(row(page.get_by_role("table", name="API keys"), "my bot")).to_have_count(1)
    assert secret not in page.content()

    page.get_by_role("button", name="Delete API key my bot").click()
    expect(page.get_by_role("table", name="API keys")).to_contain_text("No API keys yet.")
    refused = signed_account(web.base, api_key, secret)
    assert refused.status_code == 401 and refused.json()["code"] == -2015
    assert web.problems() == []
