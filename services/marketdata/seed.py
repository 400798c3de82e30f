"""Recent trades of a market from its event journal evt:{SYMBOL}, to seed candles and the 24h
statistics when a market's feed starts."""

from typing import cast

from redis.asyncio import Redis

from exchange_core.streamids import entry_ms
from exchange_proto import events_pb2 as epb
from marketdata.feed import TradeRow
from matching.enums import Side

_SELL = int(Side.SELL)
CHUNK = 1_000


async def recent_trades(redis: Redis, events_key: str, since_ms: int, max_entries: int) -> list[TradeRow]:
    """The trades at or after `since_ms`, oldest first, read newest first from at most
    `max_entries` journal entries (so the oldest may be missing on a busy market)."""
    chunks: list[list[TradeRow]] = []
    upper = b"+"
    read = 0
    while read < max_entries:
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            await redis.xrevrange(events_key, max=upper, min="-", count=min(CHUNK, max_entries - read)),
        )
        if not entries:
            break
        read += len(entries)
        done = False
        for entry_id, fields in entries:
            if entry_ms(entry_id) < since_ms:
                done = True
                break
            batch = epb.EventBatch.FromString(fields[b"e"])
            rows = [
                (ev.seq, ev.ts, ev.trade.trade_id, ev.trade.price, ev.trade.quantity, ev.trade.quote_quantity,
                 ev.trade.taker_side != _SELL)
                for ev in batch.events
                if ev.WhichOneof("kind") == "trade" and ev.ts >= since_ms
            ]  # fmt: skip
            if rows:
                chunks.append(rows)
        if done:
            break
        upper = b"(" + entries[-1][0]
    return [row for rows in reversed(chunks) for row in rows]
