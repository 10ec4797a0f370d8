"""Send notifications from anywhere: views, signals, commands, the admin, async code.

Every function stores first and pushes second, so a user who is offline (or
whose tab is reconnecting) finds the notification on their next page load.
"""

import logging
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from realtime.broadcast import broadcast_from_sync, reaches_other_processes
from realtime.db import database_sync_to_async
from realtime.hub import LAYER_ERRORS

from .models import Announcement, Notification

logger = logging.getLogger("notifications")

EVERYONE_GROUP = "notifications.everyone"  # every connected notifications socket
COPY_BATCH = 1000  # an announcement's per-user copies are written this many at a time
FANOUT_CHANNEL = "notifications-fanout"  # consumed by `manage.py runworker notifications-fanout`


def user_group(user_id: int) -> str:
    """The group of one user's open tabs. Derived from the session, never from the client."""
    return f"notifications.user.{user_id}"


def check_link(link: str) -> str:
    """Only site-relative paths and http(s) URLs: a link is put into an href."""
    parts = urlsplit(link)
    if link and not (
        parts.scheme in ("http", "https") or (link.startswith("/") and not parts.netloc)
    ):
        raise ValueError(f"Notification links must be /paths or http(s) URLs, not {link!r}.")
    return link


def notify(recipient, title: str, body: str = "", link: str = "", level: str = "info"):
    """Store a notification for `recipient`, then push it to all their open tabs (sync code).

    The push waits for the commit, so a tab never shows what a reload would not find.
    """
    notification = Notification.objects.create(
        recipient=recipient, title=title, body=body, link=check_link(link), level=level
    )
    transaction.on_commit(lambda: push(notification))
    return notification


def push(notification: Notification) -> None:
    broadcast_from_sync(
        user_group(notification.recipient_id),
        "notifications.new",
        notification=notification.as_frame(),
    )


async def anotify(recipient, title: str, body: str = "", link: str = "", level: str = "info"):
    """notify() for async code (consumers, async views)."""
    return await database_sync_to_async(notify)(recipient, title, body, link, level)


def announce(
    title: str, body: str = "", link: str = "", level: str = "info", reply_channel: str = ""
) -> bool:
    """Notify every user. Stores the announcement, then returns at once.

    Once the transaction commits, a job wakes the background worker, which stores
    one copy per user and pushes (deliver_pending). The job carries nothing: if it
    is lost (no worker listening), the announcement waits in the database for the
    next job or `manage.py deliver_announcements`. Returns True then. With a
    `reply_channel` (a consumer's channel name), that socket alone is told how many
    users got it once it is delivered (the "notifications.announced" event).

    With the in-memory channel layer no worker can receive the job (it lives in
    another process), so this process fans it out itself once the transaction
    commits. Returns False then.
    """
    Announcement.objects.create(
        title=title, body=body, link=check_link(link), level=level, reply_channel=reply_channel
    )
    if reaches_other_processes():
        transaction.on_commit(wake_the_worker)
        return True
    transaction.on_commit(deliver_pending)
    return False


def wake_the_worker() -> None:
    """Ask the announcements worker to deliver what is pending. The job carries no data."""
    async_to_sync(get_channel_layer().send)(FANOUT_CHANNEL, {"type": "notifications.announce"})


def deliver_pending() -> int:
    """Deliver every pending announcement, oldest first; returns how many.

    Safe to run in several processes at once: each announcement is locked, copied
    to every active user and marked delivered in one transaction, so nobody gets
    it twice.
    """
    delivered = 0
    while deliver_next():
        delivered += 1
    return delivered


def deliver_next() -> bool:
    """Deliver the oldest pending announcement nobody else is delivering; False if none."""
    with transaction.atomic():
        announcement = (
            Announcement.objects.select_for_update(skip_locked=True)  # a no-op on SQLite
            .filter(delivered_at__isnull=True)
            .order_by("id")
            .first()
        )
        if announcement is None:
            return False
        fields = {
            "title": announcement.title,
            "body": announcement.body,
            "link": announcement.link,
            "level": announcement.level,
        }
        users = get_user_model().objects.filter(is_active=True).values_list("pk", flat=True)
        recipients, batch = 0, []
        for pk in users.iterator(chunk_size=COPY_BATCH):  # a batch at a time in memory
            batch.append(Notification(recipient_id=pk, announcement=announcement, **fields))
            if len(batch) == COPY_BATCH:
                recipients += len(Notification.objects.bulk_create(batch))
                batch = []
        recipients += len(Notification.objects.bulk_create(batch))
        announcement.delivered_at = timezone.now()
        announcement.save(update_fields=["delivered_at"])
        transaction.on_commit(lambda: tell_everyone(announcement, recipients))
    return True


def tell_everyone(announcement: Announcement, recipients: int) -> None:
    """Push a delivered announcement to every open tab, and answer whoever asked for it."""
    broadcast_from_sync(EVERYONE_GROUP, "notifications.new", notification=announcement.as_frame())
    if announcement.reply_channel:
        # channel_layer.send to one named channel: only the socket that announced hears
        # it, and its consumer handles it in notifications_announced().
        event = {"type": "notifications.announced", "title": announcement.title}
        try:
            async_to_sync(get_channel_layer().send)(
                announcement.reply_channel, {**event, "recipients": recipients}
            )
        except (*LAYER_ERRORS, ChannelFull) as error:  # it was delivered: only the answer is lost
            logger.warning("could not answer %s: %s", announcement.reply_channel, error)


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


RESUME_LIMIT = 50  # notifications a reconnecting tab is sent at most


def created_after(user, after_id: int) -> tuple[list[dict], bool]:
    """What a tab that has everything up to `after_id` missed, oldest first, and whether
    it missed more than RESUME_LIMIT: then these are the newest ones, to show in place
    of the tab's list (as a reload would), so the tab never shows a gap as if complete."""
    newest = Notification.objects.filter(recipient=user, id__gt=after_id).order_by("-id")
    rows = list(newest[: RESUME_LIMIT + 1])
    more_than_the_limit = len(rows) > RESUME_LIMIT
    return [row.as_frame() for row in reversed(rows[:RESUME_LIMIT])], more_than_the_limit


def state(user, after_id: int | None) -> dict:
    """The "notifications.state" frame's fields: the unread count, the newest id, what
    a tab that has everything up to `after_id` missed (nothing on a first load), and
    "replace" when that is only the newest RESUME_LIMIT of them."""
    missed, replace = created_after(user, after_id) if after_id is not None else ([], False)
    return {
        "unread": unread_count(user),
        "latest_id": latest_id(user),
        "missed": missed,
        "replace": replace,
    }


def latest_id(user) -> int:
    newest = Notification.objects.filter(recipient=user).order_by("-id").first()
    return newest.id if newest else 0


def mark_read(user, ids: list[int] | None = None) -> int:
    """Mark the user's notifications `ids` (all when None) read; tell all their tabs."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(id__in=ids)  # someone else's ids match nothing
    changed = list(unread.values_list("id", flat=True))
    Notification.objects.filter(id__in=changed).update(read_at=timezone.now())
    transaction.on_commit(
        lambda: broadcast_from_sync(
            user_group(user.pk),
            "notifications.read",
            ids=changed if ids is not None else None,
            unread=unread_count(user),
        )
    )
    return len(changed)
