"""The process hub (realtime/hub.py): one layer subscription per group per process."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from realtime import presence
from realtime.broadcast import broadcast
from realtime.consumers import RealtimeConsumer
from realtime.hub import SERVICE_RESTART, get_hub, redis_addresses
from realtime.testing.servers import layer_with_hosts, silent_redis

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    """These tests look inside the layer's groups, which the in-memory layer exposes."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


class RoomListener(RealtimeConsumer):
    login_required = False  # no AuthMiddlewareStack in these tests
    group = "room"

    async def connect(self):
        await self.join(self.group)
        await self.accept()


class BusyGreeter(RealtimeConsumer):
    """A broadcast arrives while connect() is still sending its own first frame."""

    login_required = False

    async def connect(self):
        await self.join("room")
        await self.accept()
        await broadcast("room", "news")
        await self.send_frame("hello")


async def open_sockets(consumer, count):
    sockets = [WebsocketCommunicator(consumer.as_asgi(), "/") for _ in range(count)]
    for socket in sockets:
        assert (await socket.connect())[0]
    return sockets


async def test_a_room_of_many_sockets_is_one_member_of_the_layer_group():
    sockets = await open_sockets(RoomListener, 3)
    layer = get_channel_layer()
    assert len(layer.groups["room"]) == 1  # the hub's channel, not one per socket

    await broadcast("room", "chat.message", text="<b>hi</b>")

    for socket in sockets:
        assert await socket.receive_json_from() == {"type": "chat.message", "text": "<b>hi</b>"}
    for socket in sockets:
        await socket.disconnect()
    assert not layer.groups.get("room")  # the last one out takes the process out
    assert not get_hub().tasks


async def test_a_socket_that_left_gets_nothing_and_the_others_carry_on():
    staying, leaving = await open_sockets(RoomListener, 2)
    left = [socket for socket in get_hub().members["room"]]
    written = []
    for consumer in left:  # record every frame the hub hands to either consumer
        original = consumer.deliver

        async def record(message, consumer=consumer, original=original):
            written.append(consumer)
            await original(message)

        consumer.deliver = record
    await leaving.disconnect()
    assert len(get_hub().members["room"]) == 1

    await broadcast("room", "ping")

    assert await staying.receive_json_from() == {"type": "ping"}
    assert written == list(get_hub().members["room"])  # one frame, to the one that stayed
    await staying.disconnect()


async def test_frames_broadcast_during_connect_arrive_after_connects_own_frames():
    (socket,) = await open_sockets(BusyGreeter, 1)
    assert await socket.receive_json_from() == {"type": "hello"}
    assert await socket.receive_json_from() == {"type": "news"}
    await socket.disconnect()


async def test_a_failing_socket_does_not_cost_the_others_their_frame(monkeypatch, caplog):
    broken, healthy = await open_sockets(RoomListener, 2)
    members = get_hub().members["room"]
    broken_consumer = next(iter(members))

    async def refuse(message):
        raise RuntimeError("socket gone")

    monkeypatch.setattr(broken_consumer, "deliver", refuse)
    await broadcast("room", "ping")

    received = [await s.receive_nothing(timeout=0.5) for s in (broken, healthy)]
    assert received.count(True) == 1  # exactly the broken one got nothing
    logged = [r for r in caplog.records if r.name == "realtime" and "deliver" in r.getMessage()]
    assert [r.getMessage() for r in logged] == [
        f"hub could not deliver to {broken_consumer.socket_id}"
    ]
    assert logged[0].exc_info[1].args == ("socket gone",)  # with its traceback
    for socket in (broken, healthy):
        await socket.disconnect()


async def test_sockets_are_closed_for_a_reconnect_when_the_layer_is_unreachable(
    settings, monkeypatch, caplog
):
    settings.REALTIME = {**settings.REALTIME, "KEEPALIVE_SECONDS": 0.05}
    sockets = await open_sockets(RoomListener, 2)

    async def unreachable(group, channel):
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(get_channel_layer(), "group_add", unreachable)
    for socket in sockets:
        closed = await asyncio.wait_for(socket.receive_output(), timeout=2)
        assert closed == {"type": "websocket.close", "code": SERVICE_RESTART}
    # the operator's one line for the whole process (until the sockets have left)
    assert "channel layer unreachable (Redis is down): closing 2 sockets" in [
        r.getMessage() for r in caplog.records
    ]
    for socket in sockets:
        await socket.disconnect()


