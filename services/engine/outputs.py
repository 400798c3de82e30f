"""What one batch of journal commands makes the engine write, as bytes.

For the commands of a batch and the events each caused: the evt:{SYMBOL} entry (every event,
the id of the batch's last command, and a CommandRef for each command whose sender waits for
the answer) and the md.{SYMBOL} message (the batch's trades and, per price level the batch
changed, its last quantity). One pass over the events, each written once, straight into the
evt:{SYMBOL} entry; the md message takes the trades' bytes from it.
Pure (no I/O, no clock): compiled by mypyc with the core.
"""

from typing import cast

from exchange_core.commandwire import JournalCommand
from exchange_core.wire import EventBatchWriter, encode_command_ref, encode_market_data
from matching.events import BookDelta, Event


class BatchOutputs:
    """The bytes of a batch's writes, and its counts: events, trades, the last event's seq."""

    def __init__(
        self, events_entry: bytes, market_data: bytes, events: int, trades: int, last_seq: int
    ) -> None:
        self.events_entry = events_entry
        self.market_data = market_data
        self.events = events
        self.trades = trades
        self.last_seq = last_seq


def batch_outputs(
    symbol: str,
    journal: list[JournalCommand],
    applied: list[list[Event]],
    command_id: str,
    carriers: dict[bytes, dict[str, str]] | None = None,
) -> BatchOutputs | None:
    """The writes of `journal`'s commands, `applied[i]` being the events of `journal[i]`;
    `command_id` is the batch's last entry id, `carriers` the trace context of traced commands by
    entry id. None when no command caused an event."""
    batch = EventBatchWriter(symbol)
    refs: list[bytes] = []
    # Levels as the objects the events hold (price, quantity: not unboxed to be boxed again).
    bids: dict[object, object] = {}
    asks: dict[object, object] = {}
    first: Event | None = None
    last: Event | None = None
    for i in range(len(journal)):
        events = applied[i]
        if not events:
            continue
        for event in events:
            batch.add(event)
            if isinstance(event, BookDelta):
                # Each level read as an object: as tuple[int, int] mypyc would unbox it.
                for level in cast(tuple[object, ...], event.bids):
                    price, qty = cast(tuple[object, object], level)
                    bids[price] = qty
                for level in cast(tuple[object, ...], event.asks):
                    price, qty = cast(tuple[object, object], level)
                    asks[price] = qty
        if first is None:
            first = events[0]
        last = events[-1]
        jc = journal[i]
        if jc.reply_to:
            carrier = carriers.get(jc.entry_id) if carriers else None
            refs.append(
                encode_command_ref(
                    jc.entry_id.decode(), jc.reply_to, jc.correlation_id, events[0].seq, last.seq, carrier
                )
            )
    if first is None or last is None:
        return None
    entry = batch.finish(command_id, refs)
    trades = batch.trades(entry)
    market_data = encode_market_data(
        symbol, first.seq, last.seq, last.ts, trades, _levels(bids, True), _levels(asks, False)
    )
    return BatchOutputs(entry, market_data, batch.events, len(trades), last.seq)


def _levels(changed: dict[object, object], descending: bool) -> tuple[tuple[int, int], ...]:
    """The (price, quantity) levels of `changed` by price: the prices alone are sorted (ints
    compare faster than (price, quantity) tuples), each read as the object the dict holds."""
    prices = cast(list[object], sorted(cast(dict[int, int], changed), reverse=descending))
    return cast(tuple[tuple[int, int], ...], tuple([(price, changed[price]) for price in prices]))
