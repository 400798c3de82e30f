"""The depth snapshot's JSON: orjson's bytes, or json's past 64-bit numbers, always json's."""

import json

from hypothesis import given
from hypothesis import strategies as st

from engine.service import depth_json

levels = st.lists(
    st.tuples(st.integers(min_value=0, max_value=2**64 - 1), st.integers(min_value=0, max_value=2**70))
)


def expected(depth: dict[str, object]) -> bytes:
    return json.dumps(depth, separators=(",", ":")).encode()


@given(st.integers(min_value=0, max_value=2**64), levels, levels)
def test_depth_json_is_jsons_compact_bytes(
    update_id: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]]
) -> None:
    depth: dict[str, object] = {"lastUpdateId": update_id, "bids": bids, "asks": asks}
    assert depth_json(depth) == expected(depth)


def test_depth_json_edges() -> None:
    for depth in (
        {"lastUpdateId": 0, "bids": [], "asks": []},
        {"lastUpdateId": 7, "bids": [(2**64 - 1, 1)], "asks": [(5, 2**64)]},  # the second takes json
        {"lastUpdateId": 7, "bids": [(-(2**63), 3)], "asks": [(1, -(2**63) - 1)]},
    ):
        assert depth_json(depth) == expected(depth)
