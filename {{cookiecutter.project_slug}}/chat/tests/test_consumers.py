"""The chat consumers through the project's real stack: origin check, session auth, URL routing."""

import asyncio
import contextlib
import json
import logging

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import Client
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

from chat import services
from chat.models import Message, Room
from chat.services import post_system_message
from realtime.testing.frames import drain, next_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def room(transactional_db):
    return Room.objects.create(slug="lobby")


async def message_count() -> int:
    return await Message.objects.acount()


async def test_anonymous_users_are_refused(ws_connect, room):
    async with ws_connect("/ws/chat/lobby/", user=None, expect_accept=False):
        pass
    async with ws_connect("/ws/chat/", user=None, expect_accept=False):
        pass


async def test_a_foreign_origin_is_refused(ws_connect, room, alice):
    foreign = "https://evil.example"
    async with ws_connect("/ws/chat/lobby/", alice, origin=foreign, expect_accept=False):
        pass


async def test_a_missing_origin_is_refused(ws_connect, room, alice):
    async with ws_connect("/ws/chat/lobby/", alice, origin=None, expect_accept=False):
        pass


async def test_an_unknown_room_is_refused(ws_connect, alice):
    async with ws_connect("/ws/chat/nowhere/", alice, expect_accept=False):
        pass


async def test_a_message_is_stored_then_broadcast_with_the_session_author(
    ws_connect, room, alice, bob
):
    async with ws_connect("/ws/chat/lobby/", alice) as a, ws_connect("/ws/chat/lobby/", bob) as b:
        await a.send_json_to({"type": "chat.send", "text": "  hello bob  "})
        for communicator in (a, b):
            frame = await next_frame(communicator, "chat.message")
            assert frame["message"]["author"] == "alice"
            assert frame["message"]["text"] == "hello bob"
        stored = await Message.objects.select_related("author").aget()
        assert (stored.author.username, stored.text) == ("alice", "hello bob")
        assert frame["message"]["id"] == stored.id


async def test_each_push_names_the_rooms_message_before_it(ws_connect, room, alice):
    """So a page that missed a push (a channel layer past capacity drops it; it is
    stored) knows it, and catches up: the page's side is a browser test."""
    other_room = await Room.objects.acreate(slug="other")
    async with ws_connect("/ws/chat/lobby/", alice) as a:
        await drain(a)
        await a.send_json_to({"type": "chat.send", "text": "the first"})
        first = await next_frame(a, "chat.message")
        assert first["previous"] is None
        dropped, _ = await database_sync_to_async(services.store_message)(room, alice, "lost")
        await database_sync_to_async(post_system_message)(other_room, "another room's")
        await a.send_json_to({"type": "chat.send", "text": "the next"})
        after_the_drop = await next_frame(a, "chat.message")
        assert after_the_drop["previous"] == dropped.id
        # From sync code too (services.publish).
        await database_sync_to_async(post_system_message)(room, "from the server")
        system = await next_frame(a, "chat.message")
        assert system["previous"] == after_the_drop["message"]["id"]


async def test_a_message_sent_from_sync_code_reaches_the_room(ws_connect, room, alice, bob):
    """services.send_message: for a view, a command or a task; pushed once committed."""
    async with ws_connect("/ws/chat/lobby/", alice) as a:
        await drain(a)
        sent, _ = await database_sync_to_async(services.send_message)(room, bob, "from a task")
        pushed = (await next_frame(a, "chat.message"))["message"]
        assert (pushed["id"], pushed["author"], pushed["text"]) == (sent.id, "bob", "from a task")


async def test_a_client_cannot_choose_the_author(ws_connect, room, alice):
    async with ws_connect("/ws/chat/lobby/", alice) as a:
        await a.send_json_to({"type": "chat.send", "text": "hi", "author": "bob"})
        error = await next_frame(a, "error")
        assert error["code"] == "invalid_fields"
        assert error["message"].startswith("author:")
        assert await message_count() == 0


