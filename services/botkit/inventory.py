"""The bot's holdings, and how far they are from where they started (the inventory skew)."""

from decimal import Decimal
from typing import Any

from botkit.ladder import skew_bps


class Inventory:
    """The bot's holdings per asset (free + locked) from GET /api/v3/account; the first reading of
    an asset is the baseline that inventory skew measures against."""

    def __init__(self, max_skew_bps: float, range_pct: float) -> None:
        self.max_skew_bps = max_skew_bps
        self.range_pct = range_pct
        self.held: dict[str, Decimal] = {}
        self.baseline: dict[str, Decimal] = {}

    def update(self, account: dict[str, Any]) -> None:
        self.held = {
            str(b["asset"]): Decimal(b["free"]) + Decimal(b["locked"]) for b in account.get("balances", [])
        }
        for asset, amount in self.held.items():
            self.baseline.setdefault(asset, amount)

    def skew_bps(self, asset: str) -> float:
        baseline = self.baseline.get(asset)
        if baseline is None:
            return 0.0
        held = self.held.get(asset, Decimal(0))  # zero balances are omitted from the account
        return skew_bps(held, baseline, self.max_skew_bps, self.range_pct)
