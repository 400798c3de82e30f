"""The gateway's parameter parsers: ASCII digits only, whole-string matches, bounded values, and
never an exception other than ApiError whatever the text."""

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange_core.errors import ILLEGAL_CHARS, INVALID_PARAMETER, ApiError
from exchange_core.klinesql import from_ms
from gateway.validation import (
    MAX_INT_PARAM,
    MAX_TIME_MS,
    client_order_id,
    decimal_units,
    int_param,
    parse_int,
    time_param,
)


def _code(call: Callable[[], object]) -> int:
    """The code of the ApiError `call` raises (the test fails when it raises none)."""
    with pytest.raises(ApiError) as raised:
        call()
    return raised.value.code


@pytest.mark.parametrize("text", ["0", "7", "500", "00012", str(MAX_INT_PARAM), "9" * 18])
def test_ascii_digits_are_numbers(text: str) -> None:
    assert parse_int(text, "limit") == int(text)


@pytest.mark.parametrize(
    "text",
    [
        "\u00b2",  # superscript two: isdigit() but not int()
        "1\u00b2",
        "\u0665",  # Arabic-Indic five: int() would accept it
        "\uff15",  # fullwidth five
        "1\uff10",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1\n",
        "1_000",
        "1.0",
        "",
        "1" * 21,
        str(MAX_INT_PARAM + 1),
        "99999999999999999999",
    ],
)
def test_anything_else_is_illegal_characters(text: str) -> None:
    assert _code(lambda: parse_int(text, "limit")) == ILLEGAL_CHARS


def test_int_param_defaults_and_names_the_parameter() -> None:
    assert int_param({}, "limit", 500) == 500
    assert int_param({"limit": ""}, "limit", 500) == 500
    with pytest.raises(ApiError) as raised:
        int_param({"limit": "\u00b2"}, "limit")
    assert "'limit'" in raised.value.msg and raised.value.status == 400


def test_times_are_bounded_to_what_a_datetime_holds() -> None:
    assert time_param({"startTime": str(MAX_TIME_MS)}, "startTime") == MAX_TIME_MS
    assert time_param({}, "endTime") is None
    assert _code(lambda: time_param({"endTime": str(MAX_TIME_MS + 1)}, "endTime")) == INVALID_PARAMETER
    assert _code(lambda: time_param({"endTime": "9" * 23}, "endTime")) == ILLEGAL_CHARS


def test_from_ms_clamps_instead_of_overflowing() -> None:
    assert from_ms(MAX_INT_PARAM).year == 9999
    assert from_ms(-MAX_INT_PARAM).year == 1
    assert from_ms(0).year == 1970


@pytest.mark.parametrize("given_id", ["abc\n", "abc\r\n", "\nabc", "ab c", "abc\u00e9", "a" * 37])
def test_client_order_id_matches_the_whole_text(given_id: str) -> None:
    assert _code(lambda: client_order_id({"newClientOrderId": given_id})) == ILLEGAL_CHARS


@pytest.mark.parametrize("amount", ["\u0661.5", "1.\u0665", "1.5\u00b2", "\uff11"])
def test_decimals_match_the_whole_text(amount: str) -> None:
    assert _code(lambda: decimal_units({"quantity": amount}, "quantity", 8)) == ILLEGAL_CHARS


@given(st.text(max_size=40))
def test_int_param_over_any_unicode_is_a_number_or_the_api_error(text: str) -> None:
    try:
        value = int_param({"limit": text}, "limit")
    except ApiError as exc:
        assert exc.code == ILLEGAL_CHARS and exc.status == 400
    else:
        assert value is None or (text.isascii() and text.isdecimal() and 0 <= value <= MAX_INT_PARAM)


@given(st.one_of(st.integers(), st.integers().map(str), st.text(alphabet="0123456789\u00b2\u0665\uff15-+ ")))
def test_time_param_over_any_integer_text_is_a_time_or_the_api_error(raw: object) -> None:
    text = str(raw)
    try:
        value = time_param({"startTime": text}, "startTime")
    except ApiError as exc:
        assert exc.code in (ILLEGAL_CHARS, INVALID_PARAMETER)
    else:
        assert value is None or 0 <= value <= MAX_TIME_MS
