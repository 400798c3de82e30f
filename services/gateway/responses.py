"""A JSON response serialized by orjson, returned directly by hot endpoints so that FastAPI does
not walk the payload again (jsonable_encoder) before serializing it."""

from typing import Any

import orjson
from fastapi.responses import Response


class FastJSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
