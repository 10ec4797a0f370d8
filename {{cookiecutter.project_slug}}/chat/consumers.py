"""The chat's WebSocket consumers: the room list (lobby) and one room.

Frames are JSON, {"type": ..., ...} (envelope and validation in realtime/): each
consumer's @handles methods take the browser's, its `sends` lists its own, and
docs/asyncapi.json (`make protocol`) documents both.
Typed events (channel layer -> consumers): chat.force_disconnect {user_id, code}

Presence: the first frame after connect is chat.presence {members}, every username
in the room now, sorted (a user with several tabs is listed once). After it come
only changes, chat.presence_changed {joined: [usernames], left: [usernames]}: one
small frame per change, or per burst of changes under load (a username is in one
list at most; apply them in order). So N people joining cost each member N small
frames, not N lists of up to N names. A chat.presence may come again later, and
replaces the list: after a server process died, its users' rows expire and the
room is told who is still there.
"""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field, StringConstraints

from realtime import presence
from realtime.broadcast import broadcast
from realtime.consumers import RealtimeConsumer, handles
from realtime.db import database_sync_to_async
from realtime.envelope import Inbound, Outbound, ProtocolError

from . import services
from .models import MAX_MESSAGE_LENGTH, ROOM_GROUP_PREFIX
from .services import (
    LOBBY_GROUP,
    REMOVED,
    RESUME_PAGE,
    catch_up,
    lobby_snapshot,
    messages_after,
)


async def announce_presence_changes(group: str, users: dict[int, str]) -> None:
    """Tell the room which of `users` (id -> username) are in it now and which left,
    and the room list its new count. Read in the database thread, pushed from the
    event loop: that thread, every consumer's, never waits for Redis."""
    joined, left, count = await database_sync_to_async(services.presence_changes)(group, users)
    await broadcast(group, "chat.presence_changed", joined=joined, left=left)
    room = group.removeprefix(ROOM_GROUP_PREFIX)
    await broadcast(LOBBY_GROUP, "chat.room_members", room=room, count=count)


# This process's announcer of who came and went, for every room (one burst, one frame).
presence_changes = presence.Changes(announce_presence_changes)


class SendMessage(Inbound):
    """A message to the room; its author is the session's user."""

    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_LENGTH)
    ]
    # Chosen by the browser, so it can resend after a drop without doubling the message.
    nonce: Annotated[UUID | None, Field(strict=False)] = None


class Typing(Inbound):
    """The user is typing (the others see it for a few seconds)."""


class DeleteMessage(Inbound):
    """Staff only: delete a message of this room."""

    id: Annotated[int, Field(gt=0, lt=2**63)]


