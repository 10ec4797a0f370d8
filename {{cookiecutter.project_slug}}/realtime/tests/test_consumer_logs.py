"""RealtimeConsumer logs one line when a socket opens, is refused or closes: its path,
its user, and why (the lines an operator greps for)."""

import logging

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from realtime.broadcast import broadcast
from realtime.consumers import RealtimeConsumer
from realtime.hub import SERVICE_RESTART

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


class Lobby(RealtimeConsumer):
    login_required = False

    async def connect(self):
        if self.query_param("refuse"):
            await self.close()  # connect() refuses the handshake
            return
        await self.join("lobby")
        await self.accept()

    async def disconnect(self, code):
        if self.query_param("announce"):
            await broadcast("lobby", "left")


def socket(user, path="/ws/lobby/") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(Lobby.as_asgi(), path)
    communicator.scope["user"] = user
    return communicator


def lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "realtime"]


@pytest.fixture(autouse=True)
def _info(caplog):
    caplog.set_level(logging.INFO, logger="realtime")


async def test_opening_closing_and_refusing_are_logged_with_path_user_and_code(alice, caplog):
    for user in (alice, AnonymousUser()):
        opened = socket(user)
        assert (await opened.connect())[0]
        await opened.disconnect(code=4000)
    refused = socket(alice, "/ws/lobby/?refuse=1")
    assert (await refused.connect())[0] is False
    assert lines(caplog) == [
        "ws open /ws/lobby/ user=alice",
        "ws closed /ws/lobby/ code=4000",
        "ws open /ws/lobby/ user=anonymous",
        "ws closed /ws/lobby/ code=4000",
        "ws refused /ws/lobby/ user=alice",
    ]


async def test_a_handshake_without_a_channel_layer_is_refused_with_the_reconnect_code(
    alice, monkeypatch, caplog
):
    """Redis down when the socket opens: the handshake is refused with SERVICE_RESTART
    (the browser retries with backoff) and one line says why, whether the socket's own
    channel or its first group could not be made."""
    layer = get_channel_layer()

    async def unreachable(*args):
        raise ConnectionRefusedError("Redis is down")

    for step in ("new_channel", "group_add"):
        with monkeypatch.context() as patched:
            patched.setattr(layer, step, unreachable)
            refused = socket(alice)
            assert await refused.connect() == (False, SERVICE_RESTART)
    assert lines(caplog) == [
        "ws refused /ws/lobby/: channel layer unreachable: Redis is down",
        "ws refused /ws/lobby/ user=alice: channel layer unreachable (Redis is down)",
    ]


async def test_a_close_while_the_channel_layer_is_down_is_logged_without_a_traceback(
    alice, monkeypatch, caplog
):
    leaving = socket(alice, "/ws/lobby/?announce=1")  # its disconnect() broadcasts
    assert (await leaving.connect())[0]

    async def unreachable(group, message):
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(get_channel_layer(), "group_send", unreachable)
    await leaving.disconnect(code=1001)
    assert lines(caplog)[1:] == [
        "ws closed /ws/lobby/ code=1001",
        "ws closed /ws/lobby/ while the channel layer was down: Redis is down",
    ]
    assert [r for r in caplog.records if r.exc_info] == []
