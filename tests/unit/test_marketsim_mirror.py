"""The mirror source without the exchange: Binance aggTrade messages (raw and combined-stream),
and the source against a local WebSocket server that drops it and comes back."""

import asyncio
import json
from decimal import Decimal

from websockets.asyncio.server import ServerConnection, serve

from launcher.stack import free_port
from marketsim.mirror import MirrorSource, trade_price

EVENT = {
    "e": "aggTrade", "E": 1767225600123, "s": "BTCUSDT", "a": 26129, "p": "65000.15000000",
    "q": "0.01000000", "f": 100, "l": 105, "T": 1767225600120, "m": True, "M": True,
}  # fmt: skip


def event(price: str, symbol: str = "BTCUSDT") -> dict[str, object]:
    return {**EVENT, "p": price, "s": symbol}


def test_trade_prices_from_raw_and_combined_streams() -> None:
    assert trade_price(json.dumps(EVENT), "BTCUSDT") == Decimal("65000.15")
    combined = {"stream": "btcusdt@aggTrade", "data": event("64999.99")}
    assert trade_price(json.dumps(combined).encode(), "BTCUSDT") == Decimal("64999.99")
    assert trade_price(json.dumps(event("3000", "ETHUSDT")), "BTCUSDT") is None
    assert trade_price(json.dumps({"result": None, "id": 1}), "BTCUSDT") is None
    assert trade_price(json.dumps({**EVENT, "e": "trade"}), "BTCUSDT") is None
    assert trade_price(json.dumps(event("0")), "BTCUSDT") is None
    assert trade_price(json.dumps(event("abc")), "BTCUSDT") is None
    assert trade_price("not json", "BTCUSDT") is None


async def test_the_source_reconnects_and_holds_the_last_price_meanwhile() -> None:
    port = free_port()
    paths: list[str] = []
    prices = iter(["65000.00", "65010.00"])

    async def one_trade_then_close(connection: ServerConnection) -> None:
        assert connection.request is not None
        paths.append(connection.request.path)
        await connection.send(json.dumps(event(next(prices))))
        await connection.wait_closed()

    tick = Decimal("0.01")
    source = MirrorSource(f"ws://127.0.0.1:{port}/ws/btcusdt@aggTrade", "BTCUSDT", tick, 0.5, 0.5)
    server = await serve(one_trade_then_close, "127.0.0.1", port)
    feed = asyncio.create_task(source.run())
    try:
        assert await source.first_price(5.0) == 6_500_000.0
        server.close()
        await server.wait_closed()
        await asyncio.sleep(1.2)  # gone longer than stale_seconds: the price holds, with a warning
        assert source.price_at(100.0) == 6_500_000.0
        assert source.stale_warnings >= 1
        server = await serve(one_trade_then_close, "127.0.0.1", port)
        for _ in range(100):
            if source.price_at(200.0) != 6_500_000.0:
                break
            await asyncio.sleep(0.05)
        assert source.price_at(200.0) == 6_501_000.0
        assert source.connects == 2 and paths == ["/ws/btcusdt@aggTrade"] * 2
    finally:
        feed.cancel()
        server.close()
        await server.wait_closed()
