"""Leases: one writer per partition, proven by a fencing token.

A partition (a market's engine, settlement or DB writing) has a lease `lease:{P}:ROLE` in Redis,
hash-tagged by the partition so that it shares the slot of the partition's streams. A process
acquires it with SET NX and a TTL, receiving a fencing token (INCR of `lease:{P}:ROLE:token`,
which only grows), and renews it every `lease_renew_ms`. Every write the holder makes goes
through `write`, which checks the token in the same Lua script that runs the commands: once the
lease has passed to another holder (a higher token), the former holder's writes are refused
(`Fenced`) however late they arrive, even from a process paused for minutes.

The local view (`held`) is conservative: the lease counts as held until `lease_ttl_ms` after the
last successful renewal was *sent*, so the holder stops before Redis lets the key expire. A
holder whose lease lapsed while nobody else took it holds it again at its next write or renewal
with the same token (no other writer can have written in between). Standbys poll `acquire`
every `lease_poll_ms`. The timing parameters are in docs/leases.md.
"""

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from exchange_core.config import CommonSettings
from exchange_core.keys import Keys
from exchange_core.pipelined import PipelinedRedis, ReplyError
from exchange_core.runtime import pause

log = logging.getLogger("exchange_core.lease")

Arg = str | bytes | int
Command = Sequence[Arg]

SCRIPT = files("exchange_core").joinpath("lua", "lease.lua").read_text()


class LeaseSettings(CommonSettings):
    """LEASE_TTL_MS, LEASE_RENEW_MS, LEASE_POLL_MS of a process that holds leases."""

    # A holder that stops renewing (paused, cut off) loses the lease after this long.
    lease_ttl_ms: int = 2_000
    # How often the holder renews: several renewals fit in one TTL, so one slow round trip or a
    # short stall does not lose the lease.
    lease_renew_ms: int = 500
    # How often a standby asks for a lease that somebody else holds.
    lease_poll_ms: int = 200


class Fenced(Exception):
    """The lease is no longer this holder's: the write was refused and nothing of it ran."""


def holder_id(name: str = "") -> str:
    """A holder name unique to this process's life: host, pid and a random part, so that a
    restarted process (a StatefulSet pod keeps its host name) never passes for its predecessor."""
    return f"{name or socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


# The most words of one fenced command: lease.lua runs each with redis.call(unpack(ARGV, ...)),
# and Lua's unpack fails ("too many results to unpack") past about 8,000 values.
MAX_COMMAND_WORDS = 4_000
# Members per command of `chunked`: well below MAX_COMMAND_WORDS.
CHUNK_MEMBERS = 1_000


class CommandTooLong(ValueError):
    """A fenced command has more than MAX_COMMAND_WORDS words (split it: `chunked`)."""


def chunked(name: str, key: str, members: Sequence[Arg], size: int = CHUNK_MEMBERS) -> list[Command]:
    """Commands `name key member...` (ZREM, SREM, HDEL, ...) over `members`, at most `size`
    members each: every one short enough to run fenced (none when `members` is empty)."""
    return [(name, key, *members[i : i + size]) for i in range(0, len(members), size)]


def write_args(commands: Sequence[Command]) -> list[Arg]:
    """lease.lua's ARGV tail for `commands` (after the four leading arguments). Raises
    CommandTooLong for a command of more than MAX_COMMAND_WORDS words (nothing is sent)."""
    args: list[Arg] = []
    for command in commands:
        if len(command) > MAX_COMMAND_WORDS:
            raise CommandTooLong(f"{command[0]!r} of {len(command)} words (at most {MAX_COMMAND_WORDS})")
        args.append(len(command))
        args.extend(command)
    return args


