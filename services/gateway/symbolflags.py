"""What the order path accepts, as exchangeInfo's per-symbol flags state it: the one place those
flags are set. An order-list endpoint that comes to exist turns its flag on here (`ocoAllowed`
once POST orderList/oco is served, `otoAllowed` with orderList/oto; `opoAllowed` needs OTO).
"""

ICEBERG_ALLOWED = True
OCO_ALLOWED = True  # POST orderList/oco (gateway.orderlists)
OTO_ALLOWED = True  # POST orderList/oto and orderList/otoco (gateway.orderlists)
# OPO (one-pays-the-other) is an OTO variant: never on without OTO.
OPO_ALLOWED = False
assert OTO_ALLOWED or not OPO_ALLOWED, "opoAllowed needs otoAllowed"
QUOTE_ORDER_QTY_MARKET_ALLOWED = True
ALLOW_TRAILING_STOP = True
CANCEL_REPLACE_ALLOWED = True
AMEND_ALLOWED = True
# Pegged orders (pegPriceType) are not accepted.
PEG_INSTRUCTIONS_ALLOWED = False


def symbol_flags() -> dict[str, bool]:
    """exchangeInfo's flags of every symbol, in Binance's order (they sit between `orderTypes`
    and `filters`; isSpotTradingAllowed and isMarginTradingAllowed follow)."""
    return {
        "icebergAllowed": ICEBERG_ALLOWED,
        "ocoAllowed": OCO_ALLOWED,
        "otoAllowed": OTO_ALLOWED,
        "opoAllowed": OPO_ALLOWED,
        "quoteOrderQtyMarketAllowed": QUOTE_ORDER_QTY_MARKET_ALLOWED,
        "allowTrailingStop": ALLOW_TRAILING_STOP,
        "cancelReplaceAllowed": CANCEL_REPLACE_ALLOWED,
        "amendAllowed": AMEND_ALLOWED,
        "pegInstructionsAllowed": PEG_INSTRUCTIONS_ALLOWED,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
    }
