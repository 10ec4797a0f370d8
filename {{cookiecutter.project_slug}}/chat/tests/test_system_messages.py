"""The server's messages carry a flag, and look like no user's, not even one named "system"."""

import uuid

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from chat.models import Room
from chat.services import post_system_message, send_message
from realtime.testing.servers import manage


@pytest.fixture
def impostor(django_user_model):
    return django_user_model.objects.create_user("system")


@pytest.mark.django_db
def test_only_the_servers_messages_are_flagged_system(impostor):
    room = Room.objects.create(slug="general")
    notice = post_system_message(room, "Maintenance at 18:00")
    fake, _ = send_message(room, impostor, "Maintenance at 19:00")
    assert (notice.as_frame()["system"], notice.as_frame()["author"]) == (True, None)
    assert (fake.as_frame()["system"], fake.as_frame()["author"]) == (False, "system")


@pytest.mark.django_db
def test_a_deleted_authors_message_is_not_a_system_message(alice):
    room = Room.objects.create(slug="general")
    message, _ = send_message(room, alice, "hello")
    alice.delete()  # author becomes NULL
    message.refresh_from_db()
    assert (message.author, message.system) == (None, False)


@pytest.mark.django_db
def test_the_room_page_renders_the_servers_messages_apart(client, alice, impostor):
    room = Room.objects.create(slug="general")
    post_system_message(room, "real notice")
    send_message(room, impostor, "fake notice")
    client.force_login(alice)
    page = client.get(reverse("chat:room", args=["general"])).content.decode()
    real = page[page.index("message--system") : page.index("real notice")]
    assert '<span class="message__badge">Server notice</span>' in real
    fake = page[page.index("real notice") : page.index("fake notice")]
    assert '<span class="message__author">system</span>' in fake
    assert "Server notice" not in fake and "message--system" not in fake


def store(server_env, code: str) -> None:
    """Run `code` in the server's database (manage.py shell)."""
    manage(server_env, "shell", "-c", "from chat.models import Message, Room\n" + code)


@pytest.mark.e2e
def test_a_user_named_system_is_visibly_not_the_server(
    daphne_server, server_env, flaky_proxy, guest_page
):
    slug = f"room-{uuid.uuid4().hex[:8]}"
    page, _ = guest_page(flaky_proxy.url)
    page.goto(f"{flaky_proxy.url}/chat/")
    page.get_by_label("Room name").fill(slug)
    page.get_by_role("button", name="Open room").click()  # posts "... opened #slug."
    impostor = (
        "from django.contrib.auth import get_user_model\n"
        "system, _ = get_user_model().objects.get_or_create(username='system')\n"
        f"room = Room.objects.get(slug={slug!r})\n"
    )
    store(server_env, impostor + "Message.objects.create(room=room, author=system, text='fake 1')")
    page.reload()  # the server renders these two
    log = page.get_by_role("log", name="Messages").get_by_role("listitem")
    expect(log.filter(has_text="opened #")).to_contain_text("Server notice")
    expect(log.filter(has_text="fake 1")).to_contain_text("system")
    expect(log.filter(has_text="fake 1")).not_to_contain_text("Server notice")

    flaky_proxy.cut()  # these two arrive on reconnect, rendered by room.js
    store(
        server_env,
        impostor
        + "Message.objects.create(room=room, author=system, text='fake 2')\n"
        + "Message.objects.create(room=room, text='real 2', system=True)",
    )
    flaky_proxy.restore()
    expect(log.filter(has_text="real 2")).to_contain_text("Server notice", timeout=20_000)
    expect(log.filter(has_text="fake 2")).to_contain_text("system")
    expect(log.filter(has_text="fake 2")).not_to_contain_text("Server notice")