class Lease:
    """The lease of `role` on `partition` (a market's symbol) for one holder."""

    def __init__(
        self, redis: Redis, keys: Keys, partition: str, role: str, settings: LeaseSettings, holder: str = ""
    ) -> None:
        self.redis = redis
        self.key = keys.lease(partition, role)
        self.token_key = keys.lease_token(partition, role)
        self.partition = partition
        self.role = role
        self.holder = holder or holder_id()
        self.ttl_ms = settings.lease_ttl_ms
        self.renew_s = settings.lease_renew_ms / 1000
        self.poll_s = settings.lease_poll_ms / 1000
        self.token = 0
        self.valid_until = 0.0  # monotonic
        self.acquired = 0  # tokens granted to this holder
        self.losses = 0  # leases lost to another holder or to the TTL (not releases)
        self.lost = asyncio.Event()
        self._script = redis.register_script(SCRIPT)

    def held(self) -> bool:
        """True while this holder has a token and its last renewal is younger than the TTL."""
        return self.token > 0 and not self.lost.is_set() and time.monotonic() < self.valid_until

    async def _call(self, op: str, extra_keys: Sequence[str] = (), extra: Sequence[Arg] = ()) -> Any:
        keys = [self.key, self.token_key, *extra_keys]
        return await self._script(keys=keys, args=[op, self.holder, self.token, self.ttl_ms, *extra])

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; True when this holder now has a new token."""
        sent = time.monotonic()
        token = int(await self._call("acquire"))
        if token == 0:
            return False
        self.token, self.valid_until = token, sent + self.ttl_ms / 1000
        self.acquired += 1
        self.lost.clear()
        log.info("%s: lease %s acquired, token %d", self.holder, self.key, token)
        return True

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait (as a standby, polling) until the lease is this holder's; False if `stop` is set first."""
        while not stop.is_set():
            if await self.try_acquire():
                return True
            await pause(stop, self.poll_s)
        return False

    async def renew(self) -> bool:
        """Extend the lease by the TTL; False (and `lost` set) when it passed to another holder."""
        sent = time.monotonic()
        if int(await self._call("renew")) == 1:
            self.valid_until = sent + self.ttl_ms / 1000
            return True
        self.lose("renewal refused")
        return False

    async def keep(self) -> None:
        """Renew every `lease_renew_ms` until the lease is lost (then `lost` is set and this
        returns) or the task is cancelled. A renewal that Redis accepts keeps the lease even when
        it comes late (a busy loop, a pause: nobody took the lease meanwhile); one it refuses
        loses it, and so do failed round trips until the local view of the lease runs out."""
        while not self.lost.is_set():
            await asyncio.sleep(self.renew_s)
            try:
                # asyncio.timeout, not wait_for: 3.11's wait_for swallows a cancellation that lands
                # with the renewal's answer, and the keeper of a dropped lease would renew forever.
                async with asyncio.timeout(self.ttl_ms / 1000):
                    await self.renew()
            except (OSError, TimeoutError, ConnectionError, ResponseError) as exc:
                log.warning("%s: renewing %s failed: %r", self.holder, self.key, exc)
                if time.monotonic() >= self.valid_until:
                    self.lose("not renewed within the TTL")

    async def release(self) -> None:
        """Give the lease up now (at a clean stop), so that a standby need not wait for the TTL."""
        if self.token and not self.lost.is_set():
            await self._call("release")
        self.lose("released", counted=False)

    async def write(
        self, keys: Sequence[str], commands: Sequence[Command], via: "PipelinedRedis | None" = None
    ) -> int:
        """Run `commands` (writing `keys`, all in the partition's slot) atomically if and only if
        this holder still holds the lease; returns their number. Raises Fenced otherwise, and
        CommandTooLong (nothing sent) for a command longer than MAX_COMMAND_WORDS. `via`: send
        it on that auto-pipelined connection (in order with the caller's other commands on it)
        instead of the client's pool."""
        args = write_args(commands)
        try:
            if via is None:
                return int(await self._call("write", keys, args))
            return await self._write_via(via, keys, args)
        except (ResponseError, ReplyError) as exc:
            if str(exc).startswith("FENCED"):
                self.lose(str(exc))
                raise Fenced(str(exc)) from None
            raise

    async def _write_via(self, via: "PipelinedRedis", keys: Sequence[str], args: Sequence[Arg]) -> int:
        all_keys = [self.key, self.token_key, *keys]
        command = ("EVALSHA", self._script.sha, len(all_keys), *all_keys,
                   "write", self.holder, self.token, self.ttl_ms, *args)  # fmt: skip
        if self._script.sha.encode() not in via.scripts:
            via.remember_script(self._script.sha, SCRIPT)  # a cluster's promoted replica gets it
        try:
            return int(await via.execute(*command))
        except ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        await self.redis.script_load(SCRIPT)  # (one Redis restarted without its scripts)
        return int(await via.execute(*command))

    def lose(self, why: str, counted: bool = True) -> None:
        """Count the lease as lost from now on (`why` is logged): after a refused renewal or
        write, or a write fenced elsewhere (a ledger script that saw a higher token)."""
        if not self.lost.is_set():
            if self.token:
                log.warning("%s: lease %s token %d lost: %s", self.holder, self.key, self.token, why)
                if counted:
                    self.losses += 1
            self.lost.set()
