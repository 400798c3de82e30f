"""The authenticated caller, whichever way it authenticated."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: `via` is "api_key" or "session"."""

    user_id: int
    via: str
