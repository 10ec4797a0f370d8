"""Channels idioms on RealtimeConsumer: typed events through the hub, the own channel."""

import asyncio
import logging

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from realtime.consumers import MAX_QUEUED_EVENTS, RealtimeConsumer
from realtime.hub import SERVICE_RESTART

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    """These tests look inside the layer's groups, which the in-memory layer exposes."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


class Room(RealtimeConsumer):
    login_required = False  # no AuthMiddlewareStack here

    async def connect(self):
        await self.join("room")
        await self.accept()
        await self.send_frame("hello", channel=self.channel_name)

    async def room_ping(self, event):  # group_send("room", {"type": "room.ping", ...})
        await self.send_frame("pong", n=event["n"])

    async def room_stall(self, event):
        await asyncio.Event().wait()  # a handler that never returns


class Steady(Room):
    async def room_stall(self, event):
        pass  # this one keeps up


class Tutorial(RealtimeConsumer):
    """The Channels tutorial's consumer as written there, on the base class."""

    login_required = False

    async def connect(self):
        await self.channel_layer.group_add("tutorial", self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard("tutorial", self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        event = {"type": "chat.message", "message": text_data}
        await self.channel_layer.group_send("tutorial", event)

    async def chat_message(self, event):
        await self.send(text_data=event["message"])


class Versioned(RealtimeConsumer):
    """Picks a subprotocol and sends a header, as accept() takes them in Channels."""

    login_required = False

    async def connect(self):
        await self.accept(subprotocol="chat.v2", headers=[(b"x-served-by", b"realtime")])


async def open_sockets(consumer, count):
    sockets = [WebsocketCommunicator(consumer.as_asgi(), "/") for _ in range(count)]
    channels = []
    for socket in sockets:
        assert (await socket.connect())[0]
        if issubclass(consumer, Room):
            channels.append((await socket.receive_json_from())["channel"])
    return sockets, channels


async def close_all(sockets):
    for socket in sockets:
        await socket.disconnect()


async def test_a_typed_event_reaches_every_socket_once_per_process():
    sockets, _ = await open_sockets(Room, 3)
    layer = get_channel_layer()
    assert len(layer.groups["room"]) == 1  # the hub's channel for the group, not one per socket

    await layer.group_send("room", {"type": "room.ping", "n": 7})

    for socket in sockets:
        assert await socket.receive_json_from() == {"type": "pong", "n": 7}
    await close_all(sockets)


async def test_channel_layer_send_to_one_socket_reaches_that_socket_only():
    sockets, channels = await open_sockets(Room, 2)

    await get_channel_layer().send(channels[1], {"type": "room.ping", "n": 1})

    assert await sockets[1].receive_json_from() == {"type": "pong", "n": 1}
    assert await sockets[0].receive_nothing(timeout=0.2)
    await close_all(sockets)


async def test_the_tutorial_consumer_works_unchanged_on_the_base_class():
    sockets, _ = await open_sockets(Tutorial, 2)
    await sockets[0].send_to(text_data="hello from the tutorial")
    for socket in sockets:
        assert await socket.receive_from() == "hello from the tutorial"
    await close_all(sockets)


async def test_accept_hands_the_subprotocol_and_headers_to_the_server():
    socket = WebsocketCommunicator(Versioned.as_asgi(), "/", subprotocols=["chat.v2"])
    await socket.send_input({"type": "websocket.connect"})
    assert await socket.receive_output() == {
        "type": "websocket.accept",
        "subprotocol": "chat.v2",
        "headers": [(b"x-served-by", b"realtime")],
    }
    await socket.disconnect()


async def test_an_event_without_a_handler_is_dropped_with_one_line_and_the_socket_stays(caplog):
    sockets, _ = await open_sockets(Room, 1)
    layer = get_channel_layer()
    await layer.group_send("room", {"type": "room.unknown"})
    await layer.group_send("room", {"type": "room.ping", "n": 2})
    assert await sockets[0].receive_json_from() == {"type": "pong", "n": 2}
    dropped = [r for r in caplog.records if "room_unknown" in r.getMessage()]
    assert len(dropped) == 1 and dropped[0].exc_info is None
    await close_all(sockets)


async def test_a_consumer_too_far_behind_on_events_is_closed_to_reconnect(caplog):
    caplog.set_level(logging.WARNING, logger="realtime")
    sockets, _ = await open_sockets(Room, 1)
    layer = get_channel_layer()
    await layer.group_send("room", {"type": "room.stall"})  # its handler never returns
    for n in range(MAX_QUEUED_EVENTS + 1):
        await layer.group_send("room", {"type": "room.ping", "n": n})
    closed = await asyncio.wait_for(sockets[0].receive_output(), timeout=2)
    assert closed == {"type": "websocket.close", "code": SERVICE_RESTART}
    behind = [r.getMessage() for r in caplog.records if "events behind" in r.getMessage()]
    assert behind == [f"ws /: {MAX_QUEUED_EVENTS} events behind, closing"]


async def test_the_others_in_a_group_keep_getting_events_after_one_falls_behind():
    (behind,), _ = await open_sockets(Room, 1)
    (steady,), _ = await open_sockets(Steady, 1)
    layer = get_channel_layer()
    await layer.group_send("room", {"type": "room.stall"})  # Room's handler never returns
    for n in range(MAX_QUEUED_EVENTS + 3):  # past what Room may queue (it is closed), then more
        await layer.group_send("room", {"type": "room.ping", "n": n})
        assert await steady.receive_json_from() == {"type": "pong", "n": n}
    closed = await asyncio.wait_for(behind.receive_output(), timeout=2)
    assert closed == {"type": "websocket.close", "code": SERVICE_RESTART}
    await steady.disconnect()
