"""Chat services called directly: what the consumers and views rely on."""

import uuid

import pytest

from chat import services
from chat.models import Message, Room
from realtime import presence
from realtime.signals import notify_user

pytestmark = pytest.mark.django_db


def test_a_resume_reads_the_missed_messages_and_their_authors_in_one_query(
    alice, bob, django_assert_num_queries
):
    room = Room.objects.create(slug="lobby")
    seen = Message.objects.create(room=room, author=alice, text="seen")
    for author, text in [(alice, "one"), (bob, "two"), (alice, "three")]:
        Message.objects.create(room=room, author=author, text=text)
    with django_assert_num_queries(1):
        missed = services.messages_after(room, seen.id)
    assert [(m["author"], m["text"]) for m in missed] == [
        ("alice", "one"),
        ("bob", "two"),
        ("alice", "three"),
    ]


def test_a_resume_reads_only_its_own_rooms_messages(alice):
    lobby, other = Room.objects.create(slug="lobby"), Room.objects.create(slug="other")
    for n in range(3):
        Message.objects.create(room=other, author=alice, text=f"elsewhere {n}")
        Message.objects.create(room=lobby, author=alice, text=f"here {n}")
    missed = services.messages_after(lobby, 0)
    assert [m["text"] for m in missed] == ["here 0", "here 1", "here 2"]


def test_a_removal_keeps_that_user_out_of_that_room_only(alice, bob):
    lobby, other = Room.objects.create(slug="lobby"), Room.objects.create(slug="other")
    lobby.removed.add(bob)
    assert services.room_for("lobby", bob) is None
    assert services.room_for("other", bob) == other  # the same user, another room
    assert services.room_for("lobby", alice) == lobby  # another user, the same room
    assert services.room_for("nowhere", alice) is None


def test_a_presence_announcement_reads_who_is_there_and_how_many_in_one_query(
    alice, bob, django_user_model, django_assert_num_queries
):
    """Every join and leave of a room is announced after this read (one per burst)."""
    carol = django_user_model.objects.create_user("carol")
    room = Room.objects.create(slug="lobby")
    presence.enter(room.group_name, alice, "a1")
    presence.enter(room.group_name, alice, "a2")  # a second tab counts once
    presence.enter(room.group_name, bob, "b1")
    presence.enter("chat.room.elsewhere", carol, "c1")
    with django_assert_num_queries(1):
        changes = services.presence_changes(room.group_name, {bob.pk: "bob", carol.pk: "carol"})
    assert changes == (["bob"], ["carol"], 2)


def test_a_deactivated_staff_member_can_no_longer_moderate(alice, django_user_model):
    room = Room.objects.create(slug="lobby")
    former = django_user_model.objects.create_user("former", is_staff=True, is_active=False)
    with pytest.raises(services.ModerationError) as refused:
        services.remove_member(room, "alice", former)
    assert (refused.value.code, str(refused.value)) == (
        "forbidden",
        "Only staff can moderate rooms.",
    )
    assert not room.removed.exists()


def test_a_nonce_stores_a_message_once_and_each_new_nonce_a_new_one(alice):
    """send_message's flag says whether it stored the message; a browser's resend
    (the same nonce) stores nothing, the author's next message (a new nonce) is stored."""
    room = Room.objects.create(slug="lobby")
    first, created = services.send_message(room, alice, "one", nonce=uuid.uuid4())
    assert created is True
    again, created = services.send_message(room, alice, "one", nonce=first.nonce)
    assert (again, created) == (first, False)
    second, created = services.send_message(room, alice, "two", nonce=uuid.uuid4())
    assert created is True and second != first
    assert list(room.messages.order_by("id").values_list("text", flat=True)) == ["one", "two"]


def test_a_mention_at_the_end_of_a_sentence_notifies_with_the_start_of_the_message(
    alice, bob, django_user_model
):
    django_user_model.objects.create_user("ALEX")
    room = Room.objects.create(slug="lobby")
    text = "Thanks @bob. And you, @ALEX! " + "x" * 300
    told = []

    def receiver(sender, recipient, title, body="", **kwargs):
        told.append((recipient.username, body))

    notify_user.connect(receiver)
    try:
        services.send_message(room, alice, text)
    finally:
        notify_user.disconnect(receiver)
    assert sorted(told) == [("ALEX", text[:200]), ("bob", text[:200])]
