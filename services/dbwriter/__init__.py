"""The DB processor: writes every market's trades and order states to PostgreSQL/TimescaleDB."""
