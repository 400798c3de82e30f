"""Why a call does not pass here, shared by the libraries' lists of what is out of scope."""

SOR = "smart order routing (sor/order): Binance routes over its SOR pools; this venue has one book per market"
BLOCK = "block trades (negotiated off-book trades between institutions): not a Spot order book feature"
OPO = "OPO/OPOCO order lists (the pending order pays with the working order's proceeds): not built here"
REFERENCE = "reference prices (for symbols priced off another market): not built here, no symbol has one"
EXECUTION_RULES = "executionRules (Binance's per-symbol price-range rules, 2025): not built here"
AMENDMENTS = "order/amendments (the history of an order's amendments): amendments are not stored here"
