"""JSON answers: the type of a JSON object the gateway builds, and a response serialized by orjson,
returned directly by hot endpoints so that FastAPI does not walk the payload again
(jsonable_encoder) before serializing it."""

import orjson
from fastapi.responses import Response

JsonObject = dict[str, object]
"""A JSON object the gateway answers (Binance's shapes): built, then only serialized."""


class FastJSON(Response):
    media_type = "application/json"

    def render(self, content: object) -> bytes:
        return orjson.dumps(content)
