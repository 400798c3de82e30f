"""The gateway's in-process rate limits: fixed windows, per IP and per API key, on a fake clock."""

from exchange_core.errors import TOO_MANY_ORDERS, TOO_MANY_REQUESTS
from gateway.ratelimit import FixedWindow, Limits, RateLimited, RateLimiter


def request(
    limiter: RateLimiter, ip: str, api_key: str | None, is_order: bool
) -> tuple[int, str, int] | None:
    """One request as a transport makes it: weighed, then (an order, once authenticated) counted
    against its key; None when served, else (code, message, Retry-After)."""
    refused = limiter.check(ip, api_key)
    if refused is not None or not is_order:
        return refused
    try:
        limiter.count_order(api_key)
    except RateLimited as exc:
        assert exc.status == 429
        return exc.code, exc.msg, exc.retry_after
    return None


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_window_allows_its_limit_then_says_how_long_to_wait() -> None:
    window = FixedWindow(3, 10.0)
    assert [window.hit("k", 100.5) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert window.hit("k", 102.0) == 8.0
    assert window.hit("other", 102.0) == 0.0  # keys count apart
    assert window.hit("k", 110.0) == 0.0  # the next window starts from zero
    assert window.counts == {"k": 1}


def test_request_weight_is_per_ip_and_orders_per_key() -> None:
    clock = Clock(1_000_000.0)
    limiter = RateLimiter(Limits(ip_weight_per_minute=5, orders_per_10s=2, orders_per_day=0), clock)
    assert request(limiter, "1.1.1.1", "A", True) is None
    assert request(limiter, "1.1.1.1", "A", True) is None
    code, msg, retry = request(limiter, "1.1.1.1", "A", True) or (0, "", 0)
    assert (code, retry) == (TOO_MANY_ORDERS, 10)
    assert msg == "Too many new orders; current limit is 2 orders per 10 SECOND."
    assert request(limiter, "1.1.1.1", "B", True) is None  # another key may still order
    assert request(limiter, "1.1.1.1", "A", False) is None  # and A may still query
    refused = request(limiter, "1.1.1.1", "C", False)
    assert (
        refused is not None and refused[0] == TOO_MANY_REQUESTS and refused[2] == 20
    )  # 1,000,000 s is 40 s into its minute
    assert request(limiter, "2.2.2.2", None, False) is None  # another IP is not affected
    clock.now += 20
    assert request(limiter, "1.1.1.1", "A", True) is None  # both windows have passed


def test_exempt_keys_and_limits_that_are_off() -> None:
    limiter = RateLimiter(Limits(1, 1, 0, frozenset({"MM"})), Clock(0.0))
    assert all(request(limiter, "ip", "MM", True) is None for _ in range(100))
    off = RateLimiter(Limits(0, 0, 0), Clock(0.0))
    assert all(request(off, "ip", "K", True) is None for _ in range(100))
    assert Limits(0, 0, 0).advertised() == []
    assert [x["limit"] for x in Limits().advertised()] == [6_000, 100, 200_000]


def test_order_counts_are_the_current_windows_of_one_key() -> None:
    clock = Clock(1_000_003.0)  # 3 s into a 10-second window
    limiter = RateLimiter(Limits(orders_per_10s=5, orders_per_day=100, exempt_keys=frozenset({"MM"})), clock)
    for key in ("A", "A", "A", "B", "MM"):
        assert request(limiter, "1.1.1.1", key, True) is None
    assert request(limiter, "1.1.1.1", "A", False) is None  # a query is no order

    def counts(key: str | None) -> list[tuple[str, int, int, int]]:
        return [(c["interval"], c["intervalNum"], c["limit"], c["count"]) for c in limiter.order_counts(key)]

    assert limiter.order_counts("A")[0] == {
        "rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 5, "count": 3
    }  # fmt: skip
    assert counts("A") == [("SECOND", 10, 5, 3), ("DAY", 1, 100, 3)]
    assert counts("B") == [("SECOND", 10, 5, 1), ("DAY", 1, 100, 1)]
    assert counts("MM") == counts(None) == counts("unknown") == [("SECOND", 10, 5, 0), ("DAY", 1, 100, 0)]
    clock.now += 7  # the next 10-second window; the day goes on
    assert counts("A") == [("SECOND", 10, 5, 0), ("DAY", 1, 100, 3)]
    assert request(limiter, "1.1.1.1", "A", True) is None
    assert counts("A") == [("SECOND", 10, 5, 1), ("DAY", 1, 100, 4)]
    only_day = RateLimiter(Limits(orders_per_10s=0, orders_per_day=7), clock)
    assert [c["interval"] for c in only_day.order_counts("A")] == ["DAY"]  # limits in force only


def test_usage_is_the_ip_weight_and_for_orders_the_key_counts() -> None:
    clock = Clock(2_000_000.0)
    limiter = RateLimiter(Limits(ip_weight_per_minute=50, orders_per_10s=5, orders_per_day=0), clock)
    for _ in range(3):
        assert request(limiter, "1.1.1.1", "A", True) is None
    assert request(limiter, "2.2.2.2", "A", False) is None
    weight = {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": 50,
        "count": 3,
    }
    assert limiter.usage("1.1.1.1", "A", orders=False) == [weight]
    orders = {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 5, "count": 3}
    assert limiter.usage("1.1.1.1", "A", orders=True) == [orders, weight]
    assert limiter.usage("2.2.2.2", None, orders=False)[0]["count"] == 1
    clock.now += 60  # the next minute: nothing used yet
    assert limiter.usage("1.1.1.1", "A", orders=False)[0]["count"] == 0
    assert RateLimiter(Limits(0, 0, 0), clock).usage("1.1.1.1", "A", orders=True) == []


def test_orders_count_against_the_authenticated_key_only() -> None:
    """A web session (no key) is not counted; exempt keys are not; a refused order is not."""
    limiter = RateLimiter(
        Limits(orders_per_10s=1, orders_per_day=0, exempt_keys=frozenset({"MM"})), Clock(5.0)
    )
    limiter.count_order(None)
    limiter.count_order("MM")
    limiter.count_order("MM")
    limiter.count_order("A")
    for _ in range(3):
        try:
            limiter.count_order("A")
            raise AssertionError("a second order in the window was counted")
        except RateLimited as refused:
            assert (refused.code, refused.retry_after) == (TOO_MANY_ORDERS, 5)
    assert [c["count"] for c in limiter.order_counts("A")] == [1]