async def test_rooms_are_isolated(ws_connect, room, alice, bob):
    await Room.objects.acreate(slug="other")
    async with ws_connect("/ws/chat/lobby/", alice) as a, ws_connect("/ws/chat/other/", bob) as b:
        await a.send_json_to({"type": "chat.send", "text": "only for the lobby"})
        await next_frame(a, "chat.message")
        await b.send_json_to({"type": "chat.send", "text": "only for other"})
        frame = await next_frame(b, "chat.message")
        assert frame["message"]["text"] == "only for other"  # never saw the lobby's


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ("[]", "invalid_message"),
        ('{"text": "no type"}', "missing_type"),
        ('{"type": "chat.shout", "text": "x"}', "unknown_type"),
        ('{"type": "chat.send"}', "invalid_fields"),
        ('{"type": "chat.send", "text": 42}', "invalid_fields"),
        ('{"type": "chat.send", "text": "   "}', "invalid_fields"),
        (json.dumps({"type": "chat.send", "text": "x" * 2001}), "invalid_fields"),
        (json.dumps({"type": "chat.send", "text": "x" * 20_000}), "too_large"),
        ("{" * 3000 + "}" * 3000, "invalid_json"),
    ],
)
async def test_bad_input_gets_an_error_frame_and_the_connection_stays_usable(
    ws_connect, room, alice, frame, code
):
    async with ws_connect("/ws/chat/lobby/", alice) as a:
        await a.send_to(text_data=frame)
        error = await next_frame(a, "error")
        assert error["code"] == code
        assert error["message"]
        assert await message_count() == 0
        await a.send_json_to({"type": "chat.send", "text": "still here"})
        assert (await next_frame(a, "chat.message"))["message"]["text"] == "still here"


async def test_a_binary_frame_gets_an_error_frame(ws_connect, room, alice):
    async with ws_connect("/ws/chat/lobby/", alice) as a:
        await a.send_to(bytes_data=b"\x00\xff")
        assert (await next_frame(a, "error"))["code"] == "binary_frame"


async def test_connect_without_cursor_sends_recent_history(ws_connect, room, alice):
    await database_sync_to_async(post_system_message)(room, "welcome")
    async with ws_connect("/ws/chat/lobby/", alice) as a:
        history = await next_frame(a, "chat.history")
        assert [m["text"] for m in history["messages"]] == ["welcome"]


async def test_resume_sends_every_message_after_the_cursor_in_order(ws_connect, room, alice):
    texts = [f"message {n}" for n in range(250)]
    await Message.objects.abulk_create(Message(room=room, author=alice, text=t) for t in texts)
    first_id = (await Message.objects.order_by("id").afirst()).id
    async with ws_connect(f"/ws/chat/lobby/?after={first_id + 9}", alice) as a:
        received = []
        while len(received) < 240:
            received += (await next_frame(a, "chat.history"))["messages"]
    assert [m["text"] for m in received] == texts[10:]


async def test_a_resume_with_nothing_newer_gets_an_empty_history(ws_connect, room, alice):
    """A page that is up to date still gets its chat.history: it knows it has caught up."""
    latest = await database_sync_to_async(post_system_message)(room, "seen already")
    async with ws_connect(f"/ws/chat/lobby/?after={latest.id}", alice) as a:
        history = await next_frame(a, "chat.history")
    assert (history["messages"], history["replace"]) == ([], False)


async def test_the_first_frame_is_the_member_list_then_only_changes(ws_connect, room, alice, bob):
    async with ws_connect("/ws/chat/lobby/", alice) as a:
        assert await a.receive_json_from() == {"type": "chat.presence", "members": ["alice"]}
        assert (await next_frame(a, "chat.presence_changed"))["joined"] == ["alice"]
        async with ws_connect("/ws/chat/lobby/", bob) as b:
            assert await b.receive_json_from() == {
                "type": "chat.presence",
                "members": ["alice", "bob"],
            }
            changed = await next_frame(a, "chat.presence_changed")
            assert (changed["joined"], changed["left"]) == (["bob"], [])
            async with ws_connect("/ws/chat/lobby/", bob):  # a second tab: no change
                await b.send_json_to({"type": "chat.typing"})
                assert (await a.receive_json_from())["type"] == "chat.typing"
            await b.send_json_to({"type": "chat.typing"})  # the second tab closed: no change
            assert (await a.receive_json_from())["type"] == "chat.typing"
        changed = await next_frame(a, "chat.presence_changed")
        assert (changed["joined"], changed["left"]) == ([], ["bob"])


