"""gateway.params: the split of bodies without escapes gives parse_qsl's pairs, and totalParams
without the signature, whatever the shape of the input."""

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange_core.errors import ILLEGAL_CHARS, TOO_MANY_PARAMETERS, ApiError
from gateway.params import MAX_PARAMS, parse_params, signed_payload

# Bytes of form bodies, escapes included, with the separators and names that matter here.
PIECES = st.sampled_from(
    [b"&", b"=", b"a", b"symbol", b"signature", b"x", b"1", b"%41", b"+", b"%", b"\xc3\xa9", b"\xff", b"&&"]
)
BODIES = st.lists(PIECES, max_size=30).map(b"".join)


def reference(raw: bytes) -> list[tuple[str, str]] | str:
    try:
        return parse_qsl(raw.decode(), keep_blank_values=True, errors="strict", max_num_fields=MAX_PARAMS)
    except UnicodeDecodeError:
        return "illegal"
    except ValueError:
        return "too many"


def parsed(raw: bytes) -> list[tuple[str, str]] | str:
    try:
        return list(parse_params(b"", raw).items())
    except ApiError as exc:
        return {ILLEGAL_CHARS: "illegal", TOO_MANY_PARAMETERS: "too many"}[exc.code]


@given(BODIES)
def test_a_body_gives_parse_qsls_pairs(raw: bytes) -> None:
    expected = reference(raw)
    if isinstance(expected, list) and len({name for name, _ in expected}) < len(expected):
        expected = "too many"  # a parameter given twice: -1101 as well
    assert parsed(raw) == expected


def test_a_signed_order_body_is_split_without_unquoting() -> None:
    body = b"symbol=BTCUSDT&side=BUY&price=30000&quantity=&newClientOrderId=a-b_c&signature=ab12"
    assert parse_params(b"", body) == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "price": "30000",
        "quantity": "",
        "newClientOrderId": "a-b_c",
        "signature": "ab12",
    }


@pytest.mark.parametrize("fields", [MAX_PARAMS, MAX_PARAMS + 1])
def test_more_than_max_params_fields_are_refused(fields: int) -> None:
    body = "&".join(f"p{i}=1" for i in range(fields)).encode()
    if fields > MAX_PARAMS:
        with pytest.raises(ApiError) as refused:
            parse_params(b"", body)
        assert refused.value.code == TOO_MANY_PARAMETERS
    else:
        assert len(parse_params(b"", body)) == fields


@given(BODIES, BODIES)
def test_total_params_drop_every_signature_field(query: bytes, body: bytes) -> None:
    def without(raw: bytes) -> bytes:
        return b"&".join(p for p in raw.split(b"&") if p.partition(b"=")[0] != b"signature")

    expected = (without(query) if b"signature=" in query else query) + (
        without(body) if b"signature=" in body else body
    )
    assert signed_payload(query, body) == expected


def test_a_trailing_signature_is_cut_off() -> None:
    assert signed_payload(b"", b"symbol=BTCUSDT&timestamp=1&signature=ff") == b"symbol=BTCUSDT&timestamp=1"
    assert signed_payload(b"", b"xsignature=1&signature=ff") == b"xsignature=1"


@given(BODIES, BODIES)
def test_query_and_body_give_parse_qsls_pairs_of_both(query: bytes, body: bytes) -> None:
    first, second = reference(query), reference(body)
    expected: list[tuple[str, str]] | str = first if isinstance(first, str) else second
    if isinstance(first, list) and isinstance(second, list):
        expected = first + second
        if len({name for name, _ in expected}) < len(expected):
            expected = "too many"
    try:
        got: list[tuple[str, str]] | str = list(parse_params(query, body).items())
    except ApiError as exc:
        got = {ILLEGAL_CHARS: "illegal", TOO_MANY_PARAMETERS: "too many"}[exc.code]
    assert got == expected
