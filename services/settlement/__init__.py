"""Settlement: applies every market's events to the ledger, exactly once per (user, symbol)."""
