"""What settlement keeps of an order between its events (settlement.effects, settlement.reports)."""

from dataclasses import dataclass, field

from exchange_core.records import OrderRecord
from settlement.jsontext import json_text

# An order's executionReport fragments that no event changes (settlement.reports): c through F,
# creation time, Q, V and d, whether it is a stop order, whether it is not a market order.
ReportFields = tuple[str, int, str, str, bool, bool]


@dataclass(slots=True)
class OrderInfo:
    """What settlement keeps of an order to write its state: the fields that never change."""

    order_id: int
    user_id: int
    client_order_id: str
    side: int
    order_type: int
    time_in_force: int
    price: int
    quantity: int
    quote_quantity: int
    stp_mode: int
    time: int
    # progress, kept up to date by every state written
    executed: int = 0
    executed_quote: int = 0
    # stop orders: the trigger price, and when it triggered (0 while it waits)
    stop_price: int = 0
    triggered: int = 0
    trailing_delta: int = 0
    iceberg_qty: int = 0
    order_list_id: int = 0
    # self-trade prevention: the prevented match that expired it, and the quantity it prevented
    prevented_match_id: int = 0
    prevented_qty: int = 0
    # its executionReport fields that no event changes, formatted (settlement.reports); None
    # until the first report and after its quantity or client order id changed
    report_fields: ReportFields | None = field(default=None, compare=False, repr=False)

    def state(self, status: int, executed: int, executed_quote: int, update_time: int) -> bytes:
        """The stored order state: OrderRecord.encode of the same fields, written from
        a template."""
        text = (
            f'{{"i":{self.order_id},"c":{json_text(self.client_order_id)},"S":{self.side},'
            f'"t":{self.order_type},"f":{self.time_in_force},"p":{self.price},"q":{self.quantity},'
            f'"qq":{self.quote_quantity},"stp":{self.stp_mode},"T":{self.time},"st":{status},'
            f'"x":{executed},"xq":{executed_quote},"u":{update_time},"sp":{self.stop_price},'
            f'"tr":{self.triggered},"td":{self.trailing_delta},"iq":{self.iceberg_qty}'
        )
        # "ol", "pm" and "pq" left out when 0: the bytes written before order lists and
        # prevented matches existed
        if self.order_list_id:
            text = f'{text},"ol":{self.order_list_id}'
        if self.prevented_match_id:
            text = f'{text},"pm":{self.prevented_match_id}'
        if self.prevented_qty:
            text = f'{text},"pq":{self.prevented_qty}'
        return f"{text}}}".encode()

    @classmethod
    def from_state(cls, user_id: int, raw: str | bytes) -> "OrderInfo":
        r = OrderRecord.decode(raw)
        return cls(
            r.order_id, user_id, r.client_order_id, r.side, r.order_type, r.time_in_force,
            r.price, r.quantity, r.quote_quantity, r.stp_mode, r.time, r.executed,
            r.executed_quote, r.stop_price, r.triggered, r.trailing_delta, r.iceberg_qty,
            r.order_list_id, r.prevented_match_id, r.prevented_qty,
        )  # fmt: skip
