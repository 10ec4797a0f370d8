"""Chat operations shared by the consumer, views and management commands."""

import re

from django.contrib.auth import get_user_model
from django.db import transaction

from realtime import presence
from realtime.broadcast import broadcast_from_sync
from realtime.envelope import ProtocolError
from realtime.signals import notify_user

from .models import ROOM_GROUP_PREFIX, Message, Room

LOBBY_GROUP = "chat.lobby"  # the room list page listens here for member counts
LOBBY_ROOMS = 50  # rooms in the lobby's first frame: the busiest ones
RESUME_LIMIT = 500  # a reconnect missing more than this reloads the recent history instead
MENTION = re.compile(r"(?<![\w@])@([\w.@+-]+)")  # @username, as Django usernames allow


def messages_after(room: Room, after_id: int, limit: int = 100) -> list[dict]:
    """Up to `limit` messages newer than `after_id`, oldest first, as frames."""
    rows = room.messages.select_related("author").filter(id__gt=after_id).order_by("id")[:limit]
    return [message.as_frame() for message in rows]


def create_message(room: Room, author, text: str, nonce=None) -> tuple[Message, bool]:
    """Store a message; (message, False) if this author already sent this nonce.

    A nonce names one message of its author (the model's constraint), so the
    same nonce in another room is refused, as an error frame to a consumer.
    """
    if nonce is not None:
        sent = Message.objects.select_related("author").filter(author=author, nonce=nonce)
        if existing := sent.first():
            if existing.room_id != room.id:
                raise ProtocolError("invalid_fields", "nonce: already used in another room.")
            return existing, False
    message = Message.objects.create(room=room, author=author, text=text, nonce=nonce)
    notify_mentions(message)
    return message, True


def notify_mentions(message: Message) -> None:
    """Tell every @mentioned user, through a signal: chat never imports the notifications app."""
    names = {name.rstrip(".-+@") for name in MENTION.findall(message.text)}
    names.discard(message.author.username)
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
    message = Message.objects.create(room=room, author=None, text=text, system=True)
    transaction.on_commit(
        lambda: broadcast_from_sync(room.group_name, "chat.message", message=message.as_frame())
    )
    return message


def room_member_counts(rooms: list[Room]) -> dict[str, int]:
    """slug -> number of users in the room right now."""
    counts = presence.counts([room.group_name for room in rooms])
    return {room.slug: counts[room.group_name] for room in rooms}


def lobby_snapshot(limit: int = LOBBY_ROOMS) -> list[dict]:
    """The lobby's first frame: the `limit` busiest rooms with their member counts.

    Not every room: their number has no bound. The page lists them all, paginated;
    a room without anyone in it has nothing live to show.
    """
    busiest = presence.busiest(ROOM_GROUP_PREFIX, limit)
    return [{"room": group.removeprefix(ROOM_GROUP_PREFIX), "count": n} for group, n in busiest]


def missed_too_many(room: Room, after_id: int, limit: int = RESUME_LIMIT) -> bool:
    """More than `limit` messages after `after_id`: too many to stream on a reconnect."""
    return room.messages.filter(id__gt=after_id)[: limit + 1].count() > limit
