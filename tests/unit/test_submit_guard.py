"""One submit guard: the gateway's bound, and the orphan sweeper's, which may not be set below it."""

import pytest
from pydantic import ValidationError

from exchange_core.submitguard import SUBMIT_GUARD_MS
from gateway import orders
from settlement.settings import SettlementSettings


def test_the_sweeper_waits_the_gateways_guard_by_default() -> None:
    assert SettlementSettings().submit_guard_ms == SUBMIT_GUARD_MS == orders.SUBMIT_GUARD_MS


def test_the_sweepers_guard_cannot_be_set_below_the_gateways() -> None:
    with pytest.raises(ValidationError):
        SettlementSettings(submit_guard_ms=SUBMIT_GUARD_MS - 1)


def test_nor_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUBMIT_GUARD_MS", str(SUBMIT_GUARD_MS - 1))
    with pytest.raises(ValidationError):
        SettlementSettings()
    monkeypatch.setenv("SUBMIT_GUARD_MS", str(SUBMIT_GUARD_MS + 5_000))
    assert SettlementSettings().submit_guard_ms == SUBMIT_GUARD_MS + 5_000
