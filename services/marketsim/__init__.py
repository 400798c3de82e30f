"""The market simulation: agents trading every market through the public REST API like any bot
(market makers, deep resting liquidity, noise takers, momentum and mean-reversion traders,
sweepers) around a seeded fair price (marketsim.price).

`python -m marketsim` runs it (settings.SimSettings); `marketsim.accounts` creates the agents'
users, API keys and funds (used by the launcher); `python -m marketsim.report` measures the
markets it makes (docs/marketsim.md).
"""
