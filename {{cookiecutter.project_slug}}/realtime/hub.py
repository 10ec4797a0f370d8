"""Fan-out inside one server process: one channel-layer message per process per group message.

The Channels tutorial puts every socket's own channel into a group, so a
message to a room of 500 costs 500 channel-layer messages and 500 consumer
dispatches. Here each server process joins a group once, through a channel of
its own for that group, and hands what arrives on it to its sockets in the group:

- a frame ({"type": "realtime.frame", "text": ...}, sent by realtime.broadcast)
  is written unchanged to every socket: encoded once, no dispatch per socket;
- any other message is a typed event, {"type": "chat.force_disconnect", ...}:
  each socket's consumer gets it in its own task and handles it with the method
  named after its type (`chat_force_disconnect`), exactly as Channels dispatches.

Nothing else changes for senders: every process with a socket in a group is in
that group in the channel layer (Redis), so `channel_layer.group_send` from any
process, command or worker reaches every socket. The hub holds only which of this
process's sockets are in which group; that ends with the process, like the sockets.

The hub also re-joins its groups every REALTIME["KEEPALIVE_SECONDS"] (channels_redis
forgets a member after a day, a restarted Redis forgets them all), closes its
sockets when the layer cannot be reached or its Redis has restarted, so browsers
reconnect and resume, and refreshes the presence rows of its sockets.
"""

import asyncio
import logging
import weakref
from contextlib import suppress
from typing import Protocol

from channels import DEFAULT_CHANNEL_LAYER
from channels.consumer import get_handler_name
from channels.layers import get_channel_layer
from django.conf import settings
from redis.asyncio import Redis
from redis.exceptions import RedisError

from . import presence
from .db import database_sync_to_async
from .metrics import HUB_QUEUE_DELAY

logger = logging.getLogger("realtime")

LAYER_ERRORS = (OSError, RedisError)  # the channel layer cannot be reached (Redis down)
FRAME = "realtime.frame"  # a group message whose "text" goes to the browsers as it is
# Close code for "reconnect, the server lost its channel layer". 1012 would say
# it in the protocol's own words, but servers may only send 1000 or 3000-4999.
SERVICE_RESTART = 4012
COALESCE_SECONDS = 0.02  # see Hub._deliver


class LayerUnavailable(Exception):
    """The channel layer (Redis) cannot be reached right now."""


class Socket(Protocol):
    """What the hub needs from a consumer (RealtimeConsumer provides it)."""

    socket_id: str
    in_presence: bool

    async def deliver(self, message: dict) -> None: ...
    def deliver_event(self, event: dict) -> None: ...
    async def close(self, code: int | None = None) -> None: ...


class RedisRestarts:
    """Whether a Redis of the layer (any of its shards) restarted since the last look:
    its INFO run_id changes.

    A restarted Redis has forgotten every group it held, and the layer reconnects by
    itself: until the next keep-alive adds this process again, frames to those groups
    reach nobody and nothing fails to say so. However short the outage, the hub must
    close its sockets so browsers resume from what they have.
    """

    def __init__(self, addresses: list[str]) -> None:
        self.clients = [Redis.from_url(address, socket_timeout=5) for address in addresses]
        self.run_ids: list[str | None] = [None] * len(addresses)

    async def restarted(self) -> bool:
        run_ids = [(await client.info("server"))["run_id"] for client in self.clients]
        seen, self.run_ids = self.run_ids, run_ids
        return any(old is not None and old != new for old, new in zip(seen, run_ids, strict=True))

    def forget(self) -> None:
        """Start afresh: the next look sets what a restart is measured against."""
        self.run_ids = [None] * len(self.clients)

    async def aclose(self) -> None:
        for client in self.clients:
            with suppress(Exception):
                await client.aclose()


