"""binance-connector (Binance's older official connector: `binance.spot.Spot`, the WebSocket API
client and the stream client) over every Spot method it offers, pointed at the stack by its URLs
alone. Its wheel ships binance/__init__.py, as python-binance's does, so it runs from a venv of its
own (build/connector-venv, `make connector`, from requirements/connector.lock) as a subprocess:
tests/conformance/connector_driver.py, whose JSON records feed the same Ledger verdict."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.conftest import Venue
from tests.conformance.ledger import Ledger

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / "build" / "connector-venv" / "bin" / "python"
DRIVER = Path(__file__).with_name("connector_driver.py")

# The connector's Spot class gathers Binance's whole REST surface; a module of it that is not Spot
# trading is out of scope as a whole, with its reason (these methods are not called).
NOT_SPOT = {
    "_margin": "margin trading (cross and isolated accounts, borrowing): not built here",
    "_portfolio_margin": "portfolio margin (a unified futures and margin account): not built here",
    "_sub_account": "sub-accounts (and their futures and margin accounts): not built here",
    "_simple_earn": "Simple Earn (flexible and locked savings products): not built here",
    "_staking": "ETH staking and WBETH: not built here",
    "_auto_invest": "Auto-Invest plans: not built here",
    "_convert": "Convert (quote-and-accept conversions between assets): not built here",
    "_crypto_loan": "crypto loans: not built here",
    "_mining": "mining pool accounts: not built here",
    "_gift_card": "Binance gift cards: not built here",
    "_nft": "Binance NFT: not built here",
    "_c2c": "C2C (peer-to-peer) trades: not built here",
    "_fiat": "fiat deposits and payments: not built here",
    "_pay": "Binance Pay: not built here",
    "_rebate": "referral rebates: not built here",
}
WALLET = (
    "wallet (deposits, withdrawals, transfers, snapshots, dust, asset details, funding wallet): "
    "not built here; the wallet's Spot basics (system status, account status and restrictions, "
    "trade fees, coins, delist schedule) are called"
)
MARGIN_LISTEN_KEYS = "margin and isolated margin user data streams: no margin accounts here"
# The /sapi wallet methods connector_driver.py calls (read-only, those bots call by default); the
# other `_wallet` methods are listed as WALLET.
WALLET_CALLS = {
    "system_status",
    "account_status",
    "api_trading_status",
    "api_key_permissions",
    "trade_fee",
    "delist_schedule_symbols",
    "coin_info",
}


def out_of_scope(offered: dict[str, str]) -> dict[str, str]:
    """The listed methods of one client (each not called): whole modules that are not Spot, the
    wallet methods beyond WALLET_CALLS, margin listen keys. A called method that fails is not listed."""
    listed: dict[str, str] = {}
    for name, module in offered.items():
        if module in NOT_SPOT:
            listed[name] = NOT_SPOT[module]
        elif module == "_wallet" and name not in WALLET_CALLS:
            listed[name] = WALLET
        elif module == "_data_stream" and "margin" in name:
            listed[name] = MARGIN_LISTEN_KEYS
    return listed


@pytest.fixture(scope="module")
def records(venue: Venue) -> list[dict[str, Any]]:
    """Every record of one driver run (the venv built first when missing or stale)."""
    subprocess.run(["make", "--no-print-directory", "-s", "connector"], cwd=ROOT, check=True)
    trader = venue.trader()
    config = {
        "url": venue.stack.url,
        "ws_api_url": venue.ws_api_url,
        "ws_url": venue.stack.ws_url,
        "api_key": trader.api_key,
        "secret": trader.secret,
        "wallet_calls": sorted(WALLET_CALLS),
    }
    done = subprocess.run(
        [str(PYTHON), str(DRIVER), json.dumps(config)], capture_output=True, text=True, timeout=150, cwd=ROOT
    )
    sys.stderr.write(done.stderr[-3000:])
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def verdict(library: str, client: str, records: list[dict[str, Any]]) -> None:
    offered = next(r["offered"] for r in records if r["client"] == client and "offered" in r)
    ledger = Ledger(library, out_of_scope(offered))
    for record in records:
        if record["client"] == client and "method" in record:
            ledger.results[record["method"]] = None if record["ok"] else record["error"]
    assert ledger.results, f"no call recorded for {client}"
    ledger.verdict(offered)


def test_connector_rest(records: list[dict[str, Any]]) -> None:
    verdict("binance-connector (REST)", "rest", records)


def test_connector_ws_api(records: list[dict[str, Any]]) -> None:
    verdict("binance-connector (WebSocket API)", "ws_api", records)


def test_connector_streams(records: list[dict[str, Any]]) -> None:
    verdict("binance-connector (WebSocket streams)", "streams", records)
