"""JSON text written from templates (settlement's hot path): byte for byte what orjson.dumps
makes of the same values."""

import orjson


def json_text(value: str) -> str:
    """`value` as a JSON string, as orjson writes it."""
    if value.isalnum() and value.isascii():  # (most client order ids, symbols, assets)
        return f'"{value}"'
    return orjson.dumps(value).decode()


def json_bool(value: bool) -> str:
    return "true" if value else "false"