async def test_each_join_costs_the_others_the_same_small_frame_however_many_are_here(
    ws_connect, room, alice, django_user_model
):
    """N joins cost a member N small frames (linear), not N lists of up to N names."""
    people = await database_sync_to_async(
        lambda: [django_user_model.objects.create_user(f"user-{n:02d}") for n in range(20)]
    )()
    cost = []  # bytes the first member receives for each join
    async with contextlib.AsyncExitStack() as sockets:
        watcher = await sockets.enter_async_context(ws_connect("/ws/chat/lobby/", alice))
        await drain(watcher)
        for person in people:
            await sockets.enter_async_context(ws_connect("/ws/chat/lobby/", person))
            frames = [await watcher.receive_from()]
            while await watcher.receive_nothing(timeout=0.2) is False:
                frames.append(await watcher.receive_from())
            assert [json.loads(f) for f in frames] == [
                {"type": "chat.presence_changed", "joined": [person.username], "left": []}
            ]
            cost.append(sum(len(frame.encode()) for frame in frames))
    assert len(set(cost)) == 1, cost  # the 20th join costs what the first did


async def test_a_connect_costs_a_few_queries(ws_connect, room, alice, bob):
    """Session, user, the room and whether the user was removed from it (two simple
    queries cost less than one with a subquery), presence (read, write), the missed
    messages and the join announcement (one): a reconnect storm is as many of these
    as there are browsers."""
    from channels.testing import WebsocketCommunicator
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from config.asgi import application
    from realtime.testing.fixtures import session_cookie

    cursor = (await database_sync_to_async(post_system_message)(room, "seen")).id
    for n in range(3):
        await database_sync_to_async(post_system_message)(room, f"missed {n}")
    headers = [
        (b"host", b"testserver"),
        (b"origin", b"http://testserver"),
        (b"cookie", (await database_sync_to_async(session_cookie)(bob)).encode()),
    ]
    async with ws_connect("/ws/chat/lobby/", alice) as a:  # the room is not empty
        await drain(a)
        # Every ORM call of the consumer and of the session middleware runs in one
        # thread (database_sync_to_async): count there.
        capture = CaptureQueriesContext(connection)
        await database_sync_to_async(capture.__enter__)()
        b = WebsocketCommunicator(application, f"/ws/chat/lobby/?after={cursor}", headers=headers)
        assert (await b.connect())[0]
        history = await next_frame(b, "chat.history")
        assert [m["text"] for m in history["messages"]] == ["missed 0", "missed 1", "missed 2"]
        assert (await next_frame(a, "chat.presence_changed"))["joined"] == ["bob"]
        await database_sync_to_async(capture.__exit__)(None, None, None)
        queries = await database_sync_to_async(lambda: capture.captured_queries)()
        await b.disconnect()
    assert len(queries) <= 8, "\n".join(query["sql"] for query in queries)


async def test_the_rooms_messages_reach_a_socket_without_reading_its_session(
    ws_connect, room, alice, monkeypatch
):
    """config/asgi.py signs sockets in with realtime.sessions.SocketAuthMiddlewareStack:
    Channels' AuthMiddlewareStack would read the session for every frame sent."""
    from django.contrib.sessions.backends.base import SessionBase

    async with ws_connect("/ws/chat/lobby/", alice) as a:
        await drain(a)
        reads = []
        monkeypatch.setattr(SessionBase, "is_empty", lambda session: reads.append(session))
        for n in range(3):
            await database_sync_to_async(post_system_message)(room, f"note {n}")
        texts = [(await next_frame(a, "chat.message"))["message"]["text"] for _ in range(3)]
        assert texts == ["note 0", "note 1", "note 2"]
        assert reads == []


async def test_the_lobby_receives_member_counts(ws_connect, room, alice, bob):
    async with ws_connect("/ws/chat/", alice) as lobby:
        snapshot = await next_frame(lobby, "chat.rooms")
        assert snapshot["rooms"] == []  # only rooms with someone in them (the busiest)
        async with ws_connect("/ws/chat/lobby/", bob):
            update = await next_frame(lobby, "chat.room_members")
            assert (update["room"], update["count"]) == ("lobby", 1)
        update = await next_frame(lobby, "chat.room_members")
        assert (update["room"], update["count"]) == ("lobby", 0)


