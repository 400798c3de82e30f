"""A base for the core's value objects built on the hot path (commands and events)."""

from typing import ClassVar

from mypy_extensions import mypyc_attr


@mypyc_attr(acyclic=True)
class Record:
    """Value equality and repr over `FIELDS`, the constructor's parameters in order.

    Records and their subclasses (each marked so too) are acyclic: their fields hold ints,
    strings, tuples of those and lists of commands, never anything that refers back to a record.
    Compiled, they are therefore left out of the cycle collector (no GC header, no tracking and
    no collection triggered by creating one); subclasses must keep to such fields."""

    FIELDS: ClassVar[tuple[str, ...]] = ()

    def values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.values() == other.values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.values()))

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.FIELDS)
        return f"{type(self).__name__}({args})"
