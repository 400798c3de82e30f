"""Redis stream entry ids, parsed in one place."""

from exchange_core.streamids import entry_ms, stream_id


def test_entry_ms_is_the_milliseconds_part() -> None:
    assert entry_ms(b"1700000000000-3") == 1_700_000_000_000
    assert entry_ms(b"1700000000000-0") == 1_700_000_000_000


def test_stream_ids_parse_from_bytes_or_text_with_or_without_sequence() -> None:
    assert stream_id(b"1700000000000-12") == (1_700_000_000_000, 12)
    assert stream_id("1700000000000-12") == (1_700_000_000_000, 12)
    assert stream_id("1700000000000") == (1_700_000_000_000, 0)


def test_stream_ids_order_as_redis_orders_them() -> None:
    ids = ["2-0", "1-10", b"1-9", "10-1", "1-0"]
    assert sorted(ids, key=stream_id) == ["1-0", b"1-9", "1-10", "2-0", "10-1"]