async def test_a_system_message_from_sync_code_reaches_open_sockets(ws_connect, room, alice):
    async with ws_connect("/ws/chat/lobby/", alice) as a:
        await database_sync_to_async(post_system_message)(room, "deploy at noon")
        frame = await next_frame(a, "chat.message")
        assert frame["message"]["author"] is None
        assert frame["message"]["text"] == "deploy at noon"


async def test_a_flooding_client_is_throttled_and_the_room_carries_on(ws_connect, room, alice, bob):
    async with (
        ws_connect("/ws/chat/lobby/", alice) as flooder,
        ws_connect("/ws/chat/lobby/", bob) as b,
    ):
        for n in range(60):
            await flooder.send_json_to({"type": "chat.send", "text": f"spam {n}"})
        errors = [f for f in await drain(flooder) if f["type"] == "error"]
        assert errors and {e["code"] for e in errors} == {"rate_limited"}
        stored = await message_count()
        assert stored < 60  # the refused ones were never stored
        await b.send_json_to({"type": "chat.send", "text": "bob still talks"})
        received = [f for f in await drain(b) if f["type"] == "chat.message"]
        assert len(received) == stored + 1  # every accepted message, and bob's own, reached bob
        assert received[-1]["message"]["text"] == "bob still talks"


async def test_a_resend_after_a_failed_broadcast_reaches_the_others(
    ws_connect, room, alice, bob, monkeypatch, caplog
):
    """Redis down between storing and pushing: stored once, one warning line, and the
    sender is told "not_delivered"; the browser's resend reaches everyone."""
    frame = {"type": "chat.send", "text": "kept", "nonce": "8f14e45f-ceea-4e7a-9c1b-1234567890ab"}
    async with ws_connect("/ws/chat/lobby/", alice) as a, ws_connect("/ws/chat/lobby/", bob) as b:
        await drain(a)
        await drain(b)
        layer = get_channel_layer()
        working = layer.group_send

        async def unreachable(*args, **kwargs):
            raise RedisConnectionError("Redis is restarting")

        monkeypatch.setattr(layer, "group_send", unreachable)
        await a.send_json_to(frame)
        error = await next_frame(a, "error")
        assert (error["code"], error["about"]) == ("not_delivered", "chat.send")
        assert await message_count() == 1
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert [line.split(":")[0] for line in warnings] == ["ws /ws/chat/lobby/"]
        assert "channel layer unreachable" in warnings[0]
        monkeypatch.setattr(layer, "group_send", working)
        await a.send_json_to(frame)  # the browser saw no echo, and resends
        bobs = [f["message"] for f in await drain(b) if f["type"] == "chat.message"]
        assert [m["text"] for m in bobs] == ["kept"]
    assert await message_count() == 1


def hold_pushes(monkeypatch, containing: str) -> tuple[asyncio.Event, asyncio.Event]:
    """(waiting, released): from now on, a push whose frame contains `containing` sets
    `waiting` and is held in the channel layer until `released` is set."""
    layer = get_channel_layer()
    working = layer.group_send
    waiting, released = asyncio.Event(), asyncio.Event()

    async def held(group, message):
        if containing in message.get("text", ""):
            waiting.set()
            await released.wait()
        await working(group, message)

    monkeypatch.setattr(layer, "group_send", held)
    return waiting, released


async def test_a_push_waiting_for_the_channel_layer_holds_up_no_other_message(
    ws_connect, room, alice, bob, monkeypatch
):
    """Every consumer's queries run in one thread (database_sync_to_async): a message
    is pushed from the event loop, so a slow Redis delays that message only, and
    others are still stored and pushed meanwhile."""
    async with ws_connect("/ws/chat/lobby/", alice) as a, ws_connect("/ws/chat/lobby/", bob) as b:
        await drain(a)
        await drain(b)
        waiting, released = hold_pushes(monkeypatch, containing="first")
        try:
            await a.send_json_to({"type": "chat.send", "text": "first"})
            await asyncio.wait_for(waiting.wait(), 5)  # stored; its push is waiting
            await b.send_json_to({"type": "chat.send", "text": "second"})
            assert (await next_frame(a, "chat.message"))["message"]["text"] == "second"
        finally:
            released.set()
        assert (await next_frame(a, "chat.message"))["message"]["text"] == "first"


