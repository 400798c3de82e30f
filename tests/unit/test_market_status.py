"""A market's stored status, exchangeInfo's symbolStatus parameter and the admin audit's log line
and metric families: pure parts of the halt (docs/admin.md)."""

import logging

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from exchange_core.errors import ApiError
from exchange_core.marketstatus import TRADING, MarketStatus, TradingStatus
from gateway.admin.audit import AdminAudit
from gateway.routes.public import symbol_status_param


def test_no_stored_status_is_trading_and_a_halt_round_trips() -> None:
    assert MarketStatus.decode(None) == TRADING and TRADING.trading
    halted = MarketStatus(TradingStatus.BREAK, "Maintenance: 20 min", 1_765_000_000_000)
    assert MarketStatus.decode(halted.encode()) == halted and not halted.trading


@pytest.mark.parametrize(
    "params, wanted",
    [
        ({}, None),
        ({"symbolStatus": "HALT"}, TradingStatus.HALT),
        ({"symbolStatus": "break"}, TradingStatus.BREAK),
    ],
)
def test_symbol_status_param(params: dict[str, str], wanted: TradingStatus | None) -> None:
    assert symbol_status_param(params) is wanted


@pytest.mark.parametrize(
    "params, code",
    [
        ({"symbolStatus": "CLOSED"}, -1122),
        ({"symbolStatus": "HALT", "symbol": "BTCUSDT"}, -1128),
        ({"symbolStatus": "HALT", "symbols": '["BTCUSDT"]'}, -1128),
    ],
)
def test_symbol_status_param_refusals(params: dict[str, str], code: int) -> None:
    with pytest.raises(ApiError) as refused:
        symbol_status_param(params)
    assert refused.value.code == code


def test_the_audit_logs_one_parsable_line_and_counts(caplog: pytest.LogCaptureFixture) -> None:
    registry = CollectorRegistry()
    audit = AdminAudit(registry)
    audit.statuses = lambda: {"BTCUSDT": MarketStatus(TradingStatus.HALT, "x", 1), "ETHUSDT": TRADING}
    caplog.set_level(logging.INFO, logger="gateway.admin")
    audit.record("halt", "BTCUSDT", "ok", "10.0.0.1", {"status": "HALT", "reason": 'say "why"'})
    audit.record("halt", "-", "unauthorized", "10.0.0.2")
    audit.record("halt", "-", "unauthorized", "10.0.0.2")
    first, second, _ = caplog.records
    assert first.levelno == logging.INFO and second.levelno == logging.WARNING
    assert first.getMessage() == (
        'admin action="halt" target="BTCUSDT" outcome="ok" client="10.0.0.1"'
        ' detail={"reason": "say \\"why\\"", "status": "HALT"}'
    )
    text = generate_latest(registry).decode()
    assert 'exchange_admin_actions_total{action="halt",outcome="ok"} 1.0' in text
    assert 'exchange_admin_actions_total{action="halt",outcome="unauthorized"} 2.0' in text
    assert 'exchange_market_status{status="HALT",symbol="BTCUSDT"} 1.0' in text
    assert 'exchange_market_status{status="TRADING",symbol="BTCUSDT"} 0.0' in text
    assert 'exchange_market_status{status="TRADING",symbol="ETHUSDT"} 1.0' in text
