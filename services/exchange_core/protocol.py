"""The wire format: matching commands and events to and from their protobuf messages.

Field names are the same on both sides (protos/exchange_proto/*.proto mirror matching.commands
and matching.events); a command's `ts` is not on the wire, it comes from the journal entry id.
"""

from collections.abc import Callable, Container, Iterable, Mapping
from operator import attrgetter
from typing import Any

from exchange_core import tracing
from exchange_core.wire import EVENT_FIELD, encode_place_order
from exchange_proto import commands_pb2 as cpb
from exchange_proto import events_pb2 as epb
from matching.commands import AmendOrder, CancelAll, CancelOrder, Command, PlaceOrder, PlaceOrderList
from matching.events import BookDelta, Event, ListStatus

_COMMAND_FIELD: dict[type[Command], str] = {
    PlaceOrder: "place_order",
    CancelOrder: "cancel_order",
    CancelAll: "cancel_all",
    AmendOrder: "amend_order",
    PlaceOrderList: "place_order_list",
}

_EVENT_CLASS = {name: cls for cls, name in EVENT_FIELD.items()}
# Per oneof field of an Event (but book_delta and list_status, whose repeated fields need more):
# its class, and a getter of its body's fields in the class's constructor order (every such class
# has at least two fields after seq and ts).
_EVENT_READER: dict[str, tuple[type[Event], Callable[[Any], tuple[Any, ...]]]] = {
    name: (cls, attrgetter(*cls.FIELDS[2:]))
    for name, cls in _EVENT_CLASS.items()
    if cls is not BookDelta and cls is not ListStatus
}


class ProtocolError(ValueError):
    """A message that does not hold a known command or event."""


def command_to_proto(
    command: Command,
    reply_to: str = "",
    correlation_id: str = "",
    trace_context: Mapping[str, str] | None = None,
) -> cpb.Command:
    msg = cpb.Command(reply_to=reply_to, correlation_id=correlation_id)
    if trace_context:
        msg.trace_context.update(trace_context)
    body = getattr(msg, _COMMAND_FIELD[type(command)])
    body.SetInParent()
    for name in command.FIELDS:
        if name == "orders" and isinstance(command, PlaceOrderList):
            for member in command.orders:
                _set_fields(body.orders.add(), member)
        elif name != "ts":
            setattr(body, name, getattr(command, name))
    return msg


def _set_fields(body: cpb.PlaceOrder, order: PlaceOrder) -> None:
    for name in order.FIELDS:
        if name != "ts":
            setattr(body, name, getattr(order, name))


def _place_order(p: cpb.PlaceOrder, ts: int) -> PlaceOrder:
    return PlaceOrder(
        p.symbol,
        p.order_id,
        p.user_id,
        p.side,
        p.order_type,
        p.time_in_force,
        p.price,
        p.quantity,
        p.quote_quantity,
        p.reserve,
        p.stp_mode,
        p.client_order_id,
        ts,
        p.stop_price,
        p.trailing_delta,
        p.iceberg_qty,
    )


def command_from_proto(msg: cpb.Command, ts: int) -> Command:
    """The command in `msg`, stamped with the journal time `ts` (ms)."""
    kind = msg.WhichOneof("kind")
    if kind == "place_order":
        return _place_order(msg.place_order, ts)
    if kind == "place_order_list":
        lst = msg.place_order_list
        members = tuple(_place_order(p, ts) for p in lst.orders)
        return PlaceOrderList(lst.symbol, lst.user_id, lst.list_client_order_id, lst.contingency, members, ts)
    if kind == "cancel_order":
        c = msg.cancel_order
        return CancelOrder(c.symbol, c.user_id, c.order_id, c.client_order_id, ts)
    if kind == "cancel_all":
        return CancelAll(msg.cancel_all.symbol, msg.cancel_all.user_id, ts)
    if kind == "amend_order":
        a = msg.amend_order
        return AmendOrder(
            a.symbol, a.user_id, a.order_id, a.client_order_id, a.new_client_order_id, a.quantity, ts
        )
    raise ProtocolError("command message holds no command")


