"""The hand-written encoding of a new order's journal entry gives protobuf's bytes, and leaves to
the official encoder (None) whatever it does not write."""

from hypothesis import given
from hypothesis import strategies as st

from exchange_core.commandencode import encode_place_order
from exchange_core.protocol import command_to_proto, encode_command
from matching import PlaceOrder

# Edges of every range the wire has: 0 (left out), 1-byte and 10-byte varints, past int64.
numbers = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64 + 5),
    st.sampled_from([0, 1, 127, 128, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -1]),
)
small = st.integers(min_value=0, max_value=2**40)
texts = st.one_of(st.text(max_size=20), st.sampled_from(["", "BTCUSDT", "é€😀", "\ud800"]))


def official(command: PlaceOrder, reply_to: str, correlation_id: str) -> bytes | str:
    try:
        return command_to_proto(command, reply_to, correlation_id).SerializeToString()
    except (ValueError, TypeError, UnicodeError) as exc:
        return type(exc).__name__


orders = st.builds(
    PlaceOrder, texts, numbers, numbers, numbers, numbers, numbers, numbers, numbers, numbers, numbers,
    numbers, texts, small, numbers, numbers, numbers,
)  # fmt: skip


@given(orders, texts, texts)
def test_the_bytes_are_protobufs_or_none(command: PlaceOrder, reply_to: str, correlation_id: str) -> None:
    expected = official(command, reply_to, correlation_id)
    encoded = encode_place_order(command, reply_to, correlation_id)
    if encoded is not None:
        assert encoded == expected
    try:
        got: bytes | str = encode_command(command, reply_to, correlation_id)
    except (ValueError, TypeError, UnicodeError) as exc:
        got = type(exc).__name__
    assert got == expected


def test_an_ordinary_order_is_written_by_hand() -> None:
    order = PlaceOrder("BTCUSDT", 123_456, 42, 1, 1, 1, 3_000_000, 20_000, 0, 60_000_000, 0, "b1")
    encoded = encode_place_order(order, "reply:gw-1", "BTCUSDT:o42:123456:1")
    assert encoded is not None
    assert encoded == command_to_proto(order, "reply:gw-1", "BTCUSDT:o42:123456:1").SerializeToString()
    # An empty order is still a place_order command.
    empty = PlaceOrder("", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "")
    assert encode_place_order(empty, "", "") == b"\x0a\x00"


in_range = st.one_of(st.integers(min_value=0, max_value=2**31 - 1), st.sampled_from([0, 127, 128]))
valid_texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
valid_orders = st.builds(
    PlaceOrder, valid_texts, small, small, in_range, in_range, in_range, small, small, small, small,
    in_range, valid_texts, small, small, small, small,
)  # fmt: skip


@given(valid_orders, valid_texts, valid_texts)
def test_orders_in_range_are_all_written_by_hand(
    command: PlaceOrder, reply_to: str, correlation_id: str
) -> None:
    assert encode_place_order(command, reply_to, correlation_id) == official(
        command, reply_to, correlation_id
    )
