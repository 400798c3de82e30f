"""Decimal strings at the edge, integers inside: exact conversion both ways, never a float."""

from decimal import Decimal, InvalidOperation

PPM = 1_000_000


class UnitError(ValueError):
    """A decimal that is malformed or does not fit the unit grid."""


def to_units(text: object, decimals: int) -> int:
    """`text` (e.g. "0.015") as an integer count of 10**-decimals units.

    Raises UnitError when `text` is not a string of a plain finite decimal (a TOML or JSON
    number included: it may already have been rounded) or has more precision than `decimals`
    allows (it is never rounded).
    """
    if not isinstance(text, str):
        raise UnitError(f"not a decimal number: {text!r}")
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise UnitError(f"not a decimal number: {text!r}") from exc
    if not value.is_finite():
        raise UnitError(f"not a finite number: {text!r}")
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise UnitError(f"{text} has more than {decimals} decimal places")
    return int(scaled)


def from_units(units: int, decimals: int) -> str:
    """`units` of 10**-decimals as a decimal string with exactly `decimals` places."""
    if units < 0:
        return "-" + from_units(-units, decimals)
    digits = str(units)  # (settlement's hot path: string slicing beats divmod and formatting)
    if not decimals:
        return digits
    if len(digits) <= decimals:
        digits = "0" * (decimals + 1 - len(digits)) + digits
    return f"{digits[:-decimals]}.{digits[-decimals:]}"


def fraction_to_ppm(text: str) -> int:
    """A fee written as a fraction ("0.001") in parts per million (1000)."""
    return to_units(text, 6)
