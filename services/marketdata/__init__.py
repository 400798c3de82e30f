"""Market data as the WebSocket tier and the gateway both serve it (a library, no process): a
market's feed from md.{SYMBOL} (local depth book with snapshot sync and gap repair, candles, 24h
statistics), Binance's stream names and payloads, and the Redis pub/sub bus they arrive on."""
