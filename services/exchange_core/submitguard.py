"""The submit guard: the longest a gateway may take from reserving an order's funds to appending
its command to the market's journal.

A gateway that would append later than this answers -1007 (status unknown) and never appends
(gateway.orders). Settlement's orphan sweeper releases a pending reservation only once it has
settled a command appended more than its own guard after the reservation (settlement.service), so
its guard may be longer than this, never shorter: shorter, it could release a reservation whose
command is still on its way.
"""

SUBMIT_GUARD_MS = 10_000
