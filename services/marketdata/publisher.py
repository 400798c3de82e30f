"""What a market feed writes to (a Publisher) and what it counts (FeedCounters)."""

from dataclasses import dataclass
from typing import Protocol


@dataclass
class FeedCounters:
    """Plain integer counters of a process's market feeds (exported as metrics by the process)."""

    md_messages: int = 0
    md_gaps: int = 0
    resyncs: int = 0


class Publisher(Protocol):
    """What a market feed writes to: the WebSocket tier's Hub, or the gateway's stream hub."""

    def has(self, name: str) -> bool:
        """Whether stream `name` has a subscriber (a payload nobody wants is not built)."""
        ...

    def publish(self, name: str, payload: bytes) -> None:
        """Deliver `payload` (a JSON document) to every subscriber of `name`."""
        ...
