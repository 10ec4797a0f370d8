"""Notifications over WebSockets (or Server-Sent Events where WebSockets cannot get
through), and the background worker that fans announcements out.

Frames: the consumer's @handles methods take the browser's, its `sends` lists its own,
and docs/asyncapi.json (`make protocol`) documents both.
Channel messages: notifications.announce (a job for the worker, on FANOUT_CHANNEL),
notifications.announced (the worker's answer, on the announcing consumer's own channel).
"""

import json
from datetime import datetime
from typing import Annotated, Literal

from channels.consumer import AsyncConsumer
from django.contrib.auth import get_user_model
from pydantic import Field, StringConstraints

from realtime.consumers import RealtimeConsumer, handles, parse_id
from realtime.db import database_sync_to_async
from realtime.envelope import Inbound, Outbound, ProtocolError, RowId
from realtime.streams import EventStreamConsumer

from . import services
from .models import Notification


class MarkRead(Inbound):
    """Mark these notifications of the user read (ids that are not theirs match nothing)."""

    ids: Annotated[list[RowId], Field(min_length=1, max_length=100)]


class MarkAllRead(Inbound):
    """Mark every notification of the user read."""


class Announce(Inbound):
    """Staff only: a notification to every user, sent by the background worker."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class NotificationView(Outbound):
    """A notification (Notification.as_frame); an announcement's has no id of its own."""

    id: int | None
    title: str
    body: str
    link: str
    level: Literal[tuple(Notification.Level.values)]
    announcement: str | None  # the announcement's id: tabs drop copies they have
    created_at: datetime
    read: bool


class NotificationConsumer(RealtimeConsumer):
    """/ws/notifications/?after=<newest id the tab has>: the signed-in user's notifications only.

    There is no user id in the URL: the group comes from the session, so no
    client can listen to anyone else's notifications. notifications.state comes first,
    on every connect, with what was created after `after` in `missed` (the newest 50,
    with "replace", when the tab missed more).
    """

    sends = {
        # replace: `missed` is only the newest of more, shown instead of the tab's list.
        "notifications.state": {
            "unread": int,
            "latest_id": int,
            "missed": list[NotificationView],
            "replace": bool,
        },
        "notifications.new": {"notification": NotificationView},
        "notifications.read": {"ids": list[int] | None, "unread": int},  # ids None: all of them
        "notifications.announced": {"title": str, "recipients": int},  # to the announcer only
    }

    async def connect(self):
        # Join before reading, so nothing created in between is missed.
        await self.join(services.user_group(self.user.pk))
        await self.join(services.EVERYONE_GROUP)
        await self.accept()
        await self.send_state()

    async def send_state(self):
        """The unread count, and everything created after the tab's cursor (on reconnect)."""
        state = await database_sync_to_async(services.state)(self.user, self.id_param("after"))
        await self.send_frame("notifications.state", **state)

    @handles("notifications.mark_read", MarkRead)
    async def on_mark_read(self, message: MarkRead):
        await database_sync_to_async(services.mark_read)(self.user, list(message.ids))

    @handles("notifications.mark_all_read", MarkAllRead)
    async def on_mark_all_read(self, message: MarkAllRead):
        await database_sync_to_async(services.mark_read)(self.user)

    @handles("notifications.announce", Announce)
    async def on_announce(self, message: Announce):
        # Staff only, read from the database for every request. The worker answers
        # this socket alone, on its own channel (self.channel_name).
        staff = get_user_model().objects.filter(pk=self.user.pk, is_staff=True, is_active=True)
        if not await staff.aexists():
            raise ProtocolError("forbidden", "Only staff can announce.")
        await database_sync_to_async(services.announce)(
            message.title, message.body, reply_channel=self.channel_name
        )

    async def notifications_announced(self, event):
        """The worker's answer, sent with channel_layer.send to this consumer's channel."""
        await self.send_frame(
            "notifications.announced", title=event["title"], recipients=event["recipients"]
        )


class NotificationStreamConsumer(EventStreamConsumer):
    """/notifications/stream/?after=<newest id the tab has>: the same frames as the
    socket, as Server-Sent Events, for a tab whose WebSocket cannot connect
    (realtime/streams.py). Only the signed-in user's notifications, as on the socket.

    Each frame that carries a notification id is sent with it as the event id, so
    the browser's automatic reconnect (Last-Event-ID) resumes where it was.
    """

    frames_of = NotificationConsumer

    async def connect(self):
        # Join before reading, so nothing created in between is missed.
        await self.join(services.user_group(self.user.pk))
        await self.join(services.EVERYONE_GROUP)
        await self.accept()
        # A reconnecting EventSource's Last-Event-ID is newer than the URL's ?after=.
        after = self.last_event_id()
        if after is None:
            after = parse_id(self.query_param("after"))
        state = await database_sync_to_async(services.state)(self.user, after)
        await self.send_frame("notifications.state", event_id=state["latest_id"], **state)

    def event_id(self, text: str) -> int | None:
        frame = json.loads(text)
        if frame["type"] == "notifications.new":
            return frame["notification"].get("id")  # None for an announcement to everyone
        return None


class AnnouncementWorker(AsyncConsumer):
    """Runs in `manage.py runworker notifications-fanout`, outside the web processes,
    so a request that announces to every user returns at once.

    A job is only a wake-up call: the announcements are in the database. Each job
    delivers every pending one, so one whose job was lost goes out with the next.
    """

    async def notifications_announce(self, job):
        await database_sync_to_async(services.deliver_pending)()