async def test_a_join_announcement_waiting_for_the_channel_layer_holds_up_no_message(
    ws_connect, room, alice, bob, monkeypatch
):
    """The same for presence: who came in is read in the database thread and pushed
    from the event loop."""
    async with ws_connect("/ws/chat/lobby/", alice) as a:
        await drain(a)
        waiting, released = hold_pushes(monkeypatch, containing="chat.presence_changed")
        async with ws_connect("/ws/chat/lobby/", bob):
            try:
                await asyncio.wait_for(waiting.wait(), 5)  # bob's arrival is being announced
                await a.send_json_to({"type": "chat.send", "text": "still here"})
                assert (await next_frame(a, "chat.message"))["message"]["text"] == "still here"
            finally:
                released.set()
            assert (await next_frame(a, "chat.presence_changed"))["joined"] == ["bob"]


async def test_a_resent_message_is_stored_once_and_confirmed_to_its_sender(
    ws_connect, room, alice, bob
):
    frame = {"type": "chat.send", "text": "once", "nonce": "8f14e45f-ceea-4e7a-9c1b-1234567890ab"}
    async with ws_connect("/ws/chat/lobby/", alice) as a, ws_connect("/ws/chat/lobby/", bob) as b:
        await a.send_json_to(frame)
        first = (await next_frame(a, "chat.message"))["message"]
        assert first["nonce"] == frame["nonce"]
        await a.send_json_to(frame)  # the browser did not see the echo, and resends
        again = (await next_frame(a, "chat.message"))["message"]
        assert again["id"] == first["id"]
        bobs = [f["message"]["id"] for f in await drain(b) if f["type"] == "chat.message"]
        assert set(bobs) == {first["id"]}  # the same message: browsers show an id once
    assert await message_count() == 1


async def test_the_same_nonce_from_two_users_is_two_messages(ws_connect, room, alice, bob):
    """A nonce names a message of its author only: another user's browser that happens
    to send the same one still gets its own message stored and shown."""
    nonce = "8f14e45f-ceea-4e7a-9c1b-1234567890ab"
    async with ws_connect("/ws/chat/lobby/", alice) as a, ws_connect("/ws/chat/lobby/", bob) as b:
        await a.send_json_to({"type": "chat.send", "text": "from alice", "nonce": nonce})
        for socket in (a, b):
            await next_frame(socket, "chat.message")
        await b.send_json_to({"type": "chat.send", "text": "from bob", "nonce": nonce})
        bobs = (await next_frame(a, "chat.message"))["message"]
        assert (bobs["author"], bobs["text"]) == ("bob", "from bob")
    assert await message_count() == 2


async def test_a_malformed_nonce_is_refused(ws_connect, room, alice):
    async with ws_connect("/ws/chat/lobby/", alice) as a:
        await a.send_json_to({"type": "chat.send", "text": "x", "nonce": "not-a-uuid"})
        assert (await next_frame(a, "error"))["message"].startswith("nonce:")


async def test_bad_input_is_logged_as_one_line_without_a_traceback(ws_connect, room, alice, caplog):
    caplog.set_level(logging.INFO, logger="realtime")
    async with ws_connect("/ws/chat/lobby/", alice) as a:
        await a.send_to(text_data="{not json")
        await next_frame(a, "error")
    lines = [record.getMessage() for record in caplog.records if record.name == "realtime"]
    assert all(record.exc_info is None for record in caplog.records)
    assert all("\n" not in line for line in lines)
    # One line each: the connection opening, the refused frame, the connection closing.
    assert [line.split()[1] for line in lines] == ["open", "error", "closed"]
    assert lines[1].startswith("ws error /ws/chat/lobby/ invalid_json: Not valid JSON")


async def test_a_refused_handshake_is_logged_as_one_line(ws_connect, caplog):
    caplog.set_level(logging.INFO, logger="realtime")
    async with ws_connect("/ws/chat/", user=None, expect_accept=False):
        pass
    lines = [record.getMessage() for record in caplog.records if record.name == "realtime"]
    assert lines == ["ws refused /ws/chat/ user=anonymous"]


@pytest.fixture
def moderator(django_user_model):
    return django_user_model.objects.create_user("mod", is_staff=True)


