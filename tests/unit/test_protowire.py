"""protowire.read_varint: native arithmetic for nine bytes, the general path for the tenth;
read_key: one-byte keys read in place, longer ones through read_varint."""

import pytest

from exchange_core.protowire import Irregular, read_key, read_varint


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


@pytest.mark.parametrize(
    "value",
    [
        0,
        1,
        127,
        128,
        2**14,
        2**31,
        2**49 - 1,
        2**56 - 1,
        2**56,
        2**62 - 1,
        2**62,
        2**63 - 1,
        2**63,
        2**64 - 1,
    ],
)
def test_read_varint_either_side_of_63_bits(value: int) -> None:
    data = b"\x05" + varint(value) + b"\x01"
    assert read_varint(data, 1) == (value, len(data) - 1)


def test_a_tenth_byte_keeps_bit_63_only_and_an_eleventh_is_irregular() -> None:
    nine = b"\xff" * 9
    assert read_varint(nine + b"\x01", 0) == (2**64 - 1, 10)
    assert read_varint(nine + b"\x7f", 0) == (2**64 - 1, 10)  # bits past 64 dropped, as protobuf does
    assert read_varint(b"\x80" * 9 + b"\x02", 0) == (0, 10)
    with pytest.raises(Irregular):
        read_varint(nine + b"\x81\x01", 0)
    with pytest.raises(IndexError):
        read_varint(b"\x80\x80", 0)


def test_read_key_in_one_byte_and_longer() -> None:
    for number in [1, 2, 15, 16, 2047, 2**29 - 1]:
        for wire_type in [0, 1, 2, 5, 7]:
            data = b"\x05" + varint(number << 3 | wire_type) + b"\x01"
            assert read_key(data, 1) == (number, wire_type, len(data) - 1)
    for key in [0, 7, 2**32]:  # field number 0, or past 32 bits
        with pytest.raises(Irregular):
            read_key(varint(key), 0)
    with pytest.raises(IndexError):
        read_key(b"\x08", 1)
