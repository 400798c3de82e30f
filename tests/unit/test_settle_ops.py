"""settle.lua's operations as arguments (exchange_core.ledger.encode_op / decode_op)."""

import pytest

from exchange_core.ledger import SettleFields, decode_op, encode_op


@pytest.mark.parametrize(
    ("op", "text"),
    [
        ((5, "B", "USDT:locked", -300, "", ""), "5\nB\nUSDT:locked\n-300"),
        ((5, "C", "BTCUSDT:10", "", "", ""), "5\nC\nBTCUSDT:10\n"),
        ((6, "X", "BTCUSDT:10", "", "", ""), "6\nX\nBTCUSDT:10"),
        ((7, "O", 10, b'{"i":10}', 1, "a\nb"), '7\nO\n10\n1\n{"i":10}\na\nb'),
        ((8, "T", 3, b'{"id":3}', "", ""), '8\nT\n3\n{"id":3}'),
        ((9, "R", "BTCUSDT:11", 30, "", ""), "9\nR\nBTCUSDT:11\n30"),
        ((9, "L", 7, '{"id":7}', 0, "5:x\ny"), '9\nL\n7\n0\n{"id":7}\n5:x\ny'),
        ((9, "P", 4, '{"id":4}', 10_000, ""), '9\nP\n4\n10000\n{"id":4}'),
    ],
)
def test_an_operation_is_its_values_joined_by_newlines_in_the_scripts_order(
    op: SettleFields, text: str
) -> None:
    assert encode_op(op) == text
    seq, kind, *values = op
    as_text = tuple(v.decode() if isinstance(v, bytes) else str(v) for v in values)
    assert decode_op(text) == (seq, kind, *as_text)
