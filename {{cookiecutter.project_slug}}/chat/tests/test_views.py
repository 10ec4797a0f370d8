import pytest
from django.core.management import call_command
from django.urls import reverse

from chat.models import Message, Room

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("alice"))
    return client


def test_pages_need_an_account(client):
    response = client.get(reverse("chat:room", args=["lobby"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_opening_a_room_creates_it_with_a_system_message(alice_client):
    response = alice_client.post(reverse("chat:open"), {"name": "lobby"})
    assert response["Location"] == reverse("chat:room", args=["lobby"])
    room = Room.objects.get(slug="lobby")
    assert [(m.author, m.text) for m in room.messages.all()] == [(None, "alice opened #lobby.")]
    alice_client.post(reverse("chat:open"), {"name": "lobby"})
    assert room.messages.count() == 1  # only on creation


def test_room_page_shows_the_last_50_messages_oldest_first_escaped(alice_client):
    room = Room.objects.create(slug="busy")
    Message.objects.bulk_create(Message(room=room, text=f"line {n}") for n in range(60))
    Message.objects.create(room=room, text="<script>alert(1)</script>")
    page = alice_client.get(reverse("chat:room", args=["busy"])).content.decode()
    assert "line 10" not in page and "line 11" in page
    assert page.index("line 11") < page.index("line 59")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_room_names_over_50_characters_are_not_found(alice_client):
    assert alice_client.get(reverse("chat:room", args=["x" * 51])).status_code == 404


def test_open_room_slugifies_the_name(alice_client):
    response = alice_client.post(reverse("chat:open"), {"name": "Team Standup!"})
    assert response["Location"] == reverse("chat:room", args=["team-standup"])


def test_room_list_shows_rooms(alice_client):
    Room.objects.create(slug="general")
    page = alice_client.get(reverse("chat:rooms")).content.decode()
    assert "#general" in page and "0 here" in page


def test_chat_post_command_stores_a_system_message(capsys):
    Room.objects.create(slug="general")
    call_command("chat_post", "general", "Maintenance at 18:00")
    assert Message.objects.get().text == "Maintenance at 18:00"


def test_a_mention_sends_the_notify_user_signal(django_user_model):
    from chat.services import send_message
    from realtime.signals import notify_user

    alice = django_user_model.objects.create_user("alice")
    django_user_model.objects.create_user("bob")
    room = Room.objects.create(slug="general")
    received = []

    def receiver(sender, recipient, title, **kwargs):
        received.append((recipient.username, title, kwargs["link"]))

    notify_user.connect(receiver)
    try:
        send_message(room, alice, "hey @bob, and @alice and @nobody: look")
    finally:
        notify_user.disconnect(receiver)
    assert received == [("bob", "alice mentioned you in #general", "/chat/general/")]


def test_a_message_notifies_at_most_the_first_few_mentions(django_user_model):
    from chat.services import MAX_MENTIONS, send_message
    from realtime.signals import notify_user

    alice = django_user_model.objects.create_user("alice")
    names = [f"user{n}" for n in range(MAX_MENTIONS + 20)]
    django_user_model.objects.bulk_create([django_user_model(username=name) for name in names])
    room = Room.objects.create(slug="general")
    received = []

    def receiver(sender, recipient, **kwargs):
        received.append(recipient.username)

    notify_user.connect(receiver)
    try:
        send_message(room, alice, " ".join(f"@{name}" for name in ["alice", *names]))
    finally:
        notify_user.disconnect(receiver)
    assert sorted(received) == sorted(names[:MAX_MENTIONS])  # the first ones written
