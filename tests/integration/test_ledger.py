"""The ledger's Lua scripts on the real Redis: reserve, settle exactly once, orphan release."""

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from exchange_core.keys import Keys
from exchange_core.ledger import (
    DuplicateClientOrderId,
    InsufficientFunds,
    Ledger,
    OpenOrderLimit,
    encode_op,
    parse_settled,
)
from exchange_core.pipelined import ReplyError


async def test_reserve_moves_free_to_locked_and_refuses_overdraft(redis: "Redis[bytes]", keys: Keys) -> None:
    ledger = Ledger(redis, keys)
    await ledger.deposit(1, "USDT", 1_000)
    await ledger.reserve(1, "USDT", 600, "BTCUSDT", 10, "a", now_ms=1)
    assert await ledger.balances(1) == {"USDT": (400, 600)}
    with pytest.raises(InsufficientFunds):
        await ledger.reserve(1, "USDT", 401, "BTCUSDT", 11, "b", now_ms=2)
    assert await ledger.balances(1) == {"USDT": (400, 600)}
    pending = await redis.zrange(keys.pending_reservations("BTCUSDT"), 0, -1)
    assert pending == [b"1:BTCUSDT:10"]


async def test_reserve_appends_and_indexes_only_once_reserved(redis: "Redis[bytes]", keys: Keys) -> None:
    ledger = Ledger(redis, keys)
    await ledger.deposit(1, "USDT", 1_000)
    journal = keys.commands("BTCUSDT")
    await ledger.reserve(1, "USDT", 600, "BTCUSDT", 10, "a", now_ms=1, append=(journal, b"first"))
    with pytest.raises(InsufficientFunds):
        await ledger.reserve(1, "USDT", 401, "BTCUSDT", 11, "b", now_ms=2, append=(journal, b"second"))
    with pytest.raises(DuplicateClientOrderId):
        await ledger.reserve(1, "USDT", 1, "BTCUSDT", 12, "a", now_ms=3, append=(journal, b"third"))
    assert [fields for _, fields in await redis.xrange(journal)] == [{b"c": b"first"}]
    assert await ledger.balances(1) == {"USDT": (400, 600)}
    # Indexed as pending by the same script, the refused ones never.
    pending = await redis.zrange(keys.pending_reservations("BTCUSDT"), 0, -1, withscores=True)
    assert pending == [(b"1:BTCUSDT:10", 1.0)]


async def test_settle_applies_each_seq_once(redis: "Redis[bytes]", keys: Keys) -> None:
    ledger = Ledger(redis, keys)
    await ledger.deposit(1, "USDT", 1_000)
    await ledger.reserve(1, "USDT", 600, "BTCUSDT", 10, "a", now_ms=1)
    script = ledger._settle
    ops = [
        (5, "C", "BTCUSDT:10", "", "", ""),
        (6, "B", "USDT:locked", -300, "", ""),
        (6, "B", "BTC:free", 7, "", ""),
        (6, "T", 1, '{"id":1}', "", ""),
    ]
    args = ledger.settle_args("BTCUSDT", [encode_op(op) for op in ops])
    (first_reply,) = await script(keys=ledger.settle_keys(1, "BTCUSDT"), args=args)
    (again_reply,) = await script(keys=ledger.settle_keys(1, "BTCUSDT"), args=args)
    first, again = parse_settled(first_reply), parse_settled(again_reply)
    assert first == (4, {"USDT": (400, 300), "BTC": (7, 0)})
    assert again == (0, {})
    assert await ledger.balances(1) == {"USDT": (400, 300), "BTC": (7, 0)}
    # a redelivered batch overlapping the applied one applies only the new seq
    assert await ledger.settle(1, "BTCUSDT", [*ops, (7, "B", "USDT:locked", -300, "", "")]) == 1
    assert await ledger.balances(1) == {"USDT": (400, 0), "BTC": (7, 0)}
    assert await ledger.release_orphan(1, "BTCUSDT", 10) == 0  # confirmed: not an orphan


