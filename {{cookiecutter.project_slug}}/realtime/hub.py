"""Fan-out inside one server process: one channel-layer message per process per broadcast.

The Channels tutorial puts every socket's own channel into a group, so a
broadcast to a room of 500 costs 500 channel-layer messages and 500 consumer
dispatches, each re-encoding the same JSON. Here each server process joins a
group once, through one channel of its own, and hands every frame that arrives
on it straight to its sockets in that group: the channel layer carries one
message per process, the frame is encoded once (realtime.broadcast), and per
recipient only the socket write is left.

Nothing else changes: every process with a socket in a group is in that group
in the channel layer (Redis), so a broadcast from any process, command or
worker still reaches every socket. The hub holds only which of this process's
sockets are in which group; that ends with the process, like the sockets do.

The hub also re-joins its groups in the layer every REALTIME["KEEPALIVE_SECONDS"]
(channels_redis forgets a member after a day, a restarted Redis forgets all of
them) and closes its sockets when the layer cannot be reached, so browsers
reconnect and resume; and it refreshes the presence rows of its sockets.
"""

import asyncio
import logging
import weakref
from contextlib import suppress
from typing import Protocol

from channels import DEFAULT_CHANNEL_LAYER
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from redis.exceptions import RedisError

from . import presence, signals

logger = logging.getLogger("realtime")

LAYER_ERRORS = (OSError, RedisError)  # the channel layer cannot be reached (Redis down)
# Close code for "reconnect, the server lost its channel layer". 1012 would say
# it in the protocol's own words, but servers may only send 1000 or 3000-4999.
SERVICE_RESTART = 4012
COALESCE_SECONDS = 0.02  # see Hub._deliver


class Socket(Protocol):
    """What the hub needs from a consumer (RealtimeConsumer provides it)."""

    socket_id: str
    in_presence: bool

    async def deliver(self, message: dict) -> None: ...
    async def close(self, code: int | None = None) -> None: ...


class Hub:
    """This process's sockets by group, and the one layer channel that feeds them."""

    def __init__(self, layer) -> None:
        self.layer = layer
        self.loop = asyncio.get_running_loop()
        self.members: dict[str, set[Socket]] = {}
        self.channel_name: str | None = None
        self.lock = asyncio.Lock()  # group_add/group_discard and membership change together
        self.tasks: list[asyncio.Task] = []
        self.pending: list[dict] = []  # received, not yet written to the sockets
        self.has_pending = asyncio.Event()

    async def join(self, group: str, socket: Socket) -> None:
        """Add `socket` to `group`; raises if the channel layer is unreachable."""
        async with self.lock:
            if self.channel_name is None:
                self.channel_name = await self.layer.new_channel()
            if group not in self.members:
                await self.layer.group_add(group, self.channel_name)
                self.members[group] = set()
            self.members[group].add(socket)
            if not self.tasks:
                self.tasks = [
                    asyncio.create_task(self._receive(self.channel_name)),
                    asyncio.create_task(self._deliver()),
                    asyncio.create_task(self._keep_alive()),
                ]
                if not crosses_processes(self.layer) and signals.sweep.has_listeners():
                    self.tasks.append(asyncio.create_task(self._sweep()))

    async def leave(self, socket: Socket, groups: list[str]) -> None:
        """Remove `socket` from `groups`; the last socket out of a group takes the process out."""
        async with self.lock:
            for group in groups:
                members = self.members.get(group)
                if members is None:
                    continue
                members.discard(socket)
                if not members:
                    del self.members[group]
                    with suppress(*LAYER_ERRORS):  # a Redis that is down forgets it anyway
                        await self.layer.group_discard(group, self.channel_name)
            if not self.members:
                await self._stop()

    async def _stop(self) -> None:
        """No sockets left in this process: stop listening until the next one joins."""
        tasks, self.tasks = self.tasks, []
        self.channel_name = None
        self.pending.clear()  # frames for sockets that are gone; never for the next ones
        self.has_pending.clear()
        await cancel_and_wait(tasks)

    def sockets(self) -> set[Socket]:
        return set().union(*self.members.values())

    async def _receive(self, channel_name: str) -> None:
        """Take frames off the layer as fast as they come; _deliver writes them out."""
        while True:
            try:
                event = await self.layer.receive(channel_name)
            except LAYER_ERRORS as error:
                logger.warning("hub cannot receive from the channel layer: %s", error)
                await asyncio.sleep(1)
                continue
            if "text" not in event:
                logger.warning("hub dropped %r: send frames with realtime.broadcast", event)
                continue
            self.pending.append(event)
            self.has_pending.set()

    async def _deliver(self) -> None:
        """Write waiting frames to the sockets of their groups, in the order they came.

        Waiting COALESCE_SECONDS first lets a burst gather, and every frame written
        to a socket in one pass leaves in one network write (the server flushes
        each socket once per event-loop turn): under load that is several frames
        per write instead of one, for a delay too short to notice.
        """
        while True:
            await self.has_pending.wait()
            await asyncio.sleep(COALESCE_SECONDS)
            events, self.pending = self.pending, []
            self.has_pending.clear()
            for event in events:
                # One ASGI message for all the group's sockets: servers do not change it.
                message = {"type": "websocket.send", "text": event["text"]}
                for socket in tuple(self.members.get(event.get("group"), ())):
                    try:
                        await socket.deliver(message)
                    except Exception:  # one broken socket must not cost the others the frame
                        logger.exception("hub could not deliver to %s", socket.socket_id)

    async def _keep_alive(self) -> None:
        interval = settings.REALTIME["KEEPALIVE_SECONDS"]
        presence_every = settings.REALTIME["PRESENCE_TTL_SECONDS"] / 3
        since_presence = 0.0
        while True:
            await asyncio.sleep(interval)
            try:
                for group in tuple(self.members):
                    await self.layer.group_add(group, self.channel_name)
            except LAYER_ERRORS as error:
                sockets = self.sockets()
                logger.warning(
                    "channel layer unreachable (%s): closing %d sockets", error, len(sockets)
                )
                for socket in sockets:
                    with suppress(Exception):  # already closing
                        await socket.close(code=SERVICE_RESTART)  # browsers reconnect
                continue
            since_presence += interval
            if since_presence >= presence_every:
                since_presence = 0.0
                present = [socket.socket_id for socket in self.sockets() if socket.in_presence]
                if present:
                    await database_sync_to_async(presence.refresh)(present)
                await database_sync_to_async(presence.purge_expired)()  # dead processes' rows

    async def _sweep(self) -> None:
        """In-memory layer only: push what processes without sockets stored (signals.sweep)."""
        while True:
            await asyncio.sleep(settings.REALTIME["SWEEP_SECONDS"])
            results = await database_sync_to_async(signals.sweep.send_robust)(sender=Hub)
            for receiver, result in results:
                if isinstance(result, Exception):
                    logger.error("sweep receiver %s failed: %r", receiver.__qualname__, result)


def crosses_processes(layer) -> bool:
    """False for the in-memory layer, whose groups exist only inside one process."""
    return not isinstance(layer, InMemoryChannelLayer)


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


def serves_sockets() -> bool:
    """Whether this process has open sockets (it is a server, and someone is connected)."""
    return any(hub.members for hub in list(_hubs.values()))


def get_hub(alias: str = DEFAULT_CHANNEL_LAYER) -> Hub:
    """This process's hub for the channel layer `alias` (settings.CHANNEL_LAYERS)."""
    layer = get_channel_layer(alias)
    hub = _hubs.get(layer)
    if hub is None or hub.loop is not asyncio.get_running_loop():
        hub = _hubs[layer] = Hub(layer)
    return hub
