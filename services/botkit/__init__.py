"""What a bot trading through the public API needs: the signed REST client (`client`), the market's
trading rules (`rules`), ladders and fair prices (`ladder`), the quoter that keeps a ladder resting
(`quoter`, with `inventory` and `stats`), start-up steps (`startup`), account set-up (`account`,
used by the launcher, never by a bot) and metrics (`telemetry`).

A library: `marketmaker` and `marketsim` build on it; it imports neither.
"""
