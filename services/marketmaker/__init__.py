"""The market maker: a bot like any other, quoting every market through the public REST API.

`python -m marketmaker` runs it (settings.MarketMakerSettings); `marketmaker.account` creates
its user, API key and funds (used by the launcher, never by the bot itself).
"""