class RemoveMember(Inbound):
    """Staff only: close the user's sockets in this room and keep them out of it."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=150)]


class ChatMessage(Outbound):
    """A stored message (Message.as_frame)."""

    id: int
    author: str | None  # None for a message from the server (system: true)
    system: bool
    text: str
    nonce: UUID | None  # the sender's, to recognise its own message
    created_at: datetime


class RoomCount(Outbound):
    room: str  # the room's slug
    count: int  # users in it now


class RoomConsumer(RealtimeConsumer):
    """One socket in one room: /ws/chat/<slug>/?after=<last message id the page has>.

    Without `after` it first sends the recent messages; with it, everything newer in
    chat.history frames of up to 100 messages, the last one shorter (empty if nothing
    was newer). A page that missed more than 500 gets the recent ones with "replace".
    """

    sends = {
        "chat.history": {"messages": list[ChatMessage], "replace": bool},
        # previous: the id of the room's message before this one (None for the first);
        # a page without it missed a push and catches up from its cursor.
        "chat.message": {"message": ChatMessage, "previous": int | None},
        "chat.typing": {"user": str},
        "chat.presence": {"members": list[str]},
        "chat.presence_changed": {"joined": list[str], "left": list[str]},
        "chat.message_deleted": {"id": int},
    }
    closes = {REMOVED: "removed from this room by a moderator: do not reconnect"}

    async def connect(self):
        slug = self.scope["url_route"]["kwargs"]["slug"]
        # A room this user was removed from is, for them, a room that does not exist.
        # (Both the query and building it run in the database thread, off the event loop.)
        self.room = await database_sync_to_async(services.room_for)(slug, self.user)
        if self.room is None:  # rooms are created by a POST (views.open_room), never here
            await self.close()
            return
        # Join the group before reading history: a message stored after this
        # point arrives through the group, one stored before it in the history;
        # the browser drops the few that come both ways (same id).
        await self.join(self.room.group_name)
        await self.accept()
        # The members first, then history; changes from the group wait until both
        # are sent (RealtimeConsumer holds them), so the browser applies them to this list.
        first, members = await self.enter_presence_and_list(self.room.group_name)
        await self.send_frame("chat.presence", members=members)
        await self.send_history()
        if first:
            await self.presence_changed()

    async def disconnect(self, code):
        if await self.leave_presence():  # the user's last tab in this room closed
            await self.presence_changed()

    @handles("chat.send", SendMessage)
    async def on_send(self, message: SendMessage):
        # Stored (once per nonce) before it is pushed; the author is the session's,
        # never the frame's. Pushed from here, not from the database thread: every
        # consumer's queries share that one thread, which would wait for Redis too.
        fields = await database_sync_to_async(services.store_for_push)(
            self.room, self.user, message.text, message.nonce
        )
        await broadcast(self.room.group_name, "chat.message", **fields)

    @handles("chat.typing", Typing)
    async def on_typing(self, message: Typing):
        await broadcast(self.room.group_name, "chat.typing", user=self.user.username)

    @handles("chat.delete_message", DeleteMessage)
    async def on_delete_message(self, message: DeleteMessage):
        await self.moderate(services.delete_message, self.room, message.id, self.user)

    @handles("chat.remove_member", RemoveMember)
    async def on_remove_member(self, message: RemoveMember):
        await self.moderate(services.remove_member, self.room, message.username, self.user)

    async def moderate(self, action, *args):
        """Run a moderation service; it checks the user is staff, for every request."""
        try:
            await database_sync_to_async(action)(*args)
        except services.ModerationError as error:
            raise ProtocolError(error.code, str(error)) from None

    async def chat_force_disconnect(self, event):
        """A typed event to the whole room (services.remove_member): each consumer
        in it gets it, and the removed member's close."""
        if event["user_id"] == self.user.pk:
            await self.close(code=event["code"])

    async def send_history(self):
        """Everything after the page's last message id (?after=N), or the recent messages.

        A page that missed more than RESUME_LIMIT messages, or deletions no longer kept
        (services.catch_up), gets the recent ones with "replace": true instead: it
        shows them in place of its own, as a reload would.
        """
        cursor = self.id_param("after")
        if cursor is not None:
            missed = await database_sync_to_async(catch_up)(self.room, cursor)
            if missed is not None:
                deleted, batch = missed
                # Messages it shows that a moderator deleted while it was away.
                for message_id in deleted:
                    await self.send_frame("chat.message_deleted", id=message_id)
                # Pages of up to RESUME_PAGE; the last one is shorter, empty if nothing
                # was newer, so a page always learns that it has caught up.
                while True:
                    await self.send_frame("chat.history", messages=batch, replace=False)
                    if len(batch) < RESUME_PAGE:
                        return
                    batch = await database_sync_to_async(messages_after)(
                        self.room, batch[-1]["id"], RESUME_PAGE
                    )
        recent = await database_sync_to_async(self.room.recent_messages)()
        await self.send_frame(
            "chat.history", messages=[m.as_frame() for m in recent], replace=cursor is not None
        )

    async def presence_changed(self):
        await presence_changes.changed(self.room.group_name, self.user.pk, self.user.username)


class LobbyConsumer(RealtimeConsumer):
    """The room list: live member counts of every room. It accepts no inbound frames."""

    sends = {
        "chat.rooms": {"rooms": list[RoomCount]},  # the busiest rooms, at most 50
        "chat.room_members": {"room": str, "count": int},
    }

    async def connect(self):
        await self.join(LOBBY_GROUP)
        await self.accept()
        await self.send_frame("chat.rooms", rooms=await database_sync_to_async(lobby_snapshot)())