async def test_only_staff_can_moderate_checked_for_every_frame(
    ws_connect, room, alice, bob, moderator
):
    """Alice is not staff, although a staff member exists (the check is of her, not anyone)."""
    message = await Message.objects.acreate(room=room, author=bob, text="keep me")
    forbidden = ("forbidden", "Only staff can moderate rooms.")
    async with ws_connect("/ws/chat/lobby/", alice) as a:
        await a.send_json_to({"type": "chat.delete_message", "id": message.id})
        error = await next_frame(a, "error")
        assert (error["code"], error["message"]) == forbidden
        await a.send_json_to({"type": "chat.remove_member", "username": "bob"})
        error = await next_frame(a, "error")
        assert (error["code"], error["message"]) == forbidden
    assert await Message.objects.filter(pk=message.pk).aexists()
    assert not await room.removed.aexists()


async def test_a_refused_moderation_says_why(ws_connect, room, moderator):
    async with ws_connect("/ws/chat/lobby/", moderator) as m:
        await m.send_json_to({"type": "chat.remove_member", "username": "mod"})
        yourself = await next_frame(m, "error")
        await m.send_json_to({"type": "chat.remove_member", "username": "nobody"})
        unknown = await next_frame(m, "error")
    assert (yourself["code"], yourself["message"]) == ("refused", "You cannot remove yourself.")
    assert (unknown["code"], unknown["message"]) == ("not_found", "No user 'nobody'.")


async def test_a_deleted_message_is_removed_live_for_everyone(ws_connect, room, moderator, bob):
    message = await Message.objects.acreate(room=room, author=bob, text="spam")
    async with (
        ws_connect("/ws/chat/lobby/", moderator) as m,
        ws_connect("/ws/chat/lobby/", bob) as b,
    ):
        await m.send_json_to({"type": "chat.delete_message", "id": message.id})
        for socket in (m, b):
            assert (await next_frame(socket, "chat.message_deleted"))["id"] == message.id
        await m.send_json_to({"type": "chat.delete_message", "id": message.id})
        error = await next_frame(m, "error")
        unknown = ("not_found", f"No message {message.id} in #lobby.")
        assert (error["code"], error["message"]) == unknown
    assert not await Message.objects.filter(pk=message.pk).aexists()


async def test_a_page_away_while_a_message_was_deleted_removes_it_when_it_resumes(
    ws_connect, room, moderator, bob
):
    spam = await Message.objects.acreate(room=room, author=bob, text="spam")
    seen = await Message.objects.acreate(room=room, author=bob, text="seen")
    # The page has both and goes away; the spam is deleted; bob writes on; a message
    # the page never had comes and goes.
    await database_sync_to_async(services.delete_message)(room, spam.id, moderator)
    never_seen = await Message.objects.acreate(room=room, author=bob, text="gone too")
    await database_sync_to_async(services.delete_message)(room, never_seen.id, moderator)
    await Message.objects.acreate(room=room, author=bob, text="while away")
    async with ws_connect(f"/ws/chat/lobby/?after={seen.id}", bob) as page:
        frames = await drain(page)
    told = [frame["id"] for frame in frames if frame["type"] == "chat.message_deleted"]
    assert told == [spam.id]  # only what the page shows
    [history] = [frame for frame in frames if frame["type"] == "chat.history"]
    assert [m["text"] for m in history["messages"]] == ["while away"]
    assert history["replace"] is False
    # The newest message is deleted, then an older one through a copy of the room
    # loaded before: a page that had the newest is told about both.
    older_copy = await Room.objects.aget(pk=room.pk)
    newest = history["messages"][0]["id"]
    await database_sync_to_async(services.delete_message)(room, newest, moderator)
    await database_sync_to_async(services.delete_message)(older_copy, seen.id, moderator)
    async with ws_connect(f"/ws/chat/lobby/?after={newest}", bob) as page:
        frames = await drain(page)
    told = {frame["id"] for frame in frames if frame["type"] == "chat.message_deleted"}
    assert told == {newest, seen.id}
    # A page that was already past the deletions got them live: it is not told again.
    newest = await Message.objects.acreate(room=room, author=bob, text="after")
    async with ws_connect(f"/ws/chat/lobby/?after={newest.id}", bob) as page:
        frames = await drain(page)
    assert [f["messages"] for f in frames if f["type"] == "chat.history"] == [[]]
    assert "chat.message_deleted" not in {frame["type"] for frame in frames}


