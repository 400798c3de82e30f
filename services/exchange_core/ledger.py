"""The ledger: balances in Redis hashes, changed only by the Lua scripts in lua/.

`bal:{uid}` holds `ASSET:free` and `ASSET:locked` as integers in the asset's smallest unit.
A reservation (`resv:{uid}`, field `SYM:orderId`) records what an order locked, so that none
outlives its order. Negative script results become exceptions here, at one boundary.
"""

import asyncio
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

import orjson
from redis.asyncio import Redis

from exchange_core.clock import now_ms
from exchange_core.keys import Keys
from exchange_core.pipelined import PipelinedRedis, ReplyError

MAX_AMOUNT = 2**53 - 1  # Lua compares numbers as doubles: amounts must stay exact below this
RECENT_CLIENT_ID_MS = 24 * 3600 * 1000
# Operations per settle.lua call of several users (settle_calls): Redis spends about half as
# much again per operation in one script of tens of thousands of arguments (its Lua heap) as in
# calls of a thousand; a user's operations are never split.
SETTLE_CALL_OPS = 1_000

Arg = str | int | bytes
# One settle.lua operation's values: seq, kind, a, b, c, d (see lua/settle.lua).
SettleFields = tuple[int, str, Arg, Arg, Arg, Arg]
# One settle.lua operation as its argument: its values joined by newlines (encode_op).
SettleOp = str
# Per kind, the indexes in SettleFields of the values after seq and kind, in settle.lua's order:
# the last one is the rest of the argument, the others hold no newline.
_OP_FIELDS: dict[str, tuple[int, ...]] = {
    "B": (2, 3),
    "C": (2, 3),
    "X": (2,),
    "O": (2, 4, 3, 5),
    "T": (2, 3),
    "R": (2, 3),
    "L": (2, 4, 3, 5),
    "P": (2, 4, 3),
}


def _text(value: Arg) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def encode_op(op: SettleFields) -> SettleOp:
    """Operation `op` as settle.lua's argument: seq, kind, then the kind's values in the script's
    order, joined by newlines (only the last may hold one). settlement.effects writes the same
    text from templates."""
    kind = op[1]
    return "\n".join([str(op[0]), kind, *(_text(op[i]) for i in _OP_FIELDS[kind])])


def decode_op(text: SettleOp) -> SettleFields:
    """The values of an encoded operation (encode_op): seq as an int, the others as text (""
    where its kind has none)."""
    seq, kind, rest = text.split("\n", 2)
    order = _OP_FIELDS[kind]
    values = rest.split("\n", len(order) - 1)
    fields: list[Arg] = [int(seq), kind, "", "", "", ""]
    for i, value in zip(order, values, strict=True):
        fields[i] = value
    a, b, c, d = fields[2:]
    return int(seq), kind, a, b, c, d


def _script(name: str) -> str:
    return files("exchange_core").joinpath("lua", name).read_text()


class LedgerError(Exception):
    """A ledger script refused the change."""


class InsufficientFunds(LedgerError):
    pass


class DuplicateClientOrderId(LedgerError):
    pass


class OpenOrderLimit(LedgerError):
    """The user already has the most open orders allowed in the market (MAX_NUM_ORDERS)."""


