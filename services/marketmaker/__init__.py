"""The market maker: a bot like any other, quoting every market through the public REST API.

`python -m marketmaker` runs it (settings.MarketMakerSettings); what it shares with every other
bot (client, rules, ladders, quoter, start-up, account set-up) lives in `botkit`.
"""
