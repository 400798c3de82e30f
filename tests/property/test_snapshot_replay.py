"""Snapshot at any point + replay of the rest = the same state as running straight through."""

from hypothesis import given, settings
from hypothesis import strategies as st

from matching import Command, MatchingEngine
from tests.corehelpers import SPEC
from tests.property.strategies import commands


@settings(max_examples=1000, deadline=None)
@given(commands(), st.data())
def test_snapshot_then_replay_equals_straight_run(cmds: list[Command], data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(cmds)))
    straight = MatchingEngine(SPEC)
    straight_events = [straight.apply(c) for c in cmds]

    first = MatchingEngine(SPEC)
    for c in cmds[:cut]:
        first.apply(c)
    resumed = MatchingEngine.restore(SPEC, first.snapshot())
    assert resumed.state_hash() == first.state_hash()
    resumed_events = [resumed.apply(c) for c in cmds[cut:]]

    assert resumed_events == straight_events[cut:]
    assert resumed.state_hash() == straight.state_hash()
