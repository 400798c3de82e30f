"""Login throttling: failed logins counted per account and per client IP, in Redis so that every
gateway process sees the same counts.

Each count is a fixed window of LOGIN_FAILURE_WINDOW_S seconds (GatewaySettings) that starts at
its first failure. While an account has LOGIN_FAILURES_PER_ACCOUNT failures in its window, or an IP
LOGIN_FAILURES_PER_IP, every login to that
account (or from that IP) is refused before the password is checked, the right password too:
429 with Binance's -1003 and `Retry-After` (the seconds left in the window). A successful login
clears its account's count, not its IP's. Locking an account for a while is what an attacker who
knows an e-mail address can do to its owner; the window is short and sessions already open are
untouched, which is the usual trade for stopping password guessing.

Sign-up says when an e-mail is registered already (the page has no other way to tell its owner:
there is no mail), and each such answer counts as a failure against the IP, so addresses cannot
be tried in bulk: LOGIN_FAILURES_PER_IP per window, shared with failed logins.
"""

import hashlib

from exchange_core.errors import TOO_MANY_REQUESTS
from gateway.context import GatewayContext
from gateway.ratelimit import RateLimited


def _counters(ctx: GatewayContext, email: str | None, ip: str | None) -> list[tuple[str, int, str]]:
    """(key, most failures, whose) of the account of `email` and of `ip`, each when given."""
    keys, settings = ctx.keys, ctx.settings
    counters = []
    if email is not None:
        # The e-mail as login normalizes it, hashed: any text a client sends makes a short key.
        account = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
        counters.append((keys.login_failures(f"a:{account}"), settings.login_failures_per_account, "account"))
    if ip:
        counters.append((keys.login_failures(f"i:{ip}"), settings.login_failures_per_ip, "IP"))
    return counters


async def check_allowed(ctx: GatewayContext, email: str | None, ip: str | None) -> None:
    """Raises RateLimited (429 -1003, retry_after: the seconds left in the window) while the account
    of `email` or `ip` is over its count of failures."""
    for key, most, whose in _counters(ctx, email, ip):
        failures = await ctx.redis.get(key)
        if failures is not None and int(failures) >= most:
            retry_after = max(1, int(await ctx.redis.ttl(key)))
            msg = f"Too many failed attempts for this {whose}; retry after {retry_after} seconds."
            raise RateLimited(TOO_MANY_REQUESTS, msg, retry_after)


async def record_failure(ctx: GatewayContext, email: str | None, ip: str | None) -> None:
    """Counts one failure against the account of `email` and against `ip`, each when given."""
    async with ctx.redis.pipeline(transaction=True) as pipe:
        for key, _, _ in _counters(ctx, email, ip):
            pipe.set(key, 0, ex=ctx.settings.login_failure_window_s, nx=True)
            pipe.incr(key)
        await pipe.execute()


async def clear_account(ctx: GatewayContext, email: str) -> None:
    """Forgets the account's failures (after a successful login)."""
    for key, _, _ in _counters(ctx, email, None):
        await ctx.redis.delete(key)
