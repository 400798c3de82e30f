"""PostgreSQL's binary COPY format, as the DB writer sends its rows (dbwriter.rows builds them):
a header, then per row its field count and per field its length (-1: NULL) and big-endian
value, then a trailer. Column types here: bigint (8 bytes), integer (4), smallint (2),
timestamptz (microseconds since 2000-01-01 UTC, 8 bytes) and text (UTF-8).

`decode_rows` reads such a payload back into Python values, for servers without COPY FROM STDIN
(the rows then go by INSERT) and for tests.
"""

from datetime import UTC, datetime, timedelta
from struct import Struct
from typing import Final

HEADER: Final = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags 0, no header extension
TRAILER: Final = b"\xff\xff"  # a field count of -1
NULL: Final = b"\xff\xff\xff\xff"  # a field length of -1
# The epoch of timestamptz values, in milliseconds since the Unix epoch.
PG_EPOCH_MS: Final = 946_684_800_000
PG_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)

_SIZES: Final = {"bigint": 8, "integer": 4, "smallint": 2, "timestamptz": 8}
_FIELD: Final = {8: Struct(">q"), 4: Struct(">i"), 2: Struct(">h")}
_INT16: Final = Struct(">h")
_INT32: Final = Struct(">i")


def pg_time(ms: int) -> int:
    """The timestamptz value (microseconds since 2000-01-01 UTC) of `ms` since the Unix epoch."""
    return (ms - PG_EPOCH_MS) * 1000


def decode_rows(payload: bytes, columns: dict[str, str]) -> list[tuple[object, ...]]:
    """The rows of a binary COPY `payload` whose fields are `columns` (name -> SQL type): ints,
    str, UTC datetimes and None. Raises ValueError for a payload of another shape."""
    if not payload.startswith(HEADER) or not payload.endswith(TRAILER):
        raise ValueError("not a binary COPY payload")
    kinds = list(columns.values())
    rows: list[tuple[object, ...]] = []
    pos, end = len(HEADER), len(payload) - len(TRAILER)
    while pos < end:
        (count,) = _INT16.unpack_from(payload, pos)
        if count != len(kinds):
            raise ValueError(f"a row of {count} fields, expected {len(kinds)}")
        pos += 2
        row: list[object] = []
        for kind in kinds:
            (size,) = _INT32.unpack_from(payload, pos)
            pos += 4
            if size < 0:
                row.append(None)
                continue
            value = payload[pos : pos + size]
            pos += size
            if kind == "text":
                row.append(value.decode())
            elif _SIZES.get(kind) != size:
                raise ValueError(f"a {kind} field of {size} bytes")
            elif kind == "timestamptz":
                row.append(PG_EPOCH + timedelta(microseconds=_FIELD[8].unpack(value)[0]))
            else:
                row.append(_FIELD[size].unpack(value)[0])
        rows.append(tuple(row))
    if pos != end:
        raise ValueError("a truncated binary COPY payload")
    return rows