async def test_messages_deleted_in_the_admin_are_removed_from_open_pages(
    ws_connect, room, bob, django_user_model
):
    admin_user = await django_user_model.objects.acreate(username="admin", is_staff=True)
    admin_user.is_superuser = True
    await admin_user.asave()
    one, two, three = [
        await Message.objects.acreate(room=room, author=bob, text=f"spam {n}") for n in range(3)
    ]

    def delete_in_the_admin():
        client = Client()
        client.force_login(admin_user)
        one_page = client.post(reverse("admin:chat_message_delete", args=[one.id]), {"post": "y"})
        selected = client.post(
            reverse("admin:chat_message_changelist"),
            {"action": "delete_selected", "_selected_action": [two.id, three.id], "post": "y"},
        )
        assert (one_page.status_code, selected.status_code) == (302, 302)

    async with ws_connect("/ws/chat/lobby/", bob) as page:
        await drain(page)
        await database_sync_to_async(delete_in_the_admin)()
        frames = await drain(page)
    told = {frame["id"] for frame in frames if frame["type"] == "chat.message_deleted"}
    assert told == {one.id, two.id, three.id}
    assert await room.deletions.acount() == 3  # and pages that were away will be told


async def test_a_page_older_than_the_deletions_kept_shows_the_recent_messages(
    ws_connect, room, moderator, bob, monkeypatch
):
    monkeypatch.setattr(services, "DELETIONS_KEPT", 2)
    seen = await Message.objects.acreate(room=room, author=bob, text="seen")
    spams = []
    for number in range(3):
        spams.append(await Message.objects.acreate(room=room, author=bob, text=f"spam {number}"))
        await database_sync_to_async(services.delete_message)(room, spams[-1].id, moderator)
    assert await room.deletions.acount() == 2  # the oldest deletion is forgotten
    async with ws_connect(f"/ws/chat/lobby/?after={seen.id}", bob) as page:
        history = await next_frame(page, "chat.history")
    assert history["replace"] is True
    assert [m["text"] for m in history["messages"]] == ["seen"]
    # A page whose newest message was the first spam: its deletion is the one forgotten.
    async with ws_connect(f"/ws/chat/lobby/?after={spams[0].id}", bob) as page:
        assert (await next_frame(page, "chat.history"))["replace"] is True


async def test_a_removed_member_is_closed_in_that_room_only_and_cannot_come_back(
    ws_connect, room, moderator, bob
):
    await Room.objects.acreate(slug="other")
    async with (
        ws_connect("/ws/chat/lobby/", moderator) as m,
        ws_connect("/ws/chat/lobby/", bob) as bobs_lobby,
        ws_connect("/ws/chat/other/", bob) as bobs_other,
    ):
        await m.send_json_to({"type": "chat.remove_member", "username": "bob"})
        notice = await next_frame(m, "chat.message")
        assert notice["message"]["text"] == "bob was removed from #lobby by a moderator."
        while (output := await bobs_lobby.receive_output(timeout=2))["type"] != "websocket.close":
            pass
        assert output["code"] == 4403
        await bobs_other.send_json_to({"type": "chat.send", "text": "still in the other room"})
        assert (await next_frame(bobs_other, "chat.message"))["message"]["author"] == "bob"
        async with ws_connect("/ws/chat/lobby/", bob, expect_accept=False):
            pass


def expire(socket_id: str) -> None:
    """Age a presence row past the TTL, as when its server process was killed."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from realtime.models import Presence

    stale = timezone.now() - timedelta(seconds=settings.REALTIME["PRESENCE_TTL_SECONDS"] + 1)
    Presence.objects.filter(socket_id=socket_id).update(last_seen=stale)


async def test_users_of_a_dead_process_leave_the_room_and_its_count(ws_connect, room, alice, bob):
    from realtime import presence

    await database_sync_to_async(presence.enter)(room.group_name, bob, "on-a-killed-process")
    async with ws_connect("/ws/chat/", alice) as lobby, ws_connect("/ws/chat/lobby/", alice) as a:
        assert (await next_frame(a, "chat.presence"))["members"] == ["alice", "bob"]
        await database_sync_to_async(expire)("on-a-killed-process")
        await drain(lobby)
        await database_sync_to_async(presence.purge_expired)()  # what a live process does
        assert (await next_frame(a, "chat.presence"))["members"] == ["alice"]
        update = await next_frame(lobby, "chat.room_members")
        assert (update["room"], update["count"]) == ("lobby", 1)