async def test_a_socket_whose_own_channel_is_unreachable_is_closed_for_a_reconnect(
    monkeypatch, caplog
):
    """Redis goes away under the socket's own channel (channel_layer.send to it): the
    socket closes with the code that tells the browser to reconnect and resume, and
    the consumer stops reading from that channel instead of retrying in a loop."""
    layer = get_channel_layer()
    hubs_receive = layer.receive  # the hub's channels (its groups) stay up
    layer_down = asyncio.Event()
    reads = []

    async def receive(channel):
        if channel in get_hub().channels.values():
            return await hubs_receive(channel)
        reads.append(channel)
        await layer_down.wait()
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(layer, "receive", receive)
    (socket,) = await open_sockets(RoomListener, 1)
    layer_down.set()

    closed = await asyncio.wait_for(socket.receive_output(), timeout=2)
    assert closed == {"type": "websocket.close", "code": SERVICE_RESTART}
    assert "ws /: channel layer unreachable (Redis is down), closing" in [
        r.getMessage() for r in caplog.records
    ]
    await asyncio.sleep(0.1)
    assert len(reads) == 1  # one failed read, not one per turn of the event loop
    await socket.disconnect()


async def test_a_socket_that_cannot_be_closed_does_not_stop_the_hub_closing_or_watching(
    settings, monkeypatch
):
    """The layer is unreachable and one socket raises when closed: the others are still
    closed, and the hub goes on trying the layer every keep-alive (so sockets that
    connect meanwhile are closed too, or kept once it is back)."""
    settings.REALTIME = {**settings.REALTIME, "KEEPALIVE_SECONDS": 0.05}
    sockets = await open_sockets(RoomListener, 3)
    consumers = list(get_hub().members["room"])

    async def cannot_close(code=None):
        raise RuntimeError("already closing")

    monkeypatch.setattr(consumers[0], "close", cannot_close)
    tries = []
    tried_again = asyncio.Event()

    async def unreachable(group, channel):
        tries.append(group)
        if len(tries) == 3:
            tried_again.set()
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(get_channel_layer(), "group_add", unreachable)
    await asyncio.wait_for(tried_again.wait(), timeout=5)
    closed = [await socket.receive_nothing(timeout=0.5) for socket in sockets].count(False)
    assert closed == 2  # all but the one that raised
    for socket in sockets:
        await socket.disconnect()


async def test_the_hub_goes_on_reading_a_group_after_a_failed_read(monkeypatch, caplog):
    """One read of the group's channel fails (Redis went away for a moment): one warning,
    and the frames broadcast to the group still reach the sockets once it is back."""
    layer = get_channel_layer()
    original = layer.receive
    failed = []

    async def receive(channel):
        if channel in get_hub().channels.values() and not failed:
            failed.append(channel)
            raise ConnectionRefusedError("Redis is down")
        return await original(channel)

    monkeypatch.setattr(layer, "receive", receive)
    (socket,) = await open_sockets(RoomListener, 1)
    await broadcast("room", "ping")

    assert await socket.receive_json_from(timeout=10) == {"type": "ping"}
    assert len(failed) == 1
    assert "hub cannot receive from the channel layer: Redis is down" in [
        r.getMessage() for r in caplog.records
    ]
    await socket.disconnect()


async def test_a_group_event_no_socket_handles_is_dropped_with_a_line_per_socket(caplog):
    sockets = await open_sockets(RoomListener, 2)
    consumers = get_hub().members["room"]
    layer = get_channel_layer()
    await layer.group_send("room", {"type": "room.unheard"})
    await layer.group_send("room", {"type": "_room.private"})
    await broadcast("room", "ping")  # handed out after the events: they have been through

    for socket in sockets:
        assert await socket.receive_json_from() == {"type": "ping"}
    dropped = sorted(r.getMessage() for r in caplog.records if "dropped" in r.getMessage())
    assert dropped == sorted(
        [f"hub dropped 'room.unheard': {consumer} has no room_unheard()" for consumer in consumers]
        + ["hub dropped a group message: Malformed type in message (leading underscore)"]
    )
    for socket in sockets:
        await socket.disconnect()


