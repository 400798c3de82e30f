"""A process of WebSocket clients that count the frames the ws tier delivers to them, for the
cluster benchmark's ws CPU per delivered message.

`python -m bench.ws_counter WS_URL PATH N`: connects N clients to WS_URL + PATH (a combined
stream), prints "ready"; counts text frames from a stdin line "start" to a line "stop", then prints
{"frames": F, "connected": C, "closed_early": E} as JSON and exits.
"""

import asyncio
import json
import sys

from bench.ws_bench import BenchClient, Stats


class FrameCount(Stats):
    """Counts every text frame while `measuring`."""

    def __init__(self) -> None:
        super().__init__()
        self.frames = 0

    def on_text(self, payload: bytes, now_ms: float) -> None:
        if self.measuring:
            self.frames += 1


async def run(url: str, path: str, count: int) -> None:
    host = url.removeprefix("ws://")
    address, port = host.split(":")
    loop = asyncio.get_running_loop()
    stats = FrameCount()

    async def one() -> asyncio.Transport:
        ready: asyncio.Future[None] = loop.create_future()
        transport, _ = await loop.create_connection(
            lambda: BenchClient(host, path, stats, ready), address, int(port)
        )
        await ready
        return transport

    transports = await asyncio.gather(*(one() for _ in range(count)))
    print("ready", flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.readline()
    stats.measuring = True
    await reader.readline()
    stats.measuring = False
    result = {"frames": stats.frames, "connected": stats.connected, "closed_early": stats.closed}
    for transport in transports:
        transport.close()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], sys.argv[2], int(sys.argv[3])))
