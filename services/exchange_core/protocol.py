"""The wire format: matching commands and events to and from their protobuf messages.

Field names are the same on both sides (protos/exchange_proto/*.proto mirror matching.commands
and matching.events); a command's `ts` is not on the wire, it comes from the journal entry id.
"""

from collections.abc import Mapping

from exchange_proto import commands_pb2 as cpb
from exchange_proto import events_pb2 as epb
from matching.commands import CancelAll, CancelOrder, Command, PlaceOrder
from matching.events import (
    BookDelta,
    CancelRejected,
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderDone,
    OrderExpired,
    OrderRejected,
    Trade,
)

_COMMAND_FIELD: dict[type[Command], str] = {
    PlaceOrder: "place_order",
    CancelOrder: "cancel_order",
    CancelAll: "cancel_all",
}
_COMMAND_CLASS = {name: cls for cls, name in _COMMAND_FIELD.items()}

_EVENT_FIELD: dict[type[Event], str] = {
    OrderAccepted: "order_accepted",
    OrderRejected: "order_rejected",
    CancelRejected: "cancel_rejected",
    Trade: "trade",
    OrderCancelled: "order_cancelled",
    OrderExpired: "order_expired",
    OrderDone: "order_done",
    BookDelta: "book_delta",
}
_EVENT_CLASS = {name: cls for cls, name in _EVENT_FIELD.items()}


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
        if name != "ts":
            setattr(body, name, getattr(command, name))
    return msg


def command_from_proto(msg: cpb.Command, ts: int) -> Command:
    """The command in `msg`, stamped with the journal time `ts` (ms)."""
    kind = msg.WhichOneof("kind")
    if kind is None:
        raise ProtocolError("command message holds no command")
    cls = _COMMAND_CLASS[kind]
    body = getattr(msg, kind)
    args = {name: getattr(body, name) for name in cls.FIELDS if name != "ts"}
    command: Command = cls(**args, ts=ts)
    return command


def encode_command(command: Command, reply_to: str = "", correlation_id: str = "") -> bytes:
    return command_to_proto(command, reply_to, correlation_id).SerializeToString()


def event_to_proto(event: Event) -> epb.Event:
    msg = epb.Event(seq=event.seq, ts=event.ts)
    kind = _EVENT_FIELD[type(event)]
    body = getattr(msg, kind)
    body.SetInParent()
    if isinstance(event, BookDelta):
        for price, qty in event.bids:
            body.bids.add(price=price, quantity=qty)
        for price, qty in event.asks:
            body.asks.add(price=price, quantity=qty)
        return msg
    for name in event.FIELDS[2:]:
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
    event: Event = cls(msg.seq, msg.ts, *(getattr(body, name) for name in cls.FIELDS[2:]))
    return event


def encode_events(symbol: str, events: list[Event], command_id: str = "") -> bytes:
    """One evt:{SYMBOL} entry: the events of one command."""
    batch = epb.EventBatch(symbol=symbol, command_id=command_id)
    batch.events.extend(event_to_proto(e) for e in events)
    return batch.SerializeToString()


def decode_events(data: bytes) -> tuple[str, list[Event], str]:
    """(symbol, events, command id) of one evt:{SYMBOL} entry."""
    batch = epb.EventBatch.FromString(data)
    return batch.symbol, [event_from_proto(e) for e in batch.events], batch.command_id
