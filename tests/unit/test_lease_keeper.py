"""A lease keeper stops when it is cancelled, at whatever point of its loop the cancellation lands.

Python 3.11's `asyncio.wait_for` swallows a cancellation that arrives in the same loop iteration
as its inner call's result: a keeper built on it went on renewing a lease its worker had dropped,
so no standby could ever take the partition. The renewal here is a coroutine that answers at once
(pure scheduling; the Redis side of leases is tested in tests/integration/test_lease.py)."""

import asyncio

from redis.asyncio import Redis

from exchange_core.keys import Keys
from exchange_core.lease import Lease, LeaseSettings


class InstantLease(Lease):
    """A lease whose renewal succeeds without a round trip, counting the renewals."""

    renewals = 0

    async def renew(self) -> bool:
        self.renewals += 1
        await asyncio.sleep(0)
        return True


async def test_a_cancelled_keeper_renews_no_more_wherever_the_cancellation_lands() -> None:
    settings = LeaseSettings(lease_ttl_ms=1_000, lease_renew_ms=0, lease_poll_ms=10)
    redis = Redis()  # never connected: InstantLease makes no call
    for offset in range(40):  # every point of several loop iterations
        lease = InstantLease(redis, Keys("t-keeper"), "BTCUSDT", "settlement", settings)
        keeper = asyncio.create_task(lease.keep())
        for _ in range(offset):
            await asyncio.sleep(0)
        keeper.cancel()
        for _ in range(10):
            await asyncio.sleep(0)
        assert keeper.done(), f"the keeper cancelled after {offset} steps is still renewing"
        assert keeper.cancelled()
        stopped_at = lease.renewals
        for _ in range(10):
            await asyncio.sleep(0)
        assert lease.renewals == stopped_at
    await redis.aclose()
