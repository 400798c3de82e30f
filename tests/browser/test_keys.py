"""API key management on the account page: create (the secret is shown once and works for a
signed request), register an Ed25519 or RSA public key, permissions (read-only, trusted IPs) and
their editing, and delete (the key stops working)."""

import hashlib
import hmac
import re
import time
from urllib.parse import quote, urlencode

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import Watched
from tests.browser.pages import new_email, row, sign_up
from tests.keypairs import KeyPair, ed25519_pair, rsa_pair


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


def test_a_read_only_key_with_trusted_ips_is_listed_and_edited(web: Watched) -> None:
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    form = page.get_by_role("form", name="Create API key")
    form.get_by_label("Key label").fill("watcher")
    form.get_by_label("Trusted IPs").fill("203.0.113.7, 2001:DB8::1")
    trading = form.get_by_label("Enable trading")
    expect(trading).to_be_checked()  # new keys may trade unless told otherwise
    trading.uncheck()
    form.get_by_role("button", name="Create API key").click()
    shown = page.get_by_role("region", name="New API key")
    api_key = shown.get_by_label("API key").input_value()
    secret = shown.get_by_label("Secret key").input_value()
    keys = page.get_by_role("table", name="API keys")
    listed = row(keys, "watcher")
    expect(listed).to_contain_text("Read only")
    expect(listed).to_contain_text("203.0.113.7, 2001:db8::1")
    refused = signed_account(web.base, api_key, secret)  # this test runs on 127.0.0.1, not listed
    assert refused.status_code == 401 and refused.json()["code"] == -2015

    form.get_by_label("Trusted IPs").fill("1.2.3")
    form.get_by_role("button", name="Create API key").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid IP address: '1.2.3'.")

    page.get_by_role("button", name="Edit API key watcher").click()
    editor = page.get_by_role("region", name="Edit API key watcher")
    expect(editor.get_by_label("Enable trading")).not_to_be_checked()
    expect(editor.get_by_label("Trusted IPs")).to_have_value("203.0.113.7, 2001:db8::1")
    web.screenshot("account-api-keys.png")
    editor.get_by_label("Trusted IPs").fill("203.0.113.7 127.0.0.1")
    editor.get_by_label("Enable trading").check()
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_be_hidden()
    expect(listed).to_contain_text("Read, Trade")
    expect(listed).to_contain_text("203.0.113.7, 127.0.0.1")
    assert signed_account(web.base, api_key, secret).status_code == 200
    page.reload()
    expect(row(page.get_by_role("table", name="API keys"), "watcher")).to_contain_text("Read, Trade")
    assert web.problems(allowed=("status of 400",)) == []  # Chromium logs the refused request
    assert len(web.console_errors) == 1, web.console_errors


def signed_account_with(base: str, api_key: str, pair: KeyPair) -> httpx.Response:
    query = urlencode({"timestamp": time.time_ns() // 1_000_000})
    signature = quote(pair.sign(query.encode()), safe="")
    return httpx.get(
        f"{base}/api/v3/account?{query}&signature={signature}", headers={"X-MBX-APIKEY": api_key}, timeout=10
    )


def test_register_ed25519_and_rsa_public_keys(web: Watched) -> None:
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    form = page.get_by_role("form", name="Create API key")
    pem = form.get_by_label("Public key (PEM)")
    expect(pem).to_be_hidden()  # HMAC, the default, needs none
    keys = page.get_by_role("table", name="API keys")
    shown = page.get_by_role("region", name="New API key")

    ed = ed25519_pair()
    form.get_by_label("Key label").fill("ed bot")
    form.get_by_label("Key type").select_option("ED25519")
    expect(pem).to_be_visible()
    pem.fill(ed.public_pem)
    form.get_by_role("button", name="Create API key").click()
    expect(shown).to_contain_text("private key")
    expect(shown.get_by_label("Secret key")).to_have_count(0)
    ed_key = shown.get_by_label("API key").input_value()
    expect(row(keys, "ed bot")).to_contain_text("Ed25519")
    assert signed_account_with(web.base, ed_key, ed).status_code == 200
    web.screenshot("account-api-key-types.png")

    form.get_by_label("Key label").fill("rsa bot")
    form.get_by_label("Key type").select_option("RSA")
    form.get_by_label("Public key (PEM)").fill(rsa_pair(1024).public_pem)
    form.get_by_role("button", name="Create API key").click()
    expect(page.get_by_role("alert")).to_have_text(
        "An RSA key must have at least 2048 bits (this one has 1024)."
    )
    rsa = rsa_pair()
    form.get_by_label("Public key (PEM)").fill(rsa.public_pem)
    form.get_by_role("button", name="Create API key").click()
    expect(row(keys, "rsa bot")).to_contain_text("RSA")
    rsa_key = shown.get_by_label("API key").input_value()
    assert rsa_key != ed_key
    assert signed_account_with(web.base, rsa_key, rsa).status_code == 200
    assert signed_account_with(web.base, rsa_key, ed).json()["code"] == -1022
    page.reload()
    expect(row(page.get_by_role("table", name="API keys"), "rsa bot")).to_contain_text("RSA")
    expect(row(page.get_by_role("table", name="API keys"), "ed bot")).to_contain_text("Ed25519")
    assert web.problems(allowed=("status of 400",)) == []
