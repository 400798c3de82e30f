"""A market's order book as its market-data streams see it: price -> total quantity per side, in
integer units, at update id `seq` (the last engine event seq applied).

Loaded from depth:{SYMBOL} (top N levels per side: a side that long may be truncated, and the
levels beyond it are unknown) and kept current with the changed levels of each md message.
"""

import json
from collections.abc import Iterable
from itertools import islice

from sortedcontainers import SortedDict

Level = tuple[int, int]


class Snapshot:
    """depth:{SYMBOL} decoded: {"lastUpdateId": seq, "bids": [[price, qty], ...], "asks": [...]}."""

    __slots__ = ("asks", "bids", "seq")

    def __init__(self, seq: int, bids: list[Level], asks: list[Level]) -> None:
        self.seq = seq
        self.bids = bids
        self.asks = asks

    @classmethod
    def decode(cls, raw: bytes | None) -> "Snapshot":
        """The snapshot in `raw`; an empty book at update id 0 when the key does not exist."""
        if raw is None:
            return cls(0, [], [])
        doc = json.loads(raw)
        return cls(
            int(doc["lastUpdateId"]),
            [(int(p), int(q)) for p, q in doc["bids"]],
            [(int(p), int(q)) for p, q in doc["asks"]],
        )


class LocalBook:
    __slots__ = ("asks", "bids", "max_levels", "seq", "truncated_asks", "truncated_bids")

    def __init__(self, max_levels: int) -> None:
        self.max_levels = max_levels
        self.bids: SortedDict[int, int] = SortedDict()
        self.asks: SortedDict[int, int] = SortedDict()
        self.seq = 0
        self.truncated_bids = self.truncated_asks = False

    @classmethod
    def from_snapshot(
        cls, snap: Snapshot, max_levels: int, previous: "LocalBook | None" = None
    ) -> "LocalBook":
        """The book of `snap`. Where a side of `snap` may be truncated, levels of `previous` beyond
        its last price are kept (they are the best knowledge of the deeper book)."""
        book = cls(max_levels)
        book.seq = snap.seq
        book.bids.update(snap.bids)
        book.asks.update(snap.asks)
        book.truncated_bids = len(snap.bids) >= max_levels
        book.truncated_asks = len(snap.asks) >= max_levels
        if previous is not None:
            if book.truncated_bids:
                floor = snap.bids[-1][0]
                book.bids.update((p, q) for p, q in previous.bids.items() if p < floor)
            if book.truncated_asks:
                ceiling = snap.asks[-1][0]
                book.asks.update((p, q) for p, q in previous.asks.items() if p > ceiling)
        return book

    def apply(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Set each level's new total; a total of 0 removes the level."""
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for price, qty in levels:
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)

    def needs_refill(self) -> bool:
        """Whether a truncated side has shrunk so far that levels beyond it may now belong in
        view (then the book is loaded again from a snapshot)."""
        half = self.max_levels // 2
        return (self.truncated_bids and len(self.bids) < half) or (
            self.truncated_asks and len(self.asks) < half
        )

    def best_bid(self) -> Level | None:
        return self.bids.peekitem(-1) if self.bids else None

    def best_ask(self) -> Level | None:
        return self.asks.peekitem(0) if self.asks else None

    def top(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best `n` levels of each side, best first."""
        bids, asks = self.bids, self.asks
        return (
            [(p, bids[p]) for p in islice(reversed(bids), n)],
            [(p, asks[p]) for p in islice(asks, n)],
        )

    def changes_to(self, other: "LocalBook") -> tuple[dict[int, int], dict[int, int]]:
        """The levels that differ from `other` as other's totals (0 where other has none):
        applied to this book, they make it `other`."""
        return _side_changes(self.bids, other.bids), _side_changes(self.asks, other.asks)


def _side_changes(old: "SortedDict[int, int]", new: "SortedDict[int, int]") -> dict[int, int]:
    changes = {p: q for p, q in new.items() if old.get(p) != q}
    changes.update((p, 0) for p in old if p not in new)
    return changes
