"""The bot's counters."""

from dataclasses import dataclass


@dataclass
class Stats:
    """What the bot did since start, over every market (logged periodically)."""

    placed: int = 0
    cancelled: int = 0
    takers: int = 0
    trades: int = 0
    rejected: int = 0
    unavailable: int = 0

    def line(self) -> str:
        return (
            f"placed={self.placed} cancelled={self.cancelled} takers={self.takers} "
            f"taker_fills={self.trades} rejected={self.rejected} gateway_errors={self.unavailable}"
        )
