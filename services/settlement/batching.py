"""How the settlement worker cuts what one XREAD returned into the batches it settles.

An events entry holds one command's events while an engine runs live, but hundreds of commands'
while it catches up: a read of `batch_size` entries can then hold tens of megabytes. Settled as
one batch, its effects are computed for a quarter of a second before Redis gets its first
script; cut by bytes, Redis runs one part's scripts while the worker computes the next one's
(or another market's)."""

from collections.abc import Iterator

from exchange_core.redisio import Entry


def byte_bounded(entries: list[Entry], max_bytes: int) -> Iterator[list[Entry]]:
    """`entries` in order, as consecutive runs whose events (each entry's b"e" field) hold at most
    `max_bytes` together; an entry longer than that is a run of its own. Every entry is in
    exactly one run, and a read that fits is one run (no copy)."""
    start, size = 0, 0
    for i, (_, fields) in enumerate(entries):
        length = len(fields[b"e"])
        if i > start and size + length > max_bytes:
            yield entries[start:i]
            start, size = i, 0
        size += length
    if start < len(entries):
        yield entries if start == 0 else entries[start:]