class ManyGroups(RealtimeConsumer):
    login_required = False

    async def connect(self):
        for group in ("room", "twice", "twice", "own"):
            await self.join(group)
        await self.accept()


async def test_a_socket_leaves_every_group_it_joined_even_shared_or_joined_twice():
    (staying,) = await open_sockets(RoomListener, 1)
    (leaving,) = await open_sockets(ManyGroups, 1)
    layer = get_channel_layer()
    assert {group for group, channels in layer.groups.items() if channels} == {
        "room",
        "twice",
        "own",
    }

    await leaving.disconnect()

    assert {group for group, channels in layer.groups.items() if channels} == {"room"}
    assert set(get_hub().members) == {"room"}
    await staying.disconnect()


class OwnListener(RoomListener):
    group = "own"


async def test_a_message_for_a_group_emptied_while_it_waited_is_dropped(monkeypatch):
    """A frame arrives for a group whose last socket here leaves before the hub hands it
    out (common under load): it reaches nobody, and the hub goes on with the others."""
    (gone,) = await open_sockets(RoomListener, 1)
    (staying,) = await open_sockets(OwnListener, 1)
    hub = get_hub()
    (consumer,) = hub.members["own"]
    original = consumer.deliver

    async def deliver(message):
        if '"first"' in message["text"]:  # while the hub hands out "first":
            await broadcast("room", "late")
            while not hub.pending:  # the hub has taken "late" off the layer
                await asyncio.sleep(0)
            await gone.disconnect()  # the last socket in "room" leaves
        await original(message)

    monkeypatch.setattr(consumer, "deliver", deliver)
    await broadcast("own", "first")
    assert await staying.receive_json_from() == {"type": "first"}
    assert "room" not in hub.members
    await broadcast("own", "after")
    assert await staying.receive_json_from(timeout=5) == {"type": "after"}
    await staying.disconnect()


class PresentSocket:
    """The least a hub needs of a socket, in presence or not."""

    def __init__(self, socket_id, in_presence):
        self.socket_id, self.in_presence = socket_id, in_presence

    async def deliver(self, message):
        pass

    def deliver_event(self, event):
        pass

    async def close(self, code=None):
        pass


async def test_the_hub_refreshes_presence_every_third_of_its_ttl_and_purges_the_dead(
    settings, monkeypatch
):
    """Every keep-alive re-adds the groups; every PRESENCE_TTL_SECONDS / 3 the hub also
    refreshes the rows of its sockets in presence (so none expires while its socket is
    open) and purges expired ones (of processes that died). Counted in keep-alives: a
    sixteenth of a second each, a refresh every fourth."""
    settings.REALTIME = {
        **settings.REALTIME,
        "KEEPALIVE_SECONDS": 1 / 16,
        "PRESENCE_TTL_SECONDS": 3 / 4,
    }
    hub = get_hub()
    sockets = [PresentSocket("tab-1", True), PresentSocket("tab-2", False)]
    for socket in sockets:
        await hub.join("present", socket)
    events, seen = [], asyncio.Event()
    layer = get_channel_layer()
    add = layer.group_add

    async def keep_alive(group, channel):
        events.append("keep-alive")
        if events.count("keep-alive") == 9:
            seen.set()
        await add(group, channel)

    monkeypatch.setattr(layer, "group_add", keep_alive)
    monkeypatch.setattr(presence, "refresh", lambda socket_ids: events.append(socket_ids))
    monkeypatch.setattr(presence, "purge_expired", lambda: events.append("purge"))
    await asyncio.wait_for(seen.wait(), timeout=30)
    for socket in sockets:
        await hub.leave(socket, ["present"])

    four = ["keep-alive"] * 4
    assert events[:13] == [*four, ["tab-1"], "purge", *four, ["tab-1"], "purge", "keep-alive"]


