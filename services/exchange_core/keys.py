"""Every Redis key and channel name, in one place (ARCHITECTURE.md, Keys and streams).

Braces are Redis Cluster hash tags: everything about one symbol shares a slot, everything about
one user another. `prefix` namespaces a whole deployment (tests use a random one).
"""

from dataclasses import dataclass

FEE_ACCOUNT = 0  # the user id that collects trading fees


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = ""

    # per symbol
    def commands(self, symbol: str) -> str:
        return f"{self.prefix}cmd:{{{symbol}}}"

    def events(self, symbol: str) -> str:
        return f"{self.prefix}evt:{{{symbol}}}"

    def snapshot(self, symbol: str) -> str:
        return f"{self.prefix}snap:{{{symbol}}}"

    def depth(self, symbol: str) -> str:
        return f"{self.prefix}depth:{{{symbol}}}"

    def order_ids(self, symbol: str) -> str:
        return f"{self.prefix}oid:{{{symbol}}}"

    def settled_position(self, symbol: str) -> str:
        """The last command id whose events settlement has applied."""
        return f"{self.prefix}settled:{{{symbol}}}"

    def market_data(self, symbol: str) -> str:
        """The market's pub/sub channel; tagged, so that the engine's fenced write (one slot)
        can publish it on a cluster (SPUBLISH goes through the channel's slot)."""
        return f"{self.prefix}md.{{{symbol}}}"

    def pending_reservations(self, symbol: str) -> str:
        """The market's reservations not yet confirmed by its engine: member `uid:SYM:oid`,
        score ms. Per market, so that the market's settlement worker sweeps its own."""
        return f"{self.prefix}resv-pending:{{{symbol}}}"

    def market_status(self, symbol: str) -> str:
        """The market's trading status set by an admin (exchange_core.marketstatus); none: TRADING."""
        return f"{self.prefix}status:{{{symbol}}}"

    def market_status_channel(self) -> str:
        """Where a market's symbol is published when its status changes (every gateway listens)."""
        return f"{self.prefix}status-changed"

    def sim_control(self, symbol: str) -> str:
        """The market simulation's scheduled scenario actions for the market (exchange_core.simcontrol)."""
        return f"{self.prefix}sim:{{{symbol}}}"

    def sim_control_channel(self) -> str:
        """Where a market's symbol is published when its scenario actions change (the simulation
        listens)."""
        return f"{self.prefix}sim-changed"

    def lease(self, partition: str, role: str) -> str:
        """Who holds `role` (engine, settlement, dbwriter) for `partition`: "token:holder", with a TTL."""
        return f"{self.prefix}lease:{{{partition}}}:{role}"

    def lease_token(self, partition: str, role: str) -> str:
        """The last fencing token granted for the lease (only grows)."""
        return f"{self.prefix}lease:{{{partition}}}:{role}:token"

    # per user
    def balances(self, user_id: int) -> str:
        return f"{self.prefix}bal:{{{user_id}}}"

    def reservations(self, user_id: int) -> str:
        return f"{self.prefix}resv:{{{user_id}}}"

    def orders(self, user_id: int) -> str:
        return f"{self.prefix}ord:{{{user_id}}}"

    def open_orders(self, user_id: int) -> str:
        return f"{self.prefix}open:{{{user_id}}}"

    def amend_counts(self, user_id: int) -> str:
        """Hash "SYMBOL:order_id" -> amendments made (the gateway's MAX_NUM_ORDER_AMENDS count)."""
        return f"{self.prefix}amends:{{{user_id}}}"

    def client_ids(self, user_id: int) -> str:
        return f"{self.prefix}coid:{{{user_id}}}"

    def user_trades(self, user_id: int, symbol: str) -> str:
        return f"{self.prefix}utr:{{{user_id}}}:{symbol}"

    def user_orders_by_symbol(self, user_id: int, symbol: str) -> str:
        return f"{self.prefix}uord:{{{user_id}}}:{symbol}"

    def prevented_matches(self, user_id: int, symbol: str) -> str:
        """Sorted set of the user's prevented matches in `symbol` (exchange_core.prevented),
        scored by prevented match id."""
        return f"{self.prefix}upm:{{{user_id}}}:{symbol}"

    def order_lists(self, user_id: int) -> str:
        """Hash "SYMBOL:listId" -> the stored order list (exchange_core.listrecords)."""
        return f"{self.prefix}olist:{{{user_id}}}"

    def open_order_lists(self, user_id: int) -> str:
        """Set of the "SYMBOL:listId" fields of the user's open order lists."""
        return f"{self.prefix}olopen:{{{user_id}}}"

    def list_client_ids(self, user_id: int) -> str:
        """Hash listClientOrderId -> "SYMBOL:listId" of the newest list with that id."""
        return f"{self.prefix}olcid:{{{user_id}}}"

    def user_lists_by_time(self, user_id: int) -> str:
        """Sorted set of "SYMBOL:listId" scored by the list's transaction time."""
        return f"{self.prefix}olall:{{{user_id}}}"

    def user_channel(self, user_id: int) -> str:
        return f"{self.prefix}user.{{{user_id}}}"

    def listen_key(self, key: str) -> str:
        """A user data stream's listenKey -> the user id (expires unless kept alive)."""
        return f"{self.prefix}listenKey:{key}"

    def api_key_listen_keys(self, api_key: str) -> str:
        """The listen keys an API key opened or kept alive (closed when the key is revoked)."""
        return f"{self.prefix}apiKeyListenKeys:{api_key}"

    # gateway
    def reply_channel(self, gateway_id: str) -> str:
        return f"{self.prefix}reply.{gateway_id}"

    def session(self, token: str) -> str:
        return f"{self.prefix}sess:{token}"

    def login_failures(self, who: str) -> str:
        """Failed logins of an account ("a:<sha256 of the e-mail>") or an IP ("i:<ip>")."""
        return f"{self.prefix}login-fail:{who}"
