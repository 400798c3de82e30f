"""The one place where a Redis client is made: one Redis or a Redis Cluster, chosen by the URL.

`redis://host:port/db` (or `rediss://`, `unix://`) is one Redis; `redis+cluster://host:port` (or
`rediss+cluster://`) is a Redis Cluster reached through any of its nodes. On a cluster the client
is redis-py's RedisCluster: it routes each command to its slot's master and follows MOVED/ASK.
It offers the commands of `Redis` that the services use, as long as every command's keys share
one slot (the keys carry hash tags: exchange_core.keys), so it is typed as `Redis` here and every
caller stays one code path. What differs on a cluster is asked of `is_cluster`: pub/sub is
sharded there (SPUBLISH/SSUBSCRIBE, `publish_command`), and reads of several streams go one
stream at a time. docs/cluster.md.
"""

import asyncio
from typing import Any, cast

import redis
import redis.cluster
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ClusterError

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
RETRY_S = 20.0  # as exchange_core.pipelined_cluster: past a slot's migration and a failover
RETRY_PAUSE_S = 0.05


class PatientCluster(RedisCluster):
    """RedisCluster that keeps sending a command for up to RETRY_S while Redis answers it
    TRYAGAIN (or redirects it) beyond redis-py's budget of 16 attempts, the last 8 of them 50 ms
    apart: a Lua call on keys of a slot being migrated (some moved, some not, or some that do
    not exist) is answered TRYAGAIN until the slot has moved, which under load takes seconds.
    redis-py then raises ClusterError("TTL exhausted"): every attempt was redirected or refused
    with TRYAGAIN, so Redis ran nothing and sending again is safe."""

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RETRY_S
        while True:
            try:
                return await super().execute_command(*args, **kwargs)
            except ClusterError as exc:
                if "TTL exhausted" not in str(exc) or loop.time() > deadline:
                    raise
            await asyncio.sleep(RETRY_PAUSE_S)


def cluster_seed(url: str) -> str | None:
    """The plain `redis://` URL of the node a cluster URL names; None for a one-Redis URL."""
    scheme, sep, rest = url.partition("://")
    plain = CLUSTER_SCHEMES.get(scheme.lower()) if sep else None
    return f"{plain}://{rest}" if plain else None


def connect(url: str, max_connections: int | None = None, **options: Any) -> Redis:
    """A client for `url` that returns bytes; at most `max_connections` per server when given
    (`options` go to redis-py's from_url)."""
    if max_connections is not None:
        options["max_connections"] = max_connections
    seed = cluster_seed(url)
    if seed is not None:
        return cast(Redis, PatientCluster.from_url(seed, decode_responses=False, **options))
    client: Redis = Redis.from_url(url, decode_responses=False, **options)
    return client


def is_cluster(client: Redis) -> bool:
    return isinstance(client, RedisCluster)


def publish_command(client: Redis) -> str:
    """PUBLISH on one Redis; SPUBLISH on a cluster, delivered by the channel's shard only."""
    return "SPUBLISH" if is_cluster(client) else "PUBLISH"


async def publish(client: Redis, channel: str, message: str | bytes) -> int:
    """Publish `message` on `channel` with `publish_command`; the number of receivers."""
    receivers: int = await client.execute_command(publish_command(client), channel, message)  # type: ignore[no-untyped-call]
    return receivers


def cluster_seed_node(client: Redis) -> tuple[str, int, dict[str, Any]]:
    """Host, port and connection options (username, password, ...) of a cluster client's first
    startup node."""
    cluster = cast(RedisCluster, client)
    node = cluster.startup_nodes[0]
    options: dict[str, Any] = cluster.get_connection_kwargs()
    return node.host, int(node.port), options


def sync_client_like(client: Redis) -> redis.Redis:
    """A blocking client to the server (or cluster) and database that the asyncio `client` uses
    (for a forked child, which cannot share the parent's event loop)."""
    if is_cluster(client):
        host, port, options = cluster_seed_node(client)
        sync_cluster = redis.cluster.RedisCluster(
            host=host, port=port, username=options.get("username"), password=options.get("password")
        )
        return cast(redis.Redis, sync_cluster)
    kw = client.connection_pool.connection_kwargs
    if kw.get("path"):
        return redis.Redis(unix_socket_path=kw["path"], db=kw.get("db", 0),
                           username=kw.get("username"), password=kw.get("password"))  # fmt: skip
    return redis.Redis(host=kw.get("host", "127.0.0.1"), port=kw.get("port", 6379), db=kw.get("db", 0),
                       username=kw.get("username"), password=kw.get("password"))  # fmt: skip
