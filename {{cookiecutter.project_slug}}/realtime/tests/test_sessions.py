"""A socket lives no longer than its session (realtime/sessions.py)."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client

from realtime.broadcast import broadcast, send_event
from realtime.consumers import RealtimeConsumer
from realtime.sessions import (
    OTHER_USER,
    SESSION_ENDED,
    SocketAuthMiddlewareStack,
    user_group,
)
from realtime.testing.fixtures import session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


class Signed(RealtimeConsumer):
    async def connect(self):
        await self.accept()


async def open_socket(user, cookie=None):
    cookie = cookie or await database_sync_to_async(session_cookie)(user)
    socket = WebsocketCommunicator(
        SocketAuthMiddlewareStack(Signed.as_asgi()), "/", headers=[(b"cookie", cookie.encode())]
    )
    assert (await socket.connect())[0]
    return socket


async def closed_with(socket) -> int:
    output = await asyncio.wait_for(socket.receive_output(), timeout=2)
    assert output["type"] == "websocket.close"
    return output["code"]


async def test_anonymous_users_are_refused_before_connect_runs():
    socket = WebsocketCommunicator(SocketAuthMiddlewareStack(Signed.as_asgi()), "/")
    assert (await socket.connect())[0] is False


async def test_logging_out_closes_every_socket_of_that_user_only(alice, bob, caplog):
    client = Client()
    await database_sync_to_async(client.force_login)(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    tab1, tab2 = await open_socket(alice, cookie), await open_socket(alice)
    bobs = await open_socket(bob)

    await database_sync_to_async(client.logout)()

    assert await closed_with(tab1) == SESSION_ENDED
    assert await closed_with(tab2) == SESSION_ENDED  # another session of hers, too
    assert "ws closed /: logged out" in [r.getMessage() for r in caplog.records]  # says why
    assert await bobs.receive_nothing(timeout=0.2)
    again = WebsocketCommunicator(
        SocketAuthMiddlewareStack(Signed.as_asgi()), "/", headers=[(b"cookie", cookie.encode())]
    )
    assert (await again.connect())[0] is False  # the logged-out session cannot come back
    await bobs.disconnect()


async def test_the_bare_force_disconnect_event_closes_with_session_ended(alice, caplog):
    """{"type": "realtime.force_disconnect"} as sessions.py documents it, without the
    reason and code end_sessions() adds: the close code and log line still say why."""
    socket = await open_socket(alice)
    await send_event(user_group(alice.pk), {"type": "realtime.force_disconnect"})
    assert await closed_with(socket) == SESSION_ENDED
    assert "ws closed /: session ended" in [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("change", ["deactivate", "password"])
async def test_deactivation_or_a_new_password_closes_the_users_sockets(alice, change, caplog):
    """Whether the save writes every field or only the one changed (update_fields)."""
    for update_fields in (None, ["is_active" if change == "deactivate" else "password"]):
        caplog.clear()
        socket = await open_socket(alice)
        if change == "deactivate":
            alice.is_active, reason = False, "account deactivated"
        else:
            alice.set_password(f"a new password {update_fields}")
            reason = "password changed"
        await database_sync_to_async(alice.save)(update_fields=update_fields)
        assert await closed_with(socket) == SESSION_ENDED
        assert f"ws closed /: {reason}" in [r.getMessage() for r in caplog.records]  # says why
        alice.is_active = True
        await database_sync_to_async(alice.save)()


async def test_other_saves_of_the_user_leave_the_sockets_open(alice):
    socket = await open_socket(alice)
    alice.first_name = "Alice"
    await database_sync_to_async(alice.save)()
    await database_sync_to_async(alice.save)(update_fields=["last_login"])
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


class Greeting(RealtimeConsumer):
    async def connect(self):
        await self.accept()
        await self.send_frame("hello")


async def test_a_page_opened_for_another_user_is_closed_before_connect_runs(alice, bob, caplog):
    """A tab that outlived a log-out, then someone else's log-in in that browser, names its
    old user (?user=<id>): its socket never acts for the new one."""
    cookie = (b"cookie", (await database_sync_to_async(session_cookie)(alice)).encode())
    for page_user in (bob.pk, "not-an-id"):
        socket = WebsocketCommunicator(
            SocketAuthMiddlewareStack(Greeting.as_asgi()), f"/?user={page_user}", headers=[cookie]
        )
        assert (await socket.connect())[0]  # accepted only to say why it closes
        assert await closed_with(socket) == OTHER_USER  # and no "hello": connect() never ran
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused == ["ws refused / user=alice: the page is another user's"] * 2
    for path in (f"/?user={alice.pk}", "/"):  # her own page; a program that names nobody
        socket = WebsocketCommunicator(
            SocketAuthMiddlewareStack(Greeting.as_asgi()), path, headers=[cookie]
        )
        assert (await socket.connect())[0]
        assert (await socket.receive_json_from())["type"] == "hello"
        await socket.disconnect()


async def test_frames_sent_to_a_signed_in_socket_never_read_its_session(alice, monkeypatch):
    """Channels' SessionMiddleware reads the session for every message sent (to save it
    on an HTTP response); SocketAuthMiddlewareStack hands a socket's frames straight to
    the server, and still signs the socket in from the session."""
    cookie = await database_sync_to_async(session_cookie)(alice)
    socket = WebsocketCommunicator(
        SocketAuthMiddlewareStack(Signed.as_asgi()), "/", headers=[(b"cookie", cookie.encode())]
    )
    assert (await socket.connect())[0]  # Signed refuses anonymous users: alice it is
    reads = []
    monkeypatch.setattr(SessionBase, "is_empty", lambda session: reads.append(session) or False)
    for n in range(3):
        await broadcast(user_group(alice.pk), "note", n=n)
    assert [(await socket.receive_json_from(timeout=2))["n"] for _ in range(3)] == [0, 1, 2]
    assert reads == []
    await socket.disconnect()