class Ledger:
    """Balances and reservations of every user. `pipelined` is the process's auto-pipelined
    connection (the process owns and closes it): `reserve` and `send_settle` go out on it, in
    order with the process's other commands. Without one (tools, tests), the ledger opens its own
    to `redis`'s server when first needed."""

    def __init__(self, redis: Redis, keys: Keys, pipelined: PipelinedRedis | None = None) -> None:
        self.redis = redis
        self.keys = keys
        self._pipelined = PipelinedRedis.like(redis) if pipelined is None else pipelined
        self._reserve = redis.register_script(_script("reserve.lua"))
        self._deposit = redis.register_script(_script("deposit.lua"))
        self._settle = redis.register_script(_script("settle.lua"))
        self._release_orphan = redis.register_script(_script("release_orphan.lua"))
        for script, name in ((self._reserve, "reserve.lua"), (self._settle, "settle.lua")):
            self._pipelined.remember_script(script.sha, _script(name))  # sent by EVALSHA on it

    async def reserve(
        self,
        user_id: int,
        asset: str,
        amount: int,
        symbol: str,
        order_id: int,
        client_order_id: str,
        now_ms: int,
        recent_ms: int = RECENT_CLIENT_ID_MS,
        max_open_orders: int = 0,
        append: tuple[str, bytes] | None = None,
    ) -> None:
        """Lock `amount` of `asset` for the order and claim its client order id; with
        `max_open_orders`, first, in the same script, refuse the order when the user already has
        that many open orders in `symbol` (one round trip for the MAX_NUM_ORDERS filter and the
        reservation). With `append` (the market's journal key and the order's encoded command;
        only on one Redis, `PipelinedRedis.ordered_across_slots`: the script writes both slots),
        the same script appends the command and indexes the reservation as pending once the
        funds are reserved, and does neither otherwise (one command in all).

        Raises OpenOrderLimit, InsufficientFunds, DuplicateClientOrderId (the id belongs to an open
        order or one made within `recent_ms`) or LedgerError.
        """
        if not 0 <= amount <= MAX_AMOUNT:
            raise LedgerError(f"amount out of range: {amount}")
        pending = f"{user_id}:{symbol}:{order_id}"
        k = self.keys
        fast = self._pipelined
        keys = [k.balances(user_id), k.reservations(user_id), k.client_ids(user_id), k.open_orders(user_id)]
        claim = f"{symbol}:{client_order_id}"
        args: tuple[str | bytes | int, ...] = (
            asset, amount, f"{symbol}:{order_id}", now_ms, claim, order_id, recent_ms, max_open_orders
        )  # fmt: skip
        indexed = None
        if append is not None:
            # One Redis: the script also indexes the reservation as pending, once reserved.
            assert fast.ordered_across_slots, "a reservation appends its command on one Redis only"
            keys += (append[0], k.pending_reservations(symbol))
            args += (append[1], pending)
        else:
            # Index the reservation as pending first (the sweeper ignores an index entry without
            # a reservation), then reserve: one write on one Redis; on a cluster the index (the
            # market's slot) is awaited first, as the user's slot may be on another master.
            indexed = fast.execute("ZADD", k.pending_reservations(symbol), now_ms, pending)
            if not fast.ordered_across_slots:
                await indexed
        reserved = fast.execute("EVALSHA", self._reserve.sha, len(keys), *keys, *args)
        try:
            result = await reserved
        except ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            await self.load_scripts()
            result = await fast.execute("EVALSHA", self._reserve.sha, len(keys), *keys, *args)
        finally:
            if indexed is not None:
                await indexed  # answered before `reserved`: replies come in order
        if result == 1:
            return
        if indexed is not None:
            await self.redis.zrem(self.keys.pending_reservations(symbol), pending)
        if result == -1:
            raise InsufficientFunds(asset)
        if result == -4:
            raise DuplicateClientOrderId(client_order_id)
        if result == -5:
            raise OpenOrderLimit(symbol)
        raise LedgerError(f"reserve refused ({result})")

    async def client_order(self, user_id: int, symbol: str, client_order_id: str) -> int | None:
        """The order id that last claimed `client_order_id` in `symbol`, if any."""
        claim = await self.redis.hget(self.keys.client_ids(user_id), f"{symbol}:{client_order_id}")
        if not claim:
            return None
        text = claim.decode() if isinstance(claim, bytes) else str(claim)
        return int(text.split(":", 1)[0])

    async def deposit(self, user_id: int, asset: str, amount: int, announce: str | None = None) -> int:
        """Credit free funds; returns the new free balance. `announce`: the amount as Binance's
        decimal string, and the user's streams get a balanceUpdate event for the credit (see
        announce_balance_update)."""
        if not 0 < amount <= MAX_AMOUNT:
            raise LedgerError(f"amount out of range: {amount}")
        result = int(await self._deposit(keys=[self.keys.balances(user_id)], args=[asset, amount]))
        if result < 0:
            raise LedgerError(f"deposit refused ({result})")
        if announce is not None:
            await self.announce_balance_update(user_id, asset, announce)
        return result

    async def announce_balance_update(self, user_id: int, asset: str, delta: str) -> None:
        """Binance's balanceUpdate user-data event ({"e", "E", "a", "d", "T"}) for a change of
        free funds made outside trading, on the user's channel (where settlement publishes the
        user's other events; SPUBLISH on a cluster)."""
        ts = now_ms()
        payload = orjson.dumps([{"e": "balanceUpdate", "E": ts, "a": asset, "d": delta, "T": ts}])
        await self._pipelined.execute("PUBLISH", self.keys.user_channel(user_id), payload)

    async def balances(self, user_id: int) -> dict[str, tuple[int, int]]:
        """{asset: (free, locked)} for every asset the user ever held."""
        raw = await self.redis.hgetall(self.keys.balances(user_id))
        out: dict[str, list[int]] = {}
        for field, value in raw.items():
            name = field.decode() if isinstance(field, bytes) else str(field)
            asset, _, kind = name.partition(":")
            if kind not in ("free", "locked"):
                continue
            pair = out.setdefault(asset, [0, 0])
            pair[0 if kind == "free" else 1] = int(value)
        return {asset: (free, locked) for asset, (free, locked) in out.items()}

    def settle_keys(self, user_id: int, symbol: str) -> list[str]:
        k = self.keys
        return [
            k.balances(user_id),
            k.reservations(user_id),
            k.orders(user_id),
            k.open_orders(user_id),
            k.client_ids(user_id),
            k.user_trades(user_id, symbol),
            k.user_orders_by_symbol(user_id, symbol),
            k.order_lists(user_id),
            k.open_order_lists(user_id),
            k.list_client_ids(user_id),
            k.user_lists_by_time(user_id),
            k.prevented_matches(user_id, symbol),
        ]

    def settle_args(self, symbol: str, ops: Sequence[SettleOp], token: int = 0) -> list[Arg]:
        """settle.lua's ARGV for one user: `token` is the settling worker's fencing token for
        `symbol`; `ops`, encoded operations (encode_op)."""
        return [symbol, token, len(ops), *ops]

    def settle_users_call(
        self, symbol: str, users: Sequence[tuple[int, Sequence[SettleOp]]], token: int = 0
    ) -> list[Arg]:
        """The whole EVALSHA command of settle.lua for `users` ((user id, encoded operations) in
        order) in one call: their 12 keys each, concatenated, and ARGV symbol, token, then per
        user its operation count and its operations. Its answer holds one reply per user, in
        order (see parse_settled). Several users only on one Redis (their keys are in many
        slots on a cluster: one call per user there, `PipelinedRedis.ordered_across_slots`).
        Every user's fence is checked first: "FENCED ..." refuses the whole call."""
        keys: list[Arg] = []
        args: list[Arg] = [symbol, token]
        for user_id, ops in users:
            keys += self.settle_keys(user_id, symbol)
            args.append(len(ops))
            args += ops
        return ["EVALSHA", self._settle.sha, len(keys), *keys, *args]

    def settle_calls(
        self, symbol: str, users: Sequence[tuple[int, Sequence[SettleOp]]], token: int = 0
    ) -> list[list[Arg]]:
        """settle.lua calls (settle_users_call) for `users` in order, each of consecutive users
        and about SETTLE_CALL_OPS operations (a user's operations all in one call): one Redis
        only. Their answers, concatenated, hold one reply per user in order."""
        calls: list[list[Arg]] = []
        start, ops = 0, 0
        for i, (_, user_ops) in enumerate(users):
            ops += len(user_ops)
            if ops >= SETTLE_CALL_OPS or i == len(users) - 1:
                calls.append(self.settle_users_call(symbol, users[start : i + 1], token))
                start, ops = i + 1, 0
        return calls

    def send_settle_users(
        self, symbol: str, users: Sequence[tuple[int, Sequence[SettleOp]]], token: int = 0
    ) -> "asyncio.Future[Any]":
        """Send settle.lua for `users` (settle_users_call) on the pipelined connection now (run
        `load_scripts` once before); the future gets the list of the users' replies (see
        parse_settled), or ReplyError "FENCED ..." (nothing applied for any of them)."""
        return self._pipelined.execute(*self.settle_users_call(symbol, users, token))

    def send_settle(
        self, user_id: int, symbol: str, ops: Sequence[SettleOp], token: int = 0
    ) -> "asyncio.Future[Any]":
        """Send settle.lua for one user on the pipelined connection now (run `load_scripts` once
        before); the future gets the list of one reply (see parse_settled), or ReplyError
        "FENCED ..." when a higher `token` has settled `symbol` for the user."""
        return self.send_settle_users(symbol, [(user_id, ops)], token)

    async def load_scripts(self) -> None:
        """Make sure Redis has the scripts, for callers that queue them on pipelines."""
        for script in (self._reserve, self._deposit, self._settle, self._release_orphan):
            await self.redis.script_load(script.script)

    async def settle(self, user_id: int, symbol: str, ops: Sequence[SettleFields], token: int = 0) -> int:
        """Run settle.lua for one user now with operations `ops` (encoded here); returns the number
        of operations applied (raises ResponseError "FENCED ..." when a higher `token` has settled
        `symbol` for the user)."""
        encoded = [encode_op(op) for op in ops]
        keys, args = self.settle_keys(user_id, symbol), self.settle_args(symbol, encoded, token)
        applied, _ = parse_settled((await self._settle(keys=keys, args=args))[0])
        return applied

    async def release_orphan(self, user_id: int, symbol: str, order_id: int) -> int:
        """Release a reservation still waiting for its engine; 0 if it was confirmed or is gone."""
        released = await self._release_orphan(
            keys=[self.keys.balances(user_id), self.keys.reservations(user_id)],
            args=[f"{symbol}:{order_id}"],
        )
        return int(released)


def parse_settled(result: Any) -> tuple[int, dict[str, tuple[int, int]]]:
    """One user's reply in settle.lua's answer (the answer holds one per user): (operations
    applied, {asset: (free, locked)} of touched assets)."""
    applied = int(result[0])
    balances: dict[str, tuple[int, int]] = {}
    for i in range(1, len(result), 3):
        asset = result[i].decode() if isinstance(result[i], bytes) else str(result[i])
        balances[asset] = (int(result[i + 1]), int(result[i + 2]))
    return applied, balances
