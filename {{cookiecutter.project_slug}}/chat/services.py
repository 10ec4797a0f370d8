"""Chat operations shared by the consumer, views and management commands."""

import re

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max

from realtime import presence
from realtime.broadcast import broadcast_from_sync, send_event_from_sync
from realtime.envelope import ProtocolError
from realtime.signals import notify_user

from .models import ROOM_GROUP_PREFIX, Message, Room

LOBBY_GROUP = "chat.lobby"  # the room list page listens here for member counts
LOBBY_ROOMS = 50  # rooms in the lobby's first frame: the busiest ones
RESUME_LIMIT = 500  # a reconnect missing more than this reloads the recent history instead
RESUME_PAGE = 100  # messages per chat.history frame of a resume
DELETIONS_KEPT = 500  # per room: deletions a page that was away is told about on resume
REMOVED = 4403  # close code: a moderator removed you from the room (browsers do not retry)


class ModerationError(Exception):
    """A moderation request the server refuses; `code` goes into the error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


MENTION = re.compile(r"(?<![\w@])@([\w.@+-]+)")  # @username, as Django usernames allow
# Only the first few @names of a message notify: one message cannot page everyone.
MAX_MENTIONS = 5


def messages_after(room: Room, after_id: int, limit: int = RESUME_PAGE) -> list[dict]:
    """Up to `limit` messages newer than `after_id`, oldest first, as frames."""
    newer = Message.objects.select_related("author").filter(room=room, id__gt=after_id)
    rows = newer.order_by("id")[:limit]
    return [message.as_frame() for message in rows]


def send_message(room: Room, author, text: str, nonce=None) -> tuple[Message, bool]:
    """Store a message (store_message), then push it to the room once the transaction
    commits. For sync code; the consumer pushes from its own event loop instead."""
    message, created = store_message(room, author, text, nonce)
    publish(message)
    return message, created


def store_message(room: Room, author, text: str, nonce=None) -> tuple[Message, bool]:
    """Store a message and notify its @mentions; the caller pushes it to the room.

    Returns (message, False), storing nothing, if this author already sent this
    nonce: a browser resending after a drop (push it again: its sender saw no echo,
    so the first push may have failed, Redis restarting; browsers drop ids they
    already show). A nonce names one message of its author (the model's constraint),
    so the same nonce in another room is refused, as an error frame to a consumer.
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


def store_for_push(room: Room, author, text: str, nonce=None) -> dict:
    """store_message(), and the chat.message frame to push (push_fields): one call
    to the database thread for the consumer."""
    message, _ = store_message(room, author, text, nonce)
    return push_fields(message)


def push_fields(message: Message) -> dict:
    """A chat.message frame's fields: the message, and `previous`, the id of its room's
    message before it (None for the first).

    A page that has not got `previous` missed a push: a channel layer past its
    capacity drops messages (they are stored), so the page catches up from its cursor
    instead of showing this one after a hole.
    """
    earlier = Message.objects.filter(room_id=message.room_id, id__lt=message.id)
    previous = earlier.order_by("-id").values_list("id", flat=True).first()
    return {"message": message.as_frame(), "previous": previous}


def publish(message: Message) -> None:
    """Push a stored message to its room after the commit: a browser never shows a
    message that a reload would not find."""
    transaction.on_commit(
        lambda: broadcast_from_sync(message.room.group_name, "chat.message", **push_fields(message))
    )


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
    """Store a message from the server and push it to the room, from any sync code."""
    message = Message.objects.create(room=room, author=None, text=text, system=True)
    publish(message)
    return message


def _check_moderator(user) -> None:
    """Staff only, read from the database for every request (not the socket's cached user)."""
    User = get_user_model()
    if not User.objects.filter(pk=user.pk, is_staff=True, is_active=True).exists():
        raise ModerationError("forbidden", "Only staff can moderate rooms.")


def remove_member(room: Room, username: str, moderator) -> None:
    """Remove a user from the room: their sockets in it close, in every server process,
    and they cannot open it again."""
    _check_moderator(moderator)
    member = get_user_model().objects.filter(username=username).first()
    if member is None:
        raise ModerationError("not_found", f"No user {username!r}.")
    if member.pk == moderator.pk:
        raise ModerationError("refused", "You cannot remove yourself.")
    room.removed.add(member)
    post_system_message(room, f"{member.username} was removed from #{room.slug} by a moderator.")
    # A typed event to the whole room: each consumer runs chat_force_disconnect() and
    # closes if it is that member's. Sockets of theirs in other rooms stay open.
    event = {"type": "chat.force_disconnect", "user_id": member.pk, "code": REMOVED}
    transaction.on_commit(lambda: send_event_from_sync(room.group_name, event))


def delete_message(room: Room, message_id: int, moderator) -> None:
    """Delete a message of the room; every open page removes it at once, and a page
    that was away removes it when it resumes (deleted_since)."""
    _check_moderator(moderator)
    with transaction.atomic():
        # Fresh and locked: one deletion at a time per room, each seeing the last.
        room = Room.objects.select_for_update().get(pk=room.pk)
        deleted, _ = room.messages.filter(pk=message_id).delete()
        if not deleted:
            raise ModerationError("not_found", f"No message {message_id} in #{room.slug}.")
        # The highest message id the room has had, deleted ones included.
        newest = room.messages.aggregate(newest=Max("id"))["newest"] or 0
        room.deletions_through = max(newest, message_id, room.deletions_through)
        room.deletions.create(message_id=message_id, newest_id=room.deletions_through)
        _forget_old_deletions(room)
        room.save(update_fields=["deletions_through", "deletions_forgotten_through"])
    transaction.on_commit(
        lambda: broadcast_from_sync(room.group_name, "chat.message_deleted", id=message_id)
    )


def _forget_old_deletions(room: Room) -> None:
    """Keep the room's newest DELETIONS_KEPT deletions; remember how far the rest went."""
    kept = room.deletions.order_by("-id").values_list("id", flat=True)
    oldest_kept = kept[DELETIONS_KEPT - 1 : DELETIONS_KEPT].first()
    if oldest_kept is None:
        return
    forgotten = room.deletions.filter(id__lt=oldest_kept)
    through = forgotten.aggregate(through=Max("newest_id"))["through"]
    if through is not None:
        room.deletions_forgotten_through = max(room.deletions_forgotten_through, through)
        forgotten.delete()


def deleted_since(room: Room, after_id: int) -> list[int] | None:
    """The ids, up to `after_id`, of messages deleted after a page with everything up
    to `after_id` stopped hearing from the room; None if such a deletion may have
    been forgotten (the page then shows the recent messages instead of its own)."""
    if after_id > room.deletions_through:
        return []  # most resumes: nothing was deleted since
    if after_id <= room.deletions_forgotten_through:
        return None
    missed = room.deletions.filter(newest_id__gte=after_id, message_id__lte=after_id)
    return list(missed.values_list("message_id", flat=True))


def presence_changes(group: str, users: dict[int, str]) -> tuple[list[str], list[str], int]:
    """Which of `users` (id -> username) are in the room now and which left, and how
    many people it has: what consumers.announce_presence_changes says."""
    present = presence.present_users(group)  # one query, read once per burst of changes
    joined = sorted(name for user_id, name in users.items() if user_id in present)
    left = sorted(name for user_id, name in users.items() if user_id not in present)
    return joined, left, len(present)


def announce_presence(room: Room) -> None:
    """Tell the room who is in it now (the whole list: browsers replace theirs), and
    the room list its new count. Only for corrections (expired rows): a join or a
    leave is announced as a change (consumers.announce_presence_changes)."""
    members = presence.members(room.group_name)
    broadcast_from_sync(room.group_name, "chat.presence", members=members)
    broadcast_from_sync(LOBBY_GROUP, "chat.room_members", room=room.slug, count=len(members))


def announce_expired_presence(sender, groups: list[str], **kwargs) -> None:
    """Receiver of realtime.signals.presence_expired: re-announce the rooms among `groups`."""
    prefix = ROOM_GROUP_PREFIX
    slugs = [group.removeprefix(prefix) for group in groups if group.startswith(prefix)]
    for room in Room.objects.filter(slug__in=slugs):
        announce_presence(room)


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


def catch_up(room: Room, after_id: int) -> tuple[list[int], list[dict]] | None:
    """What a page with everything up to `after_id` missed, in one call from the
    consumer (most reconnects: one query): the ids of its messages deleted since
    (deleted_since), and the first RESUME_PAGE messages after `after_id`.

    None if it missed too much to catch up: more than RESUME_LIMIT messages, or
    deletions no longer kept. It then gets the recent messages with "replace".
    """
    deleted = deleted_since(room, after_id)
    if deleted is None:
        return None
    first_page = messages_after(room, after_id, RESUME_PAGE)
    if len(first_page) == RESUME_PAGE and missed_too_many(room, after_id):
        return None
    return deleted, first_page


def missed_too_many(room: Room, after_id: int, limit: int = RESUME_LIMIT) -> bool:
    """More than `limit` messages after `after_id`: too many to stream on a reconnect."""
    return room.messages.filter(id__gt=after_id)[: limit + 1].count() > limit


def room_for(slug: str, user) -> Room | None:
    """The room `slug`, or None if there is none or `user` was removed from it."""
    # Two simple queries: together cheaper than one with .exclude(removed=user),
    # whose subquery Django builds anew for every connect; and the removal is read
    # from its table directly (room.removed builds a related manager per call).
    try:
        room = Room.objects.get(slug=slug)
    except Room.DoesNotExist:
        return None
    if Room.removed.through.objects.filter(room=room, user=user).exists():
        return None
    return room
