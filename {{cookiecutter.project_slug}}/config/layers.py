"""Channel layer settings for Redis, used by settings.py (no Django imports here)."""

from redis.exceptions import ConnectionError

REDIS_LAYER_BACKENDS = {
    # Groups kept in Redis; a capacity per channel and a message expiry (60 s).
    # channels_redis's, corrected for several shards (see realtime/layers.py).
    "core": "realtime.layers.RedisChannelLayer",
    # Redis pub/sub: lighter and faster, no capacity limit (a slow consumer's
    # backlog grows in memory), group membership held by each process.
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}


def redis_layer(urls: str | list[str], flavor: str = "core", prefix: str = "asgi") -> dict:
    """A CHANNEL_LAYERS entry for the Redis at `urls`: one URL, or several shards.

    With several, channels_redis spreads the groups and channels over them by a hash
    of their names (modulo the number of shards): every process must list the same
    URLs in the same order, or a group's messages go to a Redis its members do not read.
    """
    if flavor not in REDIS_LAYER_BACKENDS:
        raise ValueError(f"REDIS_CHANNEL_LAYER must be one of {sorted(REDIS_LAYER_BACKENDS)}")
    return {
        "BACKEND": REDIS_LAYER_BACKENDS[flavor],
        "CONFIG": {
            "hosts": [redis_host(url) for url in ([urls] if isinstance(urls, str) else urls)],
            "prefix": prefix,
            # Messages waiting per channel. Each process receives every group it
            # serves on one channel (realtime/hub.py), so allow for bursts.
            "capacity": 1000,
        },
    }


def redis_host(url: str) -> dict:
    """One entry of a Redis layer's "hosts": the connection options of one Redis."""
    return {
        "address": url,
        # redis-py 8 defaults to a 5 s socket timeout, which cuts the core layer's
        # 5 s blocking read and drops idle consumers (channels_redis issue 422).
        "socket_timeout": 15,
        # After a Redis restart each pooled connection fails once ("closed
        # by server"); retry on a fresh one instead of failing a broadcast.
        "retry_on_error": [ConnectionError],
        # redis-py 8 refuses a 101st concurrent command per process
        # ("Too many connections"): a reconnect storm after a deploy
        # needs more. Redis itself accepts 10,000 clients.
        "max_connections": 1000,
    }
