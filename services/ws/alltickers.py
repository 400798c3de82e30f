"""Once a second: the ticker streams of every running feed, and the all-market arrays.

`!ticker@arr` and `!miniTicker@arr` carry the 24-hour tickers (from the service's TickerSource),
`!ticker_<1h|4h|1d>@arr` the rolling-window tickers of the trades seen; each array holds only
the markets whose numbers (times aside) changed since that array last carried them (every
market in the first array after the stream gets its first subscriber), and is not sent when
none did, as Binance does.
"""

from collections.abc import Iterable

from marketdata.feed import SymbolFeed
from marketdata.payloads import json_array
from marketdata.streams import WINDOWS
from marketdata.tickers import TickerSource
from ws.fanout import Hub

ALL_TICKERS = "!ticker@arr"
ALL_MINI_TICKERS = "!miniTicker@arr"
ALL_WINDOW_TICKERS = {w: f"!ticker_{w}@arr" for w in WINDOWS}


async def publish_tickers(hub: Hub, feeds: Iterable[SymbolFeed], source: TickerSource, now: int) -> None:
    """Publish every ticker stream somebody subscribed to, at event time `now` (ms)."""
    full, mini = hub.has(ALL_TICKERS), hub.has(ALL_MINI_TICKERS)
    windows = [w for w, name in ALL_WINDOW_TICKERS.items() if hub.has(name)]
    full_items: list[bytes] = []
    mini_items: list[bytes] = []
    window_items: dict[str, list[bytes]] = {w: [] for w in windows}
    for feed in feeds:
        if feed.wants_ticker() or full or mini:
            ticker = await source(feed.symbol, now)
            if ticker is not None:
                feed.publish_tickers(now, ticker)
                if full and feed.changed_since_sent(ALL_TICKERS, ticker):
                    full_items.append(feed.fmt.ticker(now, ticker, *feed.top))
                if mini and feed.changed_since_sent(ALL_MINI_TICKERS, ticker):
                    mini_items.append(feed.fmt.mini_ticker(now, ticker))
        feed.publish_windows(now)
        for window in windows:
            ticker = feed.window_ticker(now, window)
            if ticker is not None and feed.changed_since_sent(ALL_WINDOW_TICKERS[window], ticker):
                window_items[window].append(feed.fmt.window_ticker(now, window, ticker))
    if full_items:
        hub.publish(ALL_TICKERS, json_array(full_items))
    if mini_items:
        hub.publish(ALL_MINI_TICKERS, json_array(mini_items))
    for window, items in window_items.items():
        if items:
            hub.publish(ALL_WINDOW_TICKERS[window], json_array(items))
