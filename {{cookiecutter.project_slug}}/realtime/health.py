"""GET /health/ for load balancers and container probes: 200 "OK" or 503, plain text.

Built on django-health-check (its check runner: checks run concurrently, each
with a time budget, failures logged). Two checks: the database (the library's
SELECT 1) and a real round trip through the channel layer (below): a message
sent to this process's own channel and received back, which with REDIS_URL
goes through Redis, and a PING to each Redis server of the layer. The view
reads no session and no user, is not rate limited, and is exempt from the HTTPS
redirect (settings.SECURE_REDIRECT_EXEMPT), so a probe over plain http inside the
network gets the answer, not a 301.
"""

import asyncio
import dataclasses
import weakref
from datetime import timedelta

from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import get_channel_layer
from health_check import Database
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from redis.asyncio import Redis

from .hub import LAYER_ERRORS, redis_addresses

PROBE_SECONDS = 2  # each check's budget: a probe must answer well within its own timeout


@dataclasses.dataclass
class QuickDatabase(Database):
    timeout = timedelta(seconds=PROBE_SECONDS)


class _Probe:
    """One channel per layer and process, reused by every probe: the pub/sub layer keeps
    a Redis subscription for each channel it has made, so a new one per probe would add up."""

    def __init__(self) -> None:
        self.channel: str | None = None
        self.lock = asyncio.Lock()  # one probe at a time reads the channel


_probes: "weakref.WeakKeyDictionary[object, _Probe]" = weakref.WeakKeyDictionary()


@dataclasses.dataclass
class ChannelLayerRoundTrip(HealthCheck):
    """A message sent to this process's own channel comes back within PROBE_SECONDS,
    and every Redis server of the layer answers a PING within it (the round trip goes
    through one of them; a sharded layer's groups live on all)."""

    alias: str = DEFAULT_CHANNEL_LAYER
    timeout = timedelta(seconds=PROBE_SECONDS)

    async def run(self) -> None:
        layer = get_channel_layer(self.alias)
        if layer is None:
            raise ServiceUnavailable("No channel layer is configured.")
        probe = _probes.setdefault(layer, _Probe())
        async with probe.lock:
            try:
                async with asyncio.timeout(PROBE_SECONDS):
                    if probe.channel is None:
                        probe.channel = await layer.new_channel()
                    await layer.send(probe.channel, {"type": "health.ping"})
                    await layer.receive(probe.channel)
            except (TimeoutError, *LAYER_ERRORS) as error:
                # A ping that timed out may still arrive, and a cancelled receive may have
                # unsubscribed the channel: the next probe starts on a new one.
                probe.channel = None
                raise ServiceUnavailable(f"channel layer: {type(error).__name__}") from error
        for number, address in enumerate(redis_addresses(self.alias), start=1):
            client = Redis.from_url(address)
            try:
                async with asyncio.timeout(PROBE_SECONDS):
                    await client.ping()
            except (TimeoutError, *LAYER_ERRORS) as error:
                message = f"channel layer shard {number}: {type(error).__name__}"
                raise ServiceUnavailable(message) from error
            finally:
                await client.aclose()


class HealthView(HealthCheckView):
    checks = (QuickDatabase, ChannelLayerRoundTrip)

    async def get(self, request, *args, **kwargs):
        """Always the short text form; 503 (not the library's 500) when a check fails,
        which is what load balancers and probes read as "take me out of rotation"."""
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        failed = any(result.error for result in self.results)
        return self.render_to_response_text(503 if failed else 200)
