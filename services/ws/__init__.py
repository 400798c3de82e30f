"""The WebSocket tier: Binance-compatible market and user data streams fanned out from Redis."""