def redis_addresses(alias: str) -> list[str]:
    """The Redis URLs (shards) of a channels_redis layer in settings.CHANNEL_LAYERS;
    empty for another layer."""
    hosts = settings.CHANNEL_LAYERS.get(alias, {}).get("CONFIG", {}).get("hosts") or []
    addresses = [host.get("address") if isinstance(host, dict) else host for host in hosts]
    return [address for address in addresses if isinstance(address, str)]


class Hub:
    """This process's sockets by group, and the layer channel that feeds each group."""

    def __init__(self, layer, redis_urls: list[str] | None = None) -> None:
        self.layer = layer
        self.redis_urls = redis_urls or []  # to notice a restart; none on the in-memory layer
        self.loop = asyncio.get_running_loop()
        self.members: dict[str, set[Socket]] = {}
        self.channels: dict[str, str] = {}  # group -> this process's channel in it
        self.receivers: dict[str, asyncio.Task] = {}  # group -> the task reading its channel
        self.lock = asyncio.Lock()  # group_add/group_discard and membership change together
        self.tasks: list[asyncio.Task] = []  # _deliver and _keep_alive, while anyone is here
        # (group, message, loop time it arrived) received, not yet handed out
        self.pending: list[tuple[str, dict, float]] = []
        self.has_pending = asyncio.Event()

    async def join(self, group: str, socket: Socket) -> None:
        """Add `socket` to `group`; raises LayerUnavailable if the layer is unreachable."""
        async with self.lock:
            if group not in self.members:
                try:
                    channel = await self.layer.new_channel()
                    await self.layer.group_add(group, channel)
                except LAYER_ERRORS as error:
                    raise LayerUnavailable(str(error)) from error
                self.members[group] = set()
                self.channels[group] = channel
                self.receivers[group] = asyncio.create_task(self._receive(group, channel))
            self.members[group].add(socket)
            if not self.tasks:
                self.tasks = [
                    asyncio.create_task(self._deliver()),
                    asyncio.create_task(self._keep_alive()),
                ]

    async def leave(self, socket: Socket, groups: list[str]) -> None:
        """Remove `socket` from `groups`; the last socket out of a group takes the process out."""
        async with self.lock:
            for group in groups:
                members = self.members.get(group)
                if members is None:
                    continue
                members.discard(socket)
                if members:
                    continue
                del self.members[group]
                channel = self.channels.pop(group)
                await cancel_and_wait([self.receivers.pop(group)])
                with suppress(*LAYER_ERRORS):  # a Redis that is down forgets it anyway
                    await self.layer.group_discard(group, channel)
            if not self.members:
                # Nobody left: stop until the next socket joins. Waiting messages were
                # for sockets that are gone; never hand them to the next ones.
                tasks, self.tasks = self.tasks, []
                self.pending.clear()
                self.has_pending.clear()
                await cancel_and_wait(tasks)

    def sockets(self) -> set[Socket]:
        return set().union(*self.members.values())

    async def _receive(self, group: str, channel: str) -> None:
        """Take `group`'s messages off the layer as fast as they come; _deliver hands them out."""
        while True:
            try:
                message = await self.layer.receive(channel)
            except LAYER_ERRORS as error:
                logger.warning("hub cannot receive from the channel layer: %s", error)
                await asyncio.sleep(1)
                continue
            self.pending.append((group, message, self.loop.time()))
            self.has_pending.set()

    async def _deliver(self) -> None:
        """Hand waiting messages to the sockets of their groups, in the order they came.

        An idle hub delivers at once. A busy one (the last pass was under
        COALESCE_SECONDS ago) first lets a burst gather: every frame written to a
        socket in one pass leaves in one network write (the server flushes each
        socket once per event-loop turn), so under load that is several frames per
        write instead of one, for a delay too short to notice.
        """
        last_pass = -COALESCE_SECONDS
        while True:
            await self.has_pending.wait()
            since = self.loop.time() - last_pass
            if since < COALESCE_SECONDS:
                await asyncio.sleep(COALESCE_SECONDS - since)
            last_pass = self.loop.time()
            batch, self.pending = self.pending, []
            self.has_pending.clear()
            for group, message, arrived in batch:
                HUB_QUEUE_DELAY.observe(last_pass - arrived)
                sockets = tuple(self.members.get(group, ()))
                if message.get("type") == FRAME:
                    # One ASGI message for all the group's sockets: servers do not change it.
                    await self._write(sockets, {"type": "websocket.send", "text": message["text"]})
                else:
                    self._dispatch(sockets, message)

    async def _write(self, sockets: tuple[Socket, ...], message: dict) -> None:
        for socket in sockets:
            try:
                await socket.deliver(message)
            except Exception:  # one broken socket must not cost the others the frame
                logger.exception("hub could not deliver to %s", socket.socket_id)

    def _dispatch(self, sockets: tuple[Socket, ...], event: dict) -> None:
        try:
            handler = get_handler_name(event)
        except ValueError as error:
            logger.warning("hub dropped a group message: %s", error)
            return
        for socket in sockets:
            if not hasattr(socket, handler):
                logger.warning("hub dropped %r: %s has no %s()", event["type"], socket, handler)
                continue
            socket.deliver_event(event)

    async def _keep_alive(self) -> None:
        interval = settings.REALTIME["KEEPALIVE_SECONDS"]
        presence_every = settings.REALTIME["PRESENCE_TTL_SECONDS"] / 3
        since_presence = 0.0
        restarts = RedisRestarts(self.redis_urls) if self.redis_urls else None
        try:
            if restarts:
                with suppress(*LAYER_ERRORS):
                    await restarts.restarted()  # the first look
            while True:
                await asyncio.sleep(interval)
                try:
                    restarted = restarts is not None and await restarts.restarted()
                    for group, channel in tuple(self.channels.items()):
                        await self.layer.group_add(group, channel)
                except LAYER_ERRORS as error:
                    await self._close_all(f"channel layer unreachable ({error})")
                    if restarts:
                        restarts.forget()  # closed already: no second close once it is back
                    continue
                if restarted:
                    await self._close_all("Redis restarted; frames sent meanwhile were lost")
                    continue
                since_presence += interval
                if since_presence >= presence_every:
                    since_presence = 0.0
                    await self._refresh_presence()
        finally:
            if restarts:
                await restarts.aclose()

    async def _close_all(self, reason: str) -> None:
        """Close every socket here; browsers reconnect and resume from what they have."""
        sockets = self.sockets()
        logger.warning("%s: closing %d sockets", reason, len(sockets))
        for socket in sockets:
            with suppress(Exception):  # already closing
                await socket.close(code=SERVICE_RESTART)

    async def _refresh_presence(self) -> None:
        present = [socket.socket_id for socket in self.sockets() if socket.in_presence]
        if present:
            await database_sync_to_async(presence.refresh)(present)
        await database_sync_to_async(presence.purge_expired)()  # dead processes' rows


async def cancel_and_wait(tasks: list[asyncio.Task]) -> None:
    """Cancel `tasks` and return once every one has ended.

    One cancel() is not always enough on Python 3.11: redis-py writes each
    command through asyncio.wait_for, which there can swallow a cancellation
    (CPython gh-86296, fixed in 3.12), and the task then goes on reading from
    Redis. So cancel again until each task has ended; asyncio.wait never
    swallows the caller's own cancellation.
    """
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.1)


# One hub per channel layer and event loop: in a server that is one per process.
_hubs: "weakref.WeakKeyDictionary[object, Hub]" = weakref.WeakKeyDictionary()


def get_hub(alias: str = DEFAULT_CHANNEL_LAYER) -> Hub:
    """This process's hub for the channel layer `alias` (settings.CHANNEL_LAYERS)."""
    layer = get_channel_layer(alias)
    hub = _hubs.get(layer)
    if hub is None or hub.loop is not asyncio.get_running_loop():
        hub = _hubs[layer] = Hub(layer, redis_addresses(alias))
    return hub
