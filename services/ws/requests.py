"""Client requests on a connection (Binance's live subscribing): parsing and answers.

A request is a JSON object `{"method": M, "params": [...], "id": N}` with M one of METHODS. The
id is, as Binance accepts it, a 64-bit signed integer, a string of at most 36 letters, digits and
dashes (a UUID, as Binance's own SDKs send), or null; it is echoed back unchanged. Answers are
`{"result": ..., "id": N}`; errors `{"error": {"code": C, "msg": ...}, "id": N}` with Binance's
codes: 0 unknown property, 1 invalid value type, 2 invalid request, 3 invalid JSON.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
PROPERTIES = ("combined",)

UNKNOWN_PROPERTY = 0
INVALID_VALUE = 1
INVALID_REQUEST = 2
INVALID_JSON = 3

RequestId = int | str | None
MAX_ID_LENGTH = 36
STRING_ID = re.compile(f"[A-Za-z0-9-]{{1,{MAX_ID_LENGTH}}}")


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    params: list[Any]
    id: RequestId


class RequestError(Exception):
    """A request that cannot be served; `reply()` is the frame that tells the client."""

    def __init__(self, code: int, msg: str, request_id: RequestId = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.request_id = request_id

    def reply(self) -> bytes:
        return error_reply(self.code, self.msg, self.request_id)


def result_reply(result: Any, request_id: RequestId) -> bytes:
    return json.dumps({"result": result, "id": request_id}, separators=(",", ":")).encode()


def error_reply(code: int, msg: str, request_id: RequestId) -> bytes:
    return json.dumps({"error": {"code": code, "msg": msg}, "id": request_id}, separators=(",", ":")).encode()


def parse_request(text: str) -> Request:
    """The request in `text`; raises RequestError with the answer for a malformed one.

    The shape of `params` is checked per method: SUBSCRIBE/UNSUBSCRIBE take a list of stream
    names (strings), SET_PROPERTY `[name, value]`, GET_PROPERTY `[name]`; LIST_SUBSCRIPTIONS none.
    Whether the names are streams is for the caller to say.
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise RequestError(INVALID_JSON, f"Invalid JSON: {exc}") from None
    except RecursionError:
        raise RequestError(INVALID_JSON, "Invalid JSON: nested too deeply") from None
    if not isinstance(doc, dict):
        raise RequestError(INVALID_REQUEST, "Invalid request: expected a JSON object")
    request_id = _request_id(doc.get("id"))
    method = doc.get("method")
    if method is None:
        raise RequestError(INVALID_REQUEST, "Invalid request: missing field `method`", request_id)
    if method not in METHODS:
        expected = ", ".join(f"`{m}`" for m in METHODS)
        raise RequestError(
            INVALID_REQUEST,
            f"Invalid request: unknown variant `{method}`, expected one of {expected}",
            request_id,
        )
    params = doc.get("params")
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise RequestError(INVALID_REQUEST, "Invalid request: `params` must be a list of stream names",
                               request_id)  # fmt: skip
        return Request(method, params, request_id)
    if method == "LIST_SUBSCRIPTIONS":
        return Request(method, [], request_id)
    wanted = 2 if method == "SET_PROPERTY" else 1
    if not isinstance(params, list) or len(params) != wanted:
        raise RequestError(
            INVALID_REQUEST, f"Invalid request: {method} takes {wanted} parameter(s)", request_id
        )
    if not isinstance(params[0], str):
        raise RequestError(INVALID_REQUEST, "Invalid request: property name must be a string", request_id)
    if params[0] not in PROPERTIES:
        raise RequestError(UNKNOWN_PROPERTY, "Unknown property", request_id)
    if method == "SET_PROPERTY" and not isinstance(params[1], bool):
        raise RequestError(INVALID_VALUE, "Invalid value type: expected Boolean", request_id)
    return Request(method, params, request_id)


def _request_id(value: Any) -> RequestId:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < 1 << 63:
        return value
    if isinstance(value, str) and STRING_ID.fullmatch(value):
        return value
    raise RequestError(
        INVALID_REQUEST,
        f"Invalid request: request ID must be a 64-bit integer, a string of at most {MAX_ID_LENGTH}"
        " letters, digits and dashes, or null",
    )
