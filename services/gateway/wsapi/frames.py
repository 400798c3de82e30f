"""The WebSocket API's frames (Binance's ws-api v3): a request is a JSON object in a text frame,
{"id", "method", "params"}; an answer is {"id", "status", "result" | "error", "rateLimits"}.

Parameters arrive as JSON values, and the operations behind them (gateway.orders, gateway.replace,
...) take REST's strings, so each value becomes the text REST would carry: a string as it is, a
number as it was written (its literal, never through a float), true/false as "true"/"false", a
list as compact JSON (exchangeInfo's `symbols`), null as if absent.

A SIGNED request's signature covers its parameters but `signature`, sorted by name, joined as
`name=value&...` with the values as above (ccxt's rawencode). python-binance URL-encodes the
values (urlencode): for the values clients send (symbols, numbers, ids of letters, digits, `-`
and `_`) the two are the same text; where they differ both are accepted.
"""

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson

from exchange_core.errors import MANDATORY_PARAM_EMPTY_OR_MALFORMED, ApiError
from gateway.responses import JsonObject

RequestId = int | str | None
MAX_ID_LENGTH = 128
INT64 = range(-(1 << 63), 1 << 63)


class _Number(str):
    """A JSON integer as it was written (so that an integer id can be answered as one)."""


class _Fraction(str):
    """A JSON number with a fraction or exponent, as it was written."""


class BadFrame(Exception):
    """A frame that is not a request: answered with `request_id` (None when it has none)."""

    def __init__(self, request_id: RequestId, error: ApiError) -> None:
        super().__init__(error.msg)
        self.request_id = request_id
        self.error = error


@dataclass(frozen=True, slots=True)
class Request:
    id: RequestId
    method: str
    params: dict[str, str]


def _malformed(what: str) -> ApiError:
    return ApiError(MANDATORY_PARAM_EMPTY_OR_MALFORMED, f"Malformed request: {what}.")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_int=_Number, parse_float=_Fraction, parse_constant=_no_constant)


def _load(text: str | bytes) -> Any:
    """json.loads(text) with numbers kept as written (one decoder for every frame)."""
    if isinstance(text, str):
        if text.startswith("\ufeff"):
            raise ValueError("Unexpected UTF-8 BOM")
    else:
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    return _DECODER.decode(text)


def _plain_request(text: str | bytes) -> Request | None:
    """The request in a frame of the common shape, read by orjson: no list, at most two objects
    (the request and its params), no "-0" (the only JSON integer whose text is not Python's str()
    of its value), an id that is an integer in INT64, a string of at most MAX_ID_LENGTH characters
    or null, a non-empty string method, params (if any) of strings, integers in 64 bits,
    booleans and nulls. None for any other frame: parse_request then reads it the general way,
    which gives the same request for these."""
    if isinstance(text, str):
        if "[" in text or "-0" in text or text.count("{") > 2:
            return None
    elif b"[" in text or b"-0" in text or text.count(b"{") > 2:
        return None
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if type(document) is not dict or "id" not in document:
        return None
    method = document.get("method")
    if type(method) is not str or not method:
        return None
    request_id = document["id"]
    if type(request_id) is int:
        if request_id not in INT64:
            return None
    elif not (request_id is None or (type(request_id) is str and len(request_id) <= MAX_ID_LENGTH)):
        return None
    params: dict[str, str] = {}
    raw = document.get("params")
    if raw is not None:
        if type(raw) is not dict:
            return None
        for name, value in raw.items():
            kind = type(value)
            if kind is str:
                params[name] = value
            elif kind is bool:
                params[name] = "true" if value else "false"
            elif kind is int:
                params[name] = str(value)
            elif value is not None:
                return None
    return Request(request_id, method, params)


def _request_id(document: dict[str, Any]) -> RequestId:
    """The id as the client will recognise it; raises BadFrame for an id of another type."""
    if "id" not in document:
        raise BadFrame(None, _malformed("'id' is missing"))
    value = document["id"]
    if isinstance(value, _Number) and len(value) <= 20 and int(value) in INT64:
        return int(value)
    if value is None or (type(value) is str and len(value) <= MAX_ID_LENGTH):
        return value
    what = f"'id' must be a 64-bit integer, a string of at most {MAX_ID_LENGTH} characters or null"
    raise BadFrame(None, _malformed(what))


def param_text(name: str, value: Any) -> str | None:
    """A parameter's value as REST's text (see the module docstring); None for null. Raises
    ApiError(-1102) for an object."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return json.dumps(value, separators=(",", ":"))
    raise ApiError(
        MANDATORY_PARAM_EMPTY_OR_MALFORMED,
        f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
    )


def parse_request(text: str | bytes) -> Request:
    """The request in a frame. Raises BadFrame(-1102) for a frame that is not a JSON object
    with an id (64-bit integer, string or null), a string method and, if any, an object of
    params; JSON nested deeper than the interpreter's recursion limit is such a frame too."""
    plain = _plain_request(text)
    return plain if plain is not None else _general_request(text)


def _general_request(text: str | bytes) -> Request:
    """parse_request for any frame, numbers read as written."""
    try:
        document = _load(text)
    except (ValueError, UnicodeDecodeError):
        raise BadFrame(None, _malformed("not valid JSON")) from None
    except RecursionError:
        raise BadFrame(None, _malformed("JSON nested too deeply")) from None
    if not isinstance(document, dict):
        raise BadFrame(None, _malformed("not a JSON object"))
    request_id = _request_id(document)
    method = document.get("method")
    if type(method) is not str or not method:
        raise BadFrame(request_id, _malformed("'method' must be a non-empty string"))
    raw = document.get("params", {})
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadFrame(request_id, _malformed("'params' must be an object"))
    params: dict[str, str] = {}
    try:
        for name, value in raw.items():
            text_value = param_text(name, value)
            if text_value is not None:
                params[name] = text_value
    except ApiError as error:
        raise BadFrame(request_id, error) from None
    except RecursionError:
        raise BadFrame(request_id, _malformed("JSON nested too deeply")) from None
    return Request(request_id, method, params)


def signature_payload(params: dict[str, str]) -> bytes:
    """What a signature covers (see the module docstring): the raw `name=value&...` of the
    parameters but `signature`, sorted by name."""
    return "&".join([f"{name}={params[name]}" for name in sorted(params) if name != "signature"]).encode()


def encoded_signature_payload(params: dict[str, str]) -> bytes | None:
    """signature_payload with URL-encoded values (python-binance's), None when that is the same
    text. Computed only when the raw payload's signature did not match: it costs more."""
    items = sorted((name, value) for name, value in params.items() if name != "signature")
    encoded = urlencode(items).encode()
    return None if encoded == signature_payload(params) else encoded


def signature_payloads(params: dict[str, str]) -> tuple[bytes, ...]:
    """Every payload a signature may cover: the raw one, then the URL-encoded one if it differs."""
    encoded = encoded_signature_payload(params)
    raw = signature_payload(params)
    return (raw,) if encoded is None else (raw, encoded)


def answer(
    request_id: RequestId,
    status: int,
    *,
    result: object = None,
    error: JsonObject | None = None,
    rate_limits: list[JsonObject] | None = None,
) -> str:
    """An answer frame's text: `result` when status is 200, else `error` ({"code", "msg"} and
    maybe "data"); `rateLimits` unless `rate_limits` is None."""
    document: JsonObject = {"id": request_id, "status": status}
    if error is None:
        document["result"] = result
    else:
        document["error"] = error
    if rate_limits is not None:
        document["rateLimits"] = rate_limits
    return orjson.dumps(document).decode()
