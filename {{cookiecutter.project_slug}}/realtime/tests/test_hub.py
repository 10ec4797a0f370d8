"""The process hub (realtime/hub.py): one layer subscription per group per process."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from realtime.broadcast import broadcast
from realtime.consumers import RealtimeConsumer
from realtime.hub import SERVICE_RESTART, get_hub

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    """These tests look inside the layer's groups, which the in-memory layer exposes."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


class RoomListener(RealtimeConsumer):
    login_required = False  # no AuthMiddlewareStack in these tests

    async def connect(self):
        await self.join("room")
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


async def test_a_failing_socket_does_not_cost_the_others_their_frame(monkeypatch):
    broken, healthy = await open_sockets(RoomListener, 2)
    members = get_hub().members["room"]
    broken_consumer = next(iter(members))

    async def refuse(message):
        raise RuntimeError("socket gone")

    monkeypatch.setattr(broken_consumer, "deliver", refuse)
    await broadcast("room", "ping")

    received = [await s.receive_nothing(timeout=0.5) for s in (broken, healthy)]
    assert received.count(True) == 1  # exactly the broken one got nothing
    for socket in (broken, healthy):
        await socket.disconnect()


async def test_sockets_are_closed_for_a_reconnect_when_the_layer_is_unreachable(
    settings, monkeypatch
):
    settings.REALTIME = {**settings.REALTIME, "KEEPALIVE_SECONDS": 0.05}
    sockets = await open_sockets(RoomListener, 2)

    async def unreachable(group, channel):
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(get_channel_layer(), "group_add", unreachable)
    for socket in sockets:
        closed = await asyncio.wait_for(socket.receive_output(), timeout=2)
        assert closed == {"type": "websocket.close", "code": SERVICE_RESTART}
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
