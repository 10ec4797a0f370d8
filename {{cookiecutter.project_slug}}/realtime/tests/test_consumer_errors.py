"""What RealtimeConsumer tells a socket, and logs, when it cannot handle a frame."""

import logging

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from realtime.broadcast import broadcast
from realtime.consumers import UNDELIVERED, RealtimeConsumer, handles
from realtime.envelope import Inbound

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]


class Text(Inbound):
    text: str


class Echo(RealtimeConsumer):
    login_required = False

    async def connect(self):
        await self.accept()

    @handles("echo", Text)
    async def on_echo(self, message: Text):
        await self.send_frame("echo", text=message.text)

    @handles("shout", Text)
    async def on_shout(self, message: Text):
        await broadcast("everyone", "shout", text=message.text)

    @handles("boom", Text)
    async def on_boom(self, message: Text):
        raise RuntimeError("a bug in this handler")


class Silent(RealtimeConsumer):
    """Handles no frame at all (it only pushes)."""

    login_required = False

    async def connect(self):
        await self.accept()


async def answer(consumer, text: str) -> dict:
    """The frame a fresh socket of `consumer` at /ws/test/ gets back for `text`."""
    socket = WebsocketCommunicator(consumer.as_asgi(), "/ws/test/")
    assert (await socket.connect())[0]
    try:
        await socket.send_to(text_data=text)
        return await socket.receive_json_from(timeout=2)
    finally:
        await socket.disconnect()


@pytest.mark.parametrize(
    ("consumer", "expected"), [(Echo, "boom, echo, shout"), (Silent, "none")], ids=["two", "none"]
)
async def test_an_unknown_type_is_answered_with_the_types_the_consumer_handles(consumer, expected):
    assert await answer(consumer, '{"type": "nope"}') == {
        "type": "error",
        "code": "unknown_type",
        "message": f"Unknown message type 'nope'; expected: {expected}.",
        "about": "nope",
    }


async def test_an_error_about_a_frame_without_a_type_says_about_null():
    error = await answer(Echo, "not json")
    assert (error["code"], error["about"]) == ("invalid_json", None)


async def test_a_hostile_frames_log_line_is_cut_to_200_characters(caplog):
    caplog.set_level(logging.INFO, logger="realtime")
    error = await answer(Echo, '{"type": "%s"}' % ("x" * 1000))
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ws error")]
    assert logged == [f"ws error /ws/test/ unknown_type: {error['message'][:200]}"]


async def test_a_push_with_the_channel_layer_down_tells_the_sender_and_logs_why(
    monkeypatch, caplog
):
    async def unreachable(group, message):
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(get_channel_layer(), "group_send", unreachable)
    assert await answer(Echo, '{"type": "shout", "text": "hi"}') == {
        "type": "error",
        "code": "not_delivered",
        "message": UNDELIVERED,
        "about": "shout",
    }
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["ws /ws/test/: channel layer unreachable: Redis is down"]


async def test_a_crashing_handler_costs_the_sender_one_error_frame_and_logs_the_traceback(
    caplog,
):
    assert await answer(Echo, '{"type": "boom", "text": "x"}') == {
        "type": "error",
        "code": "server_error",
        "message": "The server could not handle that.",
        "about": "boom",
    }
    (crash,) = [r for r in caplog.records if r.exc_info]
    assert crash.getMessage() == "ws crash /ws/test/ handling 'boom'"
    assert "a bug in this handler" in str(crash.exc_info[1])