def encode_command(command: Command, reply_to: str = "", correlation_id: str = "") -> bytes:
    """A cmd:{SYMBOL} entry's bytes; with tracing on, carrying the caller's current trace context."""
    carrier = tracing.carrier()
    if carrier is None and type(command) is PlaceOrder:
        return encode_place_order(command, reply_to, correlation_id)
    return command_to_proto(command, reply_to, correlation_id, carrier).SerializeToString()


def event_to_proto(event: Event) -> epb.Event:
    msg = epb.Event(seq=event.seq, ts=event.ts)
    kind = EVENT_FIELD[type(event)]
    body = getattr(msg, kind)
    body.SetInParent()
    if isinstance(event, BookDelta):
        for price, qty in event.bids:
            body.bids.add(price=price, quantity=qty)
        for price, qty in event.asks:
            body.asks.add(price=price, quantity=qty)
        return msg
    for name in event.FIELDS[2:]:
        if name == "order_ids" and isinstance(event, ListStatus):
            body.order_ids.extend(event.order_ids)
        else:
            setattr(body, name, getattr(event, name))
    return msg


def event_from_proto(msg: epb.Event) -> Event:
    kind = msg.WhichOneof("kind")
    if kind is None:
        raise ProtocolError("event message holds no event")
    body = getattr(msg, kind)
    if kind == "book_delta":
        return BookDelta(
            msg.seq,
            msg.ts,
            tuple((lv.price, lv.quantity) for lv in body.bids),
            tuple((lv.price, lv.quantity) for lv in body.asks),
        )
    cls = _EVENT_CLASS[kind]
    if cls is ListStatus:
        fields = [getattr(body, name) for name in cls.FIELDS[2:]]
        fields[cls.FIELDS.index("order_ids") - 2] = tuple(body.order_ids)
        return ListStatus(msg.seq, msg.ts, *fields)
    cls, read = _EVENT_READER[kind]
    event: Event = cls(msg.seq, msg.ts, *read(body))
    return event


def events_from_protos(msgs: Iterable[epb.Event], skip: Container[str] = ()) -> list[Event]:
    """The events of `msgs`, in order, but those of the Event oneof fields named in `skip`
    (e.g. "book_delta", for a reader that has no use for them). Raises ProtocolError."""
    out: list[Event] = []
    readers, append = _EVENT_READER, out.append
    for msg in msgs:
        kind = msg.WhichOneof("kind")
        if kind in skip:
            continue
        if kind is None or kind not in readers:
            append(event_from_proto(msg))  # a book delta, or no event (raises)
            continue
        cls, read = readers[kind]
        append(cls(msg.seq, msg.ts, *read(getattr(msg, kind))))
    return out


def encode_events(symbol: str, events: list[Event], command_id: str = "") -> bytes:
    """One evt:{SYMBOL} entry: the events of one command."""
    batch = epb.EventBatch(symbol=symbol, command_id=command_id)
    batch.events.extend(event_to_proto(e) for e in events)
    return batch.SerializeToString()


def decode_events(data: bytes) -> tuple[str, list[Event], str]:
    """(symbol, events, command id) of one evt:{SYMBOL} entry."""
    batch = epb.EventBatch.FromString(data)
    return batch.symbol, [event_from_proto(e) for e in batch.events], batch.command_id


def reply_for(batch: epb.EventBatch, ref: epb.CommandRef) -> bytes:
    """The Reply message answering `ref`: its command's events out of `batch`."""
    reply = epb.Reply(correlation_id=ref.correlation_id)
    reply.batch.symbol = batch.symbol
    reply.batch.command_id = ref.command_id
    events = batch.events
    # A batch's events have consecutive seqs, so the command's events are one slice of them.
    start = ref.first_seq - events[0].seq if events else 0
    end = start + ref.last_seq - ref.first_seq + 1
    if (
        0 <= start < end <= len(events)
        and events[start].seq == ref.first_seq
        and events[end - 1].seq == ref.last_seq
    ):
        reply.batch.events.extend(events[start:end])
    else:
        reply.batch.events.extend(e for e in events if ref.first_seq <= e.seq <= ref.last_seq)
    return reply.SerializeToString()
