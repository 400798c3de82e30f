"""MatchingEngine.apply_journal, the engine service's loop: each command's events as `apply`
gives them, less those already written before a restart."""

from matching import MatchingEngine, Side
from matching.commands import Command
from tests.corehelpers import SPEC, cancel, cancel_all, limit, market

BUY, SELL = Side.BUY, Side.SELL

COMMANDS: list[Command] = [
    limit(1, 5, SELL, 150, 2),
    limit(2, 6, SELL, 151, 1),
    limit(3, 7, BUY, 151, 3),  # takes both levels
    cancel(6, oid=2),  # already filled: rejected
    limit(4, 5, BUY, 140, 1),
    market(5, 8, SELL, qty=1, reserve=1),
    cancel_all(5),  # nothing of user 5 left open: rejected
]


def test_apply_journal_gives_each_commands_events_as_apply_does() -> None:
    one_by_one = MatchingEngine(SPEC)
    expected = [one_by_one.apply(c) for c in COMMANDS]
    assert any(len(events) > 1 for events in expected)
    batched = MatchingEngine(SPEC)
    assert batched.apply_journal(COMMANDS, 0) == expected
    assert batched.state_hash() == one_by_one.state_hash()


def test_events_already_written_are_left_out_and_the_state_is_the_same() -> None:
    reference = MatchingEngine(SPEC)
    expected = [reference.apply(c) for c in COMMANDS]
    written_seq = expected[2][1].seq  # written up to the middle of the third command's events
    replayed = MatchingEngine(SPEC).apply_journal(COMMANDS, 0)
    again = MatchingEngine(SPEC)
    got = again.apply_journal(COMMANDS, written_seq)
    assert got[:2] == [[], []]
    assert got[2] == [e for e in expected[2] if e.seq > written_seq] != []
    assert got[3:] == expected[3:] == replayed[3:]
    assert again.state_hash() == reference.state_hash()
