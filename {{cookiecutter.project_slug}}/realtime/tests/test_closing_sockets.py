"""Frames for a socket whose close handshake has begun: dropped quietly, not a traceback each.

Between the first close frame (sent by either side) and the disconnect event,
daphne raises autobahn's Disconnected on every send to that socket: a group
broadcast, or the reply to a frame the browser sent just before leaving.
"""

import logging

import pytest
from autobahn.exception import Disconnected
from channels.testing import WebsocketCommunicator

from realtime.broadcast import broadcast
from realtime.consumers import RealtimeConsumer, handles
from realtime.envelope import Inbound
from realtime.testing.frames import next_frame

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]


class Ping(Inbound):
    pass


class Replier(RealtimeConsumer):
    login_required = False  # no AuthMiddlewareStack here

    async def connect(self):
        await self.join("room")
        await self.accept()

    @handles("ping", Ping)
    async def on_ping(self, message: Ping):
        await self.send_frame("pong")


class DaphneClosing:
    """Wraps an ASGI app; once `closing`, a send raises as daphne's does mid-handshake."""

    def __init__(self, app):
        self.app = app
        self.closing = False

    async def __call__(self, scope, receive, send):
        async def server_send(message):
            if self.closing and message["type"] == "websocket.send":
                raise Disconnected("Attempt to send on a closed protocol")
            await send(message)

        await self.app(scope, receive, server_send)


async def test_frames_for_a_closing_socket_are_dropped_without_a_traceback(caplog):
    caplog.set_level(logging.INFO)
    closing = DaphneClosing(Replier.as_asgi())
    leaving = WebsocketCommunicator(closing, "/")
    staying = WebsocketCommunicator(Replier.as_asgi(), "/")
    assert (await leaving.connect())[0] and (await staying.connect())[0]

    closing.closing = True
    await leaving.send_json_to({"type": "ping"})  # its reply meets the closing socket
    await broadcast("room", "news")  # so does this group frame
    await broadcast("room", "later")
    await next_frame(staying, "later")  # the hub has been through both frames

    await leaving.disconnect()  # re-raises if the consumer crashed
    await staying.disconnect()
    tracebacks = [record.getMessage() for record in caplog.records if record.exc_info]
    assert tracebacks == []
