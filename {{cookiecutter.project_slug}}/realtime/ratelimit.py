"""Limits on what one connection, and one user, may send and open.

- TokenBucket: one socket's burst and rate (in memory, per connection).
- user_budget_refusal(): one user's messages across all their sockets, and across
  server processes when REDIS_URL is set (the `limits` package, on Redis or in memory).
- SocketCap: how many sockets one user may hold open in this process.
"""

import asyncio
import logging
import time
import weakref
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from limits import parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

logger = logging.getLogger("realtime")


class TokenBucket:
    """Allows bursts of up to `burst` messages, refilled at `per_second` messages a second."""

    def __init__(self, burst: int, per_second: float, clock: Callable[[], float] = time.monotonic):
        self.burst = burst
        self.per_second = per_second
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()

    def take(self) -> bool:
        """Spend one token if there is one; False means: refuse this message."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def retry_after(self) -> float:
        """Seconds until take() can succeed again (0 if it can now)."""
        return max(0.0, (1 - self.tokens) / self.per_second)


# One limiter per event loop and key prefix: the Redis client's connections belong
# to the loop that opened them (in a server that is one per process; tests run one
# per test), and tests give each test a prefix of its own.
_limiters: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]"
_limiters = weakref.WeakKeyDictionary()


def _limiter() -> SlidingWindowCounterRateLimiter:
    loop = asyncio.get_running_loop()
    prefix = settings.REALTIME["USER_RATE_LIMIT_PREFIX"]
    by_prefix = _limiters.setdefault(loop, {})
    if (limiter := by_prefix.get(prefix)) is None:
        uri = settings.REALTIME["USER_RATE_LIMIT_STORAGE"]
        options = {
            "implementation": "redispy",  # the Redis client the project has anyway
            "key_prefix": prefix,
            # Seconds: an unreachable Redis must not hold up every message for long.
            "socket_connect_timeout": 2,
            "socket_timeout": 2,
            # redis-py's pool refuses a 101st command at once ("Too many connections"),
            # which a busy process reaches; as the channel layer's (config/layers.py).
            "max_connections": 1000,
        }
        storage = storage_from_string(
            uri,
            wrap_exceptions=True,  # any failure of the store is a StorageError
            **(options if uri.startswith("async+redis") else {}),
        )
        limiter = by_prefix[prefix] = SlidingWindowCounterRateLimiter(storage)
    return limiter


_store_down = False


async def user_budget_refusal(user_key: str) -> float | None:
    """Spend one message from this user's budget (REALTIME["USER_RATE_LIMIT"]).

    None: allowed. A number: refused, retry after that many seconds. When the
    budget's store (Redis) cannot be reached the message is allowed: the
    per-socket bucket still applies, and Redis being down closes the sockets anyway.
    """
    global _store_down
    item = parse(settings.REALTIME["USER_RATE_LIMIT"])
    limiter = _limiter()
    try:
        allowed = await limiter.hit(item, user_key)
        stats = None if allowed else await limiter.get_window_stats(item, user_key)
    except StorageError as error:
        if not _store_down:  # one line per outage, not one per message
            logger.warning("user budget store unreachable, allowing messages: %s", error)
        _store_down = True
        return None
    _store_down = False
    return None if stats is None else max(0.05, stats.reset_time - time.time())


class SocketCap:
    """How many sockets each user has open in this process, refused past `limit`.

    Per process on purpose: the cap protects each process's event loop (the
    resource one user's sockets can starve), it costs nothing, and it cannot
    outlive a process that dies. With N processes a user may hold N x limit.
    """

    def __init__(self) -> None:  # pragma: no mutate block (runs at import: socket_cap)
        self.open: Counter[str] = Counter()

    def claim(self, user_key: str, limit: int) -> bool:
        """Count one more socket for this user; False (and nothing counted) past the limit."""
        if self.open[user_key] >= limit:
            return False
        self.open[user_key] += 1
        return True

    def release(self, user_key: str) -> None:
        self.open[user_key] -= 1
        if self.open[user_key] <= 0:
            del self.open[user_key]


socket_cap = SocketCap()
