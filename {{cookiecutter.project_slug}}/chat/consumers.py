"""The chat's WebSocket consumers: the room list (lobby) and one room.

Frames (JSON, {"type": ..., ...}; envelope and validation in realtime/):
  browser -> server   chat.send {text}           chat.typing {}
  server -> browser   chat.history {messages}    chat.message {message}
                      chat.typing {user}         chat.presence {members}
                      chat.rooms {rooms}         chat.room_members {room, count}
                      error {code, message, about}
"""

from typing import Annotated
from uuid import UUID

from channels.db import database_sync_to_async
from pydantic import Field, StringConstraints

from realtime import presence
from realtime.broadcast import broadcast
from realtime.consumers import RealtimeConsumer, handles
from realtime.envelope import Inbound

from .models import MAX_MESSAGE_LENGTH, Room
from .services import LOBBY_GROUP, create_message, lobby_snapshot, messages_after


class SendMessage(Inbound):
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_LENGTH)
    ]
    # Chosen by the browser, so it can resend after a drop without doubling the message.
    nonce: Annotated[UUID | None, Field(strict=False)] = None


class Typing(Inbound):
    pass


class RoomConsumer(RealtimeConsumer):
    """One socket in one room: /ws/chat/<slug>/?after=<last message id the page has>."""

    async def connect(self):
        if not self.user.is_authenticated:
            await self.close()  # before accept(): the handshake is refused
            return
        slug = self.scope["url_route"]["kwargs"]["slug"]
        self.room = await Room.objects.filter(slug=slug).afirst()
        if self.room is None:  # rooms are created by visiting their page
            await self.close()
            return
        # Join the group before reading history: a message stored after this
        # point arrives through the group, one stored before it in the history;
        # the browser drops the few that come both ways (same id). Join before
        # accept(), too: if the channel layer is down, the handshake fails and
        # the browser keeps retrying instead of talking to a deaf socket.
        await self.join(self.room.group_name)
        await self.accept()
        await self.send_history()
        if await self.enter_presence(self.room.group_name):
            await self.announce_presence()

    async def disconnect(self, code):
        if await self.leave_presence():  # the user's last tab in this room closed
            await self.announce_presence()

    @handles("chat.send", SendMessage)
    async def on_send(self, message: SendMessage):
        # Stored first, then broadcast: whoever misses the broadcast finds it on resume.
        # The author comes from the session, never from the frame.
        stored, _ = await database_sync_to_async(create_message)(
            self.room, self.user, message.text, message.nonce
        )
        # A resend of a stored message is broadcast again: its sender saw no echo, so the
        # first broadcast may have failed (Redis restarting); browsers drop ids they have.
        await broadcast(self.room.group_name, "chat.message", message=stored.as_frame())

    @handles("chat.typing", Typing)
    async def on_typing(self, message: Typing):
        await broadcast(self.room.group_name, "chat.typing", user=self.user.username)

    async def send_history(self):
        """Everything after the page's last message id (?after=N), or the recent messages."""
        after = self.query_param("after")
        if after is None or not after.isdigit():
            recent = await database_sync_to_async(self.room.recent_messages)()
            await self.send_frame("chat.history", messages=[m.as_frame() for m in recent])
            return
        cursor = int(after)
        while batch := await database_sync_to_async(messages_after)(self.room, cursor):
            await self.send_frame("chat.history", messages=batch)
            cursor = batch[-1]["id"]

    async def announce_presence(self):
        members = await database_sync_to_async(presence.members)(self.room.group_name)
        await broadcast(self.room.group_name, "chat.presence", members=members)
        await broadcast(LOBBY_GROUP, "chat.room_members", room=self.room.slug, count=len(members))


class LobbyConsumer(RealtimeConsumer):
    """The room list: live member counts of every room. It accepts no inbound frames."""

    async def connect(self):
        if not self.user.is_authenticated:
            await self.close()
            return
        await self.join(LOBBY_GROUP)
        await self.accept()
        await self.send_frame("chat.rooms", rooms=await database_sync_to_async(lobby_snapshot)())
