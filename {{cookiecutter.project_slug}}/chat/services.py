"""Chat operations shared by the consumer, views and management commands."""

import re

from django.contrib.auth import get_user_model
from django.db import transaction

from realtime import presence
from realtime.broadcast import broadcast_from_sync
from realtime.signals import notify_user

from .models import Message, Room

LOBBY_GROUP = "chat.lobby"  # the room list page listens here for member counts
MENTION = re.compile(r"(?<![\w@])@([\w.@+-]+)")  # @username, as Django usernames allow
# Only the first few @names of a message notify: one message cannot page everyone.
MAX_MENTIONS = 5


def messages_after(room: Room, after_id: int, limit: int = 100) -> list[dict]:
    """Up to `limit` messages newer than `after_id`, oldest first, as frames."""
    rows = room.messages.select_related("author").filter(id__gt=after_id).order_by("id")[:limit]
    return [message.as_frame() for message in rows]


def create_message(room: Room, author, text: str, nonce=None) -> tuple[Message, bool]:
    """Store a message; (message, False) if this author already sent this nonce."""
    resent = room.messages.select_related("author").filter(author=author, nonce=nonce)
    if nonce is not None and (existing := resent.first()):
        return existing, False
    message = Message.objects.create(room=room, author=author, text=text, nonce=nonce)
    notify_mentions(message)
    return message, True


def notify_mentions(message: Message) -> None:
    """Tell every @mentioned user, through a signal: chat never imports the notifications app."""
    names = dict.fromkeys(name.rstrip(".-+@") for name in MENTION.findall(message.text))
    names.pop(message.author.username, None)
    names = list(names)[:MAX_MENTIONS]  # in the order they were written
    for user in get_user_model().objects.filter(username__in=names):
        notify_user.send(
            sender=Message,
            recipient=user,
            title=f"{message.author.username} mentioned you in #{message.room.slug}",
            body=message.text[:200],
            link=message.room.get_absolute_url(),
        )


def post_system_message(room: Room, text: str) -> Message:
    """Store a message from the server and push it to the room, from any sync code.

    The push waits for the surrounding transaction to commit, so a browser can
    never receive a message that a reload would not find.
    """
    message = Message.objects.create(room=room, author=None, text=text)
    transaction.on_commit(
        lambda: broadcast_from_sync(room.group_name, "chat.message", message=message.as_frame())
    )
    return message


def announce_presence(room: Room) -> None:
    """Tell the room who is in it now, and the room list its new count."""
    members = presence.members(room.group_name)
    broadcast_from_sync(room.group_name, "chat.presence", members=members)
    broadcast_from_sync(LOBBY_GROUP, "chat.room_members", room=room.slug, count=len(members))


def announce_expired_presence(sender, groups: list[str], **kwargs) -> None:
    """Receiver of realtime.signals.presence_expired: re-announce the rooms among `groups`."""
    prefix = Room(slug="").group_name
    slugs = [group.removeprefix(prefix) for group in groups if group.startswith(prefix)]
    for room in Room.objects.filter(slug__in=slugs):
        announce_presence(room)


def room_member_counts(rooms: list[Room]) -> dict[str, int]:
    """slug -> number of users in the room right now."""
    counts = presence.counts([room.group_name for room in rooms])
    return {room.slug: counts[room.group_name] for room in rooms}


def lobby_snapshot() -> list[dict]:
    """Every room with its member count, as the lobby's first frame."""
    rooms = list(Room.objects.all())
    counts = room_member_counts(rooms)
    return [{"room": room.slug, "count": counts[room.slug]} for room in rooms]
