"""The gateway: Binance-compatible REST API and web endpoints (FastAPI)."""