async def test_the_redis_addresses_of_a_layer_are_its_hosts_urls(settings):
    """What the hub and the health check look at for each Redis: a host given as a URL
    or as a dict with an address, not one given as (host, port); none for other layers."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {"address": "redis://one:6379/0", "socket_timeout": 5},
                    "redis://two:6379/1",
                    ("three", 6379),
                ]
            },
        },
        "memory": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    }
    assert redis_addresses("default") == ["redis://one:6379/0", "redis://two:6379/1"]
    assert redis_addresses("memory") == []
    assert redis_addresses("missing") == []


async def test_a_redis_that_stops_answering_gets_the_sockets_closed(settings):
    """A Redis of the layer that takes connections but never answers (overloaded, or a
    network dropping packets): the hub's look at it times out (5 s), so the sockets are
    closed for a reconnect instead of waiting for frames that may never come."""
    with silent_redis() as url:
        settings.CHANNEL_LAYERS = {"default": layer_with_hosts(url)}
        settings.REALTIME = {**settings.REALTIME, "KEEPALIVE_SECONDS": 0.05}
        (socket,) = await open_sockets(RoomListener, 1)
        closed = await socket.receive_output(timeout=30)
        assert closed == {"type": "websocket.close", "code": SERVICE_RESTART}
        await socket.disconnect()


class ReconnectingProxy:
    """A TCP proxy in front of a Redis that keeps its clients' connections when the Redis
    behind it restarts (as a managed Redis's endpoint or a sidecar proxy does): a client
    notices nothing but the new server's replies."""

    def __init__(self, redis_port):
        self.redis_port = redis_port

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    def stop(self):
        self.server.close()

    async def _serve(self, reader, writer):
        upstream, pump = None, None
        try:
            while data := await reader.read(65536):
                if pump is None or pump.done():  # the Redis behind went away: dial again
                    up_reader, upstream = await asyncio.open_connection(
                        "127.0.0.1", self.redis_port
                    )
                    pump = asyncio.create_task(self._pump(up_reader, writer))
                upstream.write(data)
                await upstream.drain()
        finally:
            if pump is not None:
                pump.cancel()
                upstream.close()
            writer.close()

    async def _pump(self, up_reader, writer):
        while data := await up_reader.read(65536):
            writer.write(data)
            await writer.drain()


async def test_a_redis_restarted_behind_a_proxy_closes_the_sockets(settings, own_redis, caplog):
    """A Redis restarted behind an address that stays up (a proxy, a managed Redis's
    endpoint): no connection breaks and nothing fails, but the new Redis has forgotten
    every group. The hub sees its new run_id and closes its sockets, so browsers resume;
    while the same Redis stays up it closes nothing."""
    proxy = ReconnectingProxy(own_redis.port)
    url = await proxy.start()
    try:
        settings.CHANNEL_LAYERS = {"default": layer_with_hosts(url)}
        settings.REALTIME = {**settings.REALTIME, "KEEPALIVE_SECONDS": 0.25}
        (socket,) = await open_sockets(RoomListener, 1)
        await asyncio.sleep(1)  # the hub's first look at the Redis, and a few more
        own_redis.stop()  # blocks the event loop: no keep-alive falls into the outage
        own_redis.start()
        closed = await socket.receive_output(timeout=10)
        assert closed == {"type": "websocket.close", "code": SERVICE_RESTART}
        # a browser reconnects before the server has seen the old socket go; the hub
        # watches on for it, and closes it too at the next restart
        (again,) = await open_sockets(RoomListener, 1)
        await socket.disconnect()
        await asyncio.sleep(1)
        own_redis.stop()
        own_redis.start()
        closed = await again.receive_output(timeout=10)
        assert closed == {"type": "websocket.close", "code": SERVICE_RESTART}
        assert [r.getMessage() for r in caplog.records if "closing" in r.getMessage()] == [
            "Redis restarted; frames sent meanwhile were lost: closing 1 sockets",
            "Redis restarted; frames sent meanwhile were lost: closing 1 sockets",
        ]
        await again.disconnect()
    finally:
        proxy.stop()
