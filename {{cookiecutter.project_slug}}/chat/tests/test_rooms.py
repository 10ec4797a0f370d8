"""Rooms are made only on purpose, named canonically, and no list of them grows without bound."""

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import HISTORY_ON_LOAD, Message, Room
from chat.services import LOBBY_ROOMS, RESUME_LIMIT, RESUME_PAGE
from chat.views import ROOMS_PER_PAGE
from realtime import presence
from realtime.testing.frames import drain, next_frame


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


# -- creating a room ---------------------------------------------------------


@pytest.mark.django_db
def test_visiting_an_unknown_room_creates_nothing_and_offers_a_button(alice_client):
    response = alice_client.get(reverse("chat:room", args=["new-room"]))
    assert response.status_code == 404
    page = response.content.decode()
    assert 'action="/chat/open/"' in page and 'name="name" value="new-room"' in page
    assert ">Create #new-room</button>" in page
    assert not Room.objects.exists() and not Message.objects.exists()


@pytest.mark.django_db
def test_creating_a_room_needs_a_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)  # as a cross-site form post would be
    client.force_login(alice)
    assert client.post(reverse("chat:open"), {"name": "lobby"}).status_code == 403
    assert not Room.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["!!!", "   ", "-_-", "¿?"])
def test_a_name_without_letters_or_digits_is_refused_on_the_form(alice_client, name):
    response = alice_client.post(reverse("chat:open"), {"name": name})
    assert response.status_code == 400
    page = response.content.decode()
    assert "A room name needs at least one letter or digit." in page
    assert 'aria-invalid="true"' in page
    assert not Room.objects.exists()


@pytest.mark.django_db
def test_room_names_are_lower_case(alice_client):
    response = alice_client.post(reverse("chat:open"), {"name": "UPPER"})
    assert response["Location"] == reverse("chat:room", args=["upper"])
    response = alice_client.get("/chat/UPPER/")
    assert (response.status_code, response["Location"]) == (301, "/chat/upper/")
    assert list(Room.objects.values_list("slug", flat=True)) == ["upper"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_websocket_of_a_non_canonical_room_name_is_refused(ws_connect, alice):
    # The page always connects with the room's own slug; any other spelling is no room.
    await Room.objects.acreate(slug="upper")
    async with ws_connect("/ws/chat/UPPER/", alice, expect_accept=False):
        pass


# -- bounded lists -----------------------------------------------------------


@pytest.mark.django_db
def test_the_room_list_is_paginated(alice_client):
    Room.objects.bulk_create(Room(slug=f"room-{n:03}") for n in range(ROOMS_PER_PAGE + 1))
    first = alice_client.get(reverse("chat:rooms")).content.decode()
    assert first.count('class="room-list__item"') == ROOMS_PER_PAGE
    assert "Page 1 of 2" in first
    second = alice_client.get(reverse("chat:rooms"), {"page": 2}).content.decode()
    assert second.count('class="room-list__item"') == 1
    assert f"#room-{ROOMS_PER_PAGE:03}" in second


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_lobby_frame_lists_only_the_busiest_rooms(ws_connect, alice, bob):
    from channels.db import database_sync_to_async

    @database_sync_to_async
    def make_rooms():
        rooms = Room.objects.bulk_create(Room(slug=f"r{n:03}") for n in range(LOBBY_ROOMS + 10))
        for n, room in enumerate(rooms[: LOBBY_ROOMS + 5]):  # five rooms more than fit
            presence.enter(room.group_name, alice, f"alice-{n}")
        presence.enter(rooms[-6].group_name, bob, "bob-busy")  # the busiest: two people

    await make_rooms()
    async with ws_connect("/ws/chat/", alice) as socket:
        rooms = (await next_frame(socket, "chat.rooms"))["rooms"]
    assert len(rooms) == LOBBY_ROOMS
    assert rooms[0] == {"room": f"r{LOBBY_ROOMS + 4:03}", "count": 2}
    assert all(room["count"] == 1 for room in rooms[1:])  # no empty room


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_resume_past_the_limit_gets_the_recent_history_to_replace_its_own(
    ws_connect, alice
):
    room = await Room.objects.acreate(slug="busy")
    cursor = await Message.objects.acreate(room=room, author=alice, text="seen")
    texts = [f"missed {n}" for n in range(RESUME_LIMIT + 1)]
    await Message.objects.abulk_create(Message(room=room, author=alice, text=t) for t in texts)
    async with ws_connect(f"/ws/chat/busy/?after={cursor.id}", alice) as socket:
        history = await next_frame(socket, "chat.history")
        assert history["replace"] is True
        assert [m["text"] for m in history["messages"]] == texts[-HISTORY_ON_LOAD:]
        later = await drain(socket, seconds=0.3)
        assert [frame for frame in later if frame["type"] == "chat.history"] == []


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_resume_within_the_limit_streams_every_missed_message(ws_connect, alice):
    room = await Room.objects.acreate(slug="busy")
    cursor = await Message.objects.acreate(room=room, author=alice, text="seen")
    texts = [f"missed {n}" for n in range(RESUME_LIMIT)]
    await Message.objects.abulk_create(Message(room=room, author=alice, text=t) for t in texts)
    async with ws_connect(f"/ws/chat/busy/?after={cursor.id}", alice) as socket:
        received = []
        while len(received) < RESUME_LIMIT:
            frame = await next_frame(socket, "chat.history")
            assert frame["replace"] is False
            assert len(frame["messages"]) <= RESUME_PAGE  # frames of a bounded size
            received += frame["messages"]
    assert [m["text"] for m in received] == texts
