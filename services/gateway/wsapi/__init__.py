"""Binance's WebSocket API (ws-api v3) on the gateway: see gateway.wsapi.endpoint."""
