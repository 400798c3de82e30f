"""lease.lua's arguments: every fenced command short enough for its unpack (chunked, write_args),
and XREAD replies as hiredis parses them (redisio.stream_entries)."""

import pytest

from exchange_core import redisio
from exchange_core.lease import MAX_COMMAND_WORDS, CommandTooLong, chunked, write_args


def test_write_args_frames_each_command_and_refuses_one_too_long() -> None:
    assert write_args([("SET", "k", "v"), ("DEL", "k")]) == [3, "SET", "k", "v", 2, "DEL", "k"]
    longest = ("ZREM", "k", *range(MAX_COMMAND_WORDS - 2))
    assert len(write_args([longest])) == MAX_COMMAND_WORDS + 1
    with pytest.raises(CommandTooLong):
        write_args([("SET", "k", "v"), (*longest, "one-more")])


def test_chunked_splits_members_and_keeps_their_order() -> None:
    assert chunked("ZREM", "k", []) == []
    assert chunked("ZREM", "k", ["a", "b", "c"], size=2) == [("ZREM", "k", "a", "b"), ("ZREM", "k", "c")]
    members = [f"m{i}" for i in range(8_001)]
    commands = chunked("ZREM", "k", members)
    assert [m for c in commands for m in c[2:]] == members
    assert max(len(c) for c in commands) == 1_002
    write_args(commands)  # none too long


def test_stream_entries_in_redis_py_shape() -> None:
    assert redisio.stream_entries(None) == []
    reply = [[b"evt:{X}", [[b"1-0", [b"e", b"one", b"f", b"x"]], [b"2-0", [b"e", b"two"]]]]]
    assert redisio.stream_entries(reply) == [
        (b"evt:{X}", [(b"1-0", {b"e": b"one", b"f": b"x"}), (b"2-0", {b"e": b"two"})])
    ]
