"""The authenticated caller, whichever way it authenticated."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: `via` is "api_key" (then `api_key` is the key it authenticated
    with, and `key_type` that key's type, gateway.keytypes.KeyType's value) or "session"."""

    user_id: int
    via: str
    api_key: str | None = None
    key_type: str | None = None
