import pytest
from django.core.management import call_command

from accounts.guests import create_guest
from chat.models import Message, Room

pytestmark = pytest.mark.django_db


def test_a_purged_guests_messages_go_too_never_left_as_system_messages(alice):
    room = Room.objects.create(slug="lobby")
    guest = create_guest()  # never signed in: its age is its date_joined
    Message.objects.create(room=room, author=guest, text="Server restart: log in at evil.example")
    Message.objects.create(room=room, author=alice, text="hello")
    type(guest).objects.filter(pk=guest.pk).update(date_joined="2000-01-01T00:00:00Z")

    call_command("purge_guests", "--days", "1")

    assert list(Message.objects.values_list("author__username", "text")) == [("alice", "hello")]
