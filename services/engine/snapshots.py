"""Engine snapshots, written off the command loop by a forked child (as Redis's BGSAVE does).

Encoding a book of tens of thousands of orders takes tens to hundreds of milliseconds; done on
the loop, every command queued behind it waits that long. `os.fork()` copies the process's page
tables in a millisecond or two; the child holds the book exactly as it was between two batches,
encodes it, writes snap:{SYMBOL} and trims the journal, and exits. The parent keeps matching.

Contract:
- `begin` is called only after the batch that produced `command_id` has been written to
  evt:{SYMBOL}, so a snapshot never holds effects whose events are missing.
- At most one child runs; `poll` reaps it and says whether its snapshot landed. Only a landed
  snapshot moves the trim point: the journal is trimmed up to the previous landed snapshot, so
  one whole snapshot interval of journal is always kept beyond the newest.
- The child dies with its parent (PR_SET_PDEATHSIG), writes nothing to the log, never touches
  the parent's event loop or connections, and leaves with `os._exit`.
- Where fork is unavailable (or SNAPSHOT_FORK=false) `write_inline` does the same on the loop.
- Both write through the market's engine lease (exchange_core.lease): a snapshot begun by an
  engine that has since lost the lease is refused by the fence, as its batches are.
"""

import contextlib
import ctypes
import gc
import logging
import os
import signal
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from exchange_core import store
from exchange_core.lease import SCRIPT, Command, Lease, write_args
from matching import MarketState, MatchingEngine
from matching.state import digest_of

log = logging.getLogger("engine.snapshots")

PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class Landed:
    """The outcome of one snapshot: `ok` when snap:{SYMBOL} now holds the state at `command_id`."""

    command_id: bytes
    ok: bool
    seconds: float


def snapshot_fields(state: MarketState, command_id: bytes) -> dict[FieldT, EncodableT]:
    """The fields of snap:{SYMBOL}: the canonical state bytes, where in the journal it stands,
    its event seq and its hash (one encoding for both)."""
    data = state.encode()
    return {"state": data, "command_id": command_id, "seq": state.seq, "state_hash": digest_of(data)}


def snapshot_commands(
    snap_key: str, cmd_key: str, fields: dict[FieldT, EncodableT], trim_before: bytes | None
) -> list[Command]:
    """The writes of one snapshot: the HSET, and the journal trim when one is due."""
    words: list[bytes | str | int] = ["HSET", snap_key]
    for name, value in fields.items():
        words += [name, value]  # type: ignore[list-item]
    commands: list[Command] = [words]
    if trim_before is not None:
        commands.append(("XTRIM", cmd_key, "MINID", "~", trim_before))
    return commands


class SnapshotWriter:
    def __init__(
        self, client: Redis, lease: Lease, snap_key: str, cmd_key: str, trim_journal: bool, fork: bool
    ) -> None:
        self.client = client
        self.lease = lease
        self.snap_key = snap_key
        self.cmd_key = cmd_key
        self.trim_journal = trim_journal
        self.fork = fork and hasattr(os, "fork")
        self.landed_id = b"0-0"  # the newest snapshot known to be in Redis
        self._child: tuple[int, bytes, float] | None = None  # pid, command_id, started

    @property
    def busy(self) -> bool:
        return self._child is not None

    def set_landed(self, command_id: bytes) -> None:
        """The snapshot already in Redis (read at recovery)."""
        self.landed_id = command_id

    def _trim_before(self) -> bytes | None:
        return self.landed_id if self.trim_journal and self.landed_id != b"0-0" else None

    def begin(self, engine: MatchingEngine, command_id: bytes) -> None:
        """Start writing the state of `engine` (at `command_id`) in a child; returns at once."""
        assert self._child is None, "one snapshot at a time"
        trim_before = self._trim_before()
        started = time.perf_counter()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child
            os._exit(_child_main(parent, self.client, self.lease, self.snap_key, self.cmd_key, engine,
                                 command_id, trim_before))  # fmt: skip
        self._child = (pid, command_id, started)

    def poll(self, block: bool = False) -> Landed | None:
        """Reap a finished child: its outcome, or None while it runs (or when there is none)."""
        if self._child is None:
            return None
        pid, command_id, started = self._child
        done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        if done == 0:
            return None
        self._child = None
        ok = os.waitstatus_to_exitcode(status) == 0
        if ok:
            self.landed_id = command_id
        else:
            log.error("snapshot at %s failed in the child (exit %s)", command_id.decode(),
                      os.waitstatus_to_exitcode(status))  # fmt: skip
        return Landed(command_id, ok, time.perf_counter() - started)

    def abandon(self) -> None:
        """Kill a running child (its snapshot may no longer fit what Redis holds) and forget
        which snapshot landed: the next recovery reads it again."""
        if self._child is not None:
            pid = self._child[0]
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self._child = None
        self.landed_id = b"0-0"

    async def write_inline(self, engine: MatchingEngine, command_id: bytes) -> Landed:
        """Write the snapshot from this process (at shutdown, or where fork is unavailable)."""
        started = time.perf_counter()
        fields = snapshot_fields(engine.state(), command_id)
        commands = snapshot_commands(self.snap_key, self.cmd_key, fields, self._trim_before())
        await self.lease.write([self.snap_key, self.cmd_key], commands)
        self.landed_id = command_id
        return Landed(command_id, True, time.perf_counter() - started)


def _child_main(
    parent: int,
    client: Redis,
    lease: Lease,
    snap_key: str,
    cmd_key: str,
    engine: MatchingEngine,
    command_id: bytes,
    trim_before: bytes | None,
) -> int:
    """The forked child's work; returns its exit code. Nothing here may raise past it."""
    try:
        gc.disable()  # a collection would touch (and so copy) every page of the parent's heap
        _die_with(parent)
        fields = snapshot_fields(engine.state(), command_id)
        commands = snapshot_commands(snap_key, cmd_key, fields, trim_before)
        keys = [lease.key, lease.token_key, snap_key, cmd_key]
        args = ["write", lease.holder, lease.token, lease.ttl_ms, *write_args(commands)]
        with store.sync_client_like(client) as conn:
            conn.eval(SCRIPT, len(keys), *keys, *args)  # raises when fenced: exit code 1
        return 0
    except BaseException:  # the exit code is the child's only report
        return 1


def _die_with(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies; exit if it already has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)