async def test_settle_refuses_a_token_below_the_highest_that_settled_the_market(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    ledger = Ledger(redis, keys)
    await ledger.deposit(1, "USDT", 1_000)
    assert await ledger.settle(1, "BTCUSDT", [(1, "B", "USDT:free", -10, "", "")], token=1) == 1
    assert await ledger.settle(1, "BTCUSDT", [(2, "B", "USDT:free", -10, "", "")], token=2) == 1
    with pytest.raises(ResponseError, match="FENCED"):  # the former worker, resumed
        await ledger.settle(1, "BTCUSDT", [(3, "B", "USDT:free", -500, "", "")], token=1)
    assert await ledger.balances(1) == {"USDT": (980, 0)}
    assert await redis.hget(keys.balances(1), "seq:BTCUSDT") == b"2"
    # the fence is per market: another market's worker has tokens of its own
    assert await ledger.settle(1, "ETHUSDT", [(1, "B", "USDT:free", -5, "", "")], token=1) == 1
    assert await ledger.settle(1, "BTCUSDT", [(3, "B", "USDT:free", -5, "", "")], token=2) == 1
    assert await ledger.balances(1) == {"USDT": (970, 0)}


async def test_settle_several_users_in_one_call_each_once_fenced_as_a_whole(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    ledger = Ledger(redis, keys)
    await ledger.load_scripts()
    for uid in (1, 2, 3):
        await ledger.deposit(uid, "USDT", 1_000)
    users = [
        (1, [encode_op((1, "B", "USDT:free", -10, "", "")), encode_op((1, "T", 5, '{"id":5}', "", ""))]),
        (2, []),  # a user without operations keeps its place in the answer
        (3, [encode_op((1, "B", "USDT:free", 7, "", "")), encode_op((2, "B", "BTC:free", 3, "", ""))]),
    ]
    answer = await ledger.send_settle_users("BTCUSDT", users, token=2)
    assert [parse_settled(reply) for reply in answer] == [
        (2, {"USDT": (990, 0)}),
        (0, {}),
        (2, {"USDT": (1_007, 0), "BTC": (3, 0)}),
    ]
    again = await ledger.send_settle_users("BTCUSDT", users, token=2)
    assert [parse_settled(reply) for reply in again] == [(0, {}), (0, {}), (0, {})]
    assert await redis.zrange(keys.user_trades(1, "BTCUSDT"), 0, -1) == [b'{"id":5}']
    # user 3 was settled by a higher token since: the whole call is refused, user 1 included
    assert await ledger.settle(3, "BTCUSDT", [(3, "B", "USDT:free", 1, "", "")], token=3) == 1
    late = [
        (1, [encode_op((4, "B", "USDT:free", -1, "", ""))]),
        (3, [encode_op((4, "B", "USDT:free", -1, "", ""))]),
    ]
    with pytest.raises(ReplyError, match="FENCED"):
        await ledger.send_settle_users("BTCUSDT", late, token=2)
    assert await ledger.balances(1) == {"USDT": (990, 0)}
    assert await ledger.balances(3) == {"USDT": (1_008, 0), "BTC": (3, 0)}
    assert await redis.hget(keys.balances(1), "seq:BTCUSDT") == b"1"


async def test_orphan_release_returns_a_pending_reservation_once(redis: "Redis[bytes]", keys: Keys) -> None:
    ledger = Ledger(redis, keys)
    await ledger.deposit(2, "BTC", 50)
    await ledger.reserve(2, "BTC", 20, "BTCUSDT", 99, "x", now_ms=1)
    assert await ledger.release_orphan(2, "BTCUSDT", 99) == 20
    assert await ledger.release_orphan(2, "BTCUSDT", 99) == 0
    assert await ledger.balances(2) == {"BTC": (50, 0)}


async def test_client_order_id_of_an_open_or_recent_order_is_refused(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    ledger = Ledger(redis, keys)
    await ledger.deposit(3, "USDT", 1_000)
    await ledger.reserve(3, "USDT", 100, "BTCUSDT", 1, "grid-1", now_ms=1_000, recent_ms=500)
    with pytest.raises(DuplicateClientOrderId):
        await ledger.reserve(3, "USDT", 100, "BTCUSDT", 2, "grid-1", now_ms=1_200, recent_ms=500)
    await redis.sadd(keys.open_orders(3), "BTCUSDT:1")
    with pytest.raises(DuplicateClientOrderId):  # still open, however old
        await ledger.reserve(3, "USDT", 100, "BTCUSDT", 3, "grid-1", now_ms=9_000, recent_ms=500)
    await redis.srem(keys.open_orders(3), "BTCUSDT:1")
    await ledger.reserve(3, "USDT", 100, "BTCUSDT", 4, "grid-1", now_ms=9_000, recent_ms=500)
    assert await ledger.client_order(3, "BTCUSDT", "grid-1") == 4
    assert await ledger.balances(3) == {"USDT": (800, 200)}


async def test_settle_gives_back_a_rejected_lists_reservation_once_and_stores_list_states(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    ledger = Ledger(redis, keys)
    await ledger.deposit(1, "BTC", 100)
    await ledger.reserve(1, "BTC", 30, "BTCUSDT", 20, "a", now_ms=1)
    rejected = [(1, "R", "BTCUSDT:20", 30, "", "")]
    assert await ledger.settle(1, "BTCUSDT", rejected) == 1
    assert await ledger.balances(1) == {"BTC": (100, 0)}
    assert await redis.hget(keys.reservations(1), "BTCUSDT:20") is None
    # Gone (given back, or released by the orphan sweeper): nothing more is given back.
    assert await ledger.settle(1, "BTCUSDT", [(2, "R", "BTCUSDT:20", 30, "", "")]) == 1
    assert await ledger.balances(1) == {"BTC": (100, 0)}
    opened = (3, "L", 7, '{"id":7}', 1, "5:my-list")
    assert await ledger.settle(1, "BTCUSDT", [opened]) == 1
    assert await redis.smembers(keys.open_order_lists(1)) == {b"BTCUSDT:7"}
    assert await redis.hget(keys.list_client_ids(1), "my-list") == b"BTCUSDT:7"
    assert await redis.zrange(keys.user_lists_by_time(1), 0, -1, withscores=True) == [(b"BTCUSDT:7", 5.0)]
    assert await ledger.settle(1, "BTCUSDT", [(4, "L", 7, '{"id":7,"done":1}', 0, "5:my-list")]) == 1
    assert await redis.smembers(keys.open_order_lists(1)) == set()
    assert await redis.hget(keys.order_lists(1), "BTCUSDT:7") == b'{"id":7,"done":1}'


async def test_reserve_refuses_past_the_open_orders_of_the_market_it_is_given(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    ledger = Ledger(redis, keys)
    await ledger.deposit(4, "USDT", 1_000)
    await redis.sadd(keys.open_orders(4), "BTCUSDT:1", "BTCUSDT:2", "ETHUSDT:3", "ETHUSDT:4")
    with pytest.raises(OpenOrderLimit):
        await ledger.reserve(4, "USDT", 100, "BTCUSDT", 5, "c5", now_ms=1, max_open_orders=2)
    # Nothing reserved, claimed or left pending by the refusal.
    assert await ledger.balances(4) == {"USDT": (1_000, 0)}
    assert await ledger.client_order(4, "BTCUSDT", "c5") is None
    assert await redis.zrange(keys.pending_reservations("BTCUSDT"), 0, -1) == []
    # Other markets' open orders do not count; without a limit, none is checked.
    await ledger.reserve(4, "USDT", 100, "BTCUSDT", 6, "c6", now_ms=1, max_open_orders=3)
    await ledger.reserve(4, "USDT", 100, "ETHUSDT", 7, "c7", now_ms=1)
    assert await ledger.balances(4) == {"USDT": (800, 200)}


async def test_settle_stores_prevented_matches_by_id_once_and_keeps_the_newest(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    ledger = Ledger(redis, keys)
    key = keys.prevented_matches(1, "BTCUSDT")
    assert key.endswith("upm:{1}:BTCUSDT")  # under the user's hash tag, as the keys settle.lua writes
    ops = [(seq, "P", seq, f'{{"id":{seq}}}', 2, "") for seq in (1, 2, 3)]
    assert await ledger.settle(1, "BTCUSDT", ops) == 3
    assert await redis.zrange(key, 0, -1, withscores=True) == [(b'{"id":2}', 2.0), (b'{"id":3}', 3.0)]
    assert await ledger.settle(1, "BTCUSDT", [(3, "P", 3, '{"id":3,"again":1}', 2, "")]) == 0  # seen
    assert await ledger.settle(1, "BTCUSDT", [(4, "P", 3, '{"id":3,"both":1}', 2, "")]) == 1  # replaced
    assert await redis.zrange(key, 0, -1) == [b'{"id":2}', b'{"id":3,"both":1}']


async def test_settle_writes_order_states_and_claims_a_client_id_that_holds_newlines(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    ledger = Ledger(redis, keys)
    await ledger.deposit(5, "USDT", 1_000)
    await ledger.reserve(5, "USDT", 100, "BTCUSDT", 3, "a", now_ms=1)
    state = '{"i":3,"c":"a\\nb","st":0}'  # JSON text: its newlines escaped
    opened = [
        (1, "C", "BTCUSDT:3", "USDT", "", ""),
        (1, "O", 3, state, 1, "odd\nid\n"),  # the last field may hold anything
    ]
    assert await ledger.settle(5, "BTCUSDT", opened) == 2
    assert await redis.hget(keys.orders(5), "BTCUSDT:3") == state.encode()
    assert await redis.smembers(keys.open_orders(5)) == {b"BTCUSDT:3"}
    assert await redis.zrange(keys.user_orders_by_symbol(5, "BTCUSDT"), 0, -1) == [b"3"]
    assert await redis.hget(keys.client_ids(5), "BTCUSDT:odd\nid\n") == b"3"
    assert (await redis.hget(keys.reservations(5), "BTCUSDT:3") or b"").endswith(b":active")  # confirmed
    done = [
        (2, "O", 3, state, 0, ""),
        (2, "X", "BTCUSDT:3", "", "", ""),
        (2, "B", "USDT:locked", -100, "", ""),
    ]
    assert await ledger.settle(5, "BTCUSDT", done) == 3
    assert await redis.smembers(keys.open_orders(5)) == set()
    assert await redis.hget(keys.reservations(5), "BTCUSDT:3") is None
    assert await ledger.balances(5) == {"USDT": (900, 0)}
