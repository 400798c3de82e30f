"""Redis stream entry ids: `<milliseconds>-<sequence>`, the milliseconds being Redis's clock when
it appended the entry."""


def entry_ms(entry_id: bytes) -> int:
    """The milliseconds part of an entry id (`b"1700000000000-3"` -> 1700000000000)."""
    return int(entry_id.split(b"-", 1)[0])


def stream_id(raw: bytes | str) -> tuple[int, int]:
    """(milliseconds, sequence) of an entry id; an id without its sequence (`"1700000000000"`)
    has sequence 0. The tuples order as Redis orders the ids."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def entry_before(entry_id: bytes) -> bytes:
    """The greatest stream entry id below `entry_id` (XREAD after it returns `entry_id`)."""
    ms, seq = stream_id(entry_id)
    return f"{ms}-{seq - 1}".encode() if seq else f"{ms - 1}-{2**64 - 1}".encode()
