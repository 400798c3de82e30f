"""settle.lua calls of several users (Ledger.settle_users_call, settle_calls): their framing."""

from redis.asyncio import Redis

from exchange_core.keys import Keys
from exchange_core.ledger import SETTLE_CALL_OPS, Ledger


def ledger() -> Ledger:
    return Ledger(Redis.from_url("redis://127.0.0.1:6379/0"), Keys("t:"))  # (connects to nothing)


def test_settle_users_call_concatenates_keys_and_frames_each_users_ops() -> None:
    ledger_ = ledger()
    call = ledger_.settle_users_call("BTCUSDT", [(1, ["1\nX\na"]), (2, []), (3, ["2\nX\nb", "3\nX\nc"])], 7)
    keys = [
        *ledger_.settle_keys(1, "BTCUSDT"),
        *ledger_.settle_keys(2, "BTCUSDT"),
        *ledger_.settle_keys(3, "BTCUSDT"),
    ]
    assert call[:3] == ["EVALSHA", ledger_._settle.sha, 36]
    assert call[3:39] == keys
    assert call[39:] == ["BTCUSDT", 7, 1, "1\nX\na", 0, 2, "2\nX\nb", "3\nX\nc"]


def test_settle_calls_group_users_by_operations_never_splitting_one() -> None:
    ledger_ = ledger()
    assert ledger_.settle_calls("BTCUSDT", []) == []
    big = SETTLE_CALL_OPS // 2 + 1
    users = [(u, [f"{u}\nX\n{i}" for i in range(big)]) for u in range(1, 6)] + [(9, ["1\nX\nz"])]
    calls = ledger_.settle_calls("BTCUSDT", users, 3)
    assert [c[2] // 12 for c in calls] == [2, 2, 2]  # users per call
    assert [c for c in calls] == [
        ledger_.settle_users_call("BTCUSDT", users[0:2], 3),
        ledger_.settle_users_call("BTCUSDT", users[2:4], 3),
        ledger_.settle_users_call("BTCUSDT", users[4:6], 3),
    ]
    huge = [(1, [f"1\nX\n{i}" for i in range(3 * SETTLE_CALL_OPS)])]
    assert len(ledger_.settle_calls("BTCUSDT", huge)) == 1
