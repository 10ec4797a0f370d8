"""Who is connected to a group, shared by every server process through the database.

Each open socket is one Presence row; a user counts once however many tabs
they have open. These are plain sync functions: consumers call them through
`database_sync_to_async`, views and commands call them directly. `Changes`,
at the end, is the async part: it tells a group who came and went, one small
frame per burst of changes instead of the whole list per change.

A row counts only while it is fresh: the hub refreshes its sockets' rows, and
disconnect() deletes them. A killed process does neither, so every query here
ignores rows older than REALTIME["PRESENCE_TTL_SECONDS"], and live processes
purge them (purge_expired) and tell the groups' apps (signals.presence_expired),
so the people still there see the dead process's users leave.
"""

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count
from django.utils import timezone

from . import signals
from .db import database_sync_to_async
from .models import Presence

logger = logging.getLogger("realtime")
PURGE_BATCH = 500  # rows deleted per purge at most: each purge is a short transaction


def _cutoff():
    return timezone.now() - timedelta(seconds=settings.REALTIME["PRESENCE_TTL_SECONDS"])


def _fresh():
    return Presence.objects.filter(last_seen__gte=_cutoff())


def enter(group: str, user, socket_id: str) -> bool:
    """Record one socket of `user` in `group` (once per socket and group); True if it
    is the user's first one there."""
    first, _ = enter_and_list(group, user, socket_id)
    return first


def enter_and_list(group: str, user, socket_id: str) -> tuple[bool, list[str]]:
    """enter(), and who is in `group` now (usernames, sorted), in two queries."""
    return enter_many([(group, user, socket_id)])[0]


def enter_many(entries: list[tuple[str, object, str]]) -> list[tuple[bool, list[str]]]:
    """enter_and_list() for several (group, user, socket_id) at once, in two queries:
    one read of who is in their groups, one INSERT of every row.

    Each entry sees the group as it was before it, the entries before it included.
    The lists are read before the rows are written: of two tabs of one user opening
    at once in two processes, both may say "first" (a repeated "joined" is harmless),
    never neither.
    """
    here: dict[str, dict[int, str]] = {group: {} for group, _, _ in entries}
    present = _fresh().filter(group__in=here).values_list("group", "user_id", "user__username")
    for group, user_id, username in present.distinct():
        here[group][user_id] = username
    now = timezone.now()
    rows = [
        Presence(group=group, socket_id=socket_id, user=user, last_seen=now)
        for group, user, socket_id in entries
    ]
    if len(rows) == 1:
        rows[0].save(force_insert=True)  # no transaction around one INSERT
    else:
        Presence.objects.bulk_create(rows)  # one INSERT (and one commit) for all
    results = []
    for group, user, _ in entries:
        members = here[group]
        first = user.pk not in members
        members[user.pk] = user.username
        results.append((first, sorted(members.values())))
    return results


def leave(socket_id: str) -> list[str]:
    """Forget every group this socket was in; return the groups its user has now left entirely."""
    sockets = Presence.objects.filter(socket_id=socket_id)
    rows = list(sockets.values_list("group", "user_id"))
    sockets.delete()
    return [
        group
        for group, user_id in rows
        if not _fresh().filter(group=group, user_id=user_id).exists()
    ]


def refresh(socket_ids: list[str]) -> None:
    """Mark these sockets' rows as alive (the hub calls it while they stay open)."""
    Presence.objects.filter(socket_id__in=socket_ids).update(last_seen=timezone.now())


def members(group: str) -> list[str]:
    """Usernames present in `group`, sorted."""
    names = _fresh().filter(group=group).values_list("user__username", flat=True).distinct()
    return sorted(names)


def present_among(group: str, user_ids: list[int]) -> set[int]:
    """Which of `user_ids` have a fresh row in `group` (the query reads no one else)."""
    rows = _fresh().filter(group=group, user_id__in=user_ids).values_list("user_id", flat=True)
    return set(rows)


def present_users(group: str) -> set[int]:
    """The ids of every user in `group`: who is there and how many, in one query."""
    return set(_fresh().filter(group=group).values_list("user_id", flat=True))


def counts(groups: list[str]) -> dict[str, int]:
    """How many distinct users are in each of `groups` (0 for an empty one)."""
    rows = (
        _fresh()
        .filter(group__in=groups)
        .values("group")
        .annotate(users=Count("user", distinct=True))
    )
    found = {row["group"]: row["users"] for row in rows}
    return {group: found.get(group, 0) for group in groups}


def busiest(prefix: str, limit: int) -> list[tuple[str, int]]:
    """The `limit` groups named `prefix...` with the most users right now, busiest first."""
    rows = (
        _fresh()
        .filter(group__startswith=prefix)
        .values("group")
        .annotate(users=Count("user", distinct=True))
        .order_by("-users", "group")[:limit]
    )
    return [(row["group"], row["users"]) for row in rows]


def purge(limit: int = PURGE_BATCH) -> list[str]:
    """Delete up to `limit` expired rows; return the groups they were in, sorted."""
    cutoff = _cutoff()
    rows = list(Presence.objects.filter(last_seen__lt=cutoff).values_list("id", "group")[:limit])
    # last_seen again: a row its socket refreshed since the read above stays.
    Presence.objects.filter(id__in=[row_id for row_id, _ in rows], last_seen__lt=cutoff).delete()
    return sorted({group for _, group in rows})


def purge_expired() -> None:
    """Purge expired rows and tell the apps which groups changed (the hub calls it).

    The process that purges may have no socket in those groups, so it does not
    announce anything itself: each app's receiver of signals.presence_expired does.
    """
    try:
        groups = purge()
    except DatabaseError as error:  # the next round tries again
        logger.warning("presence purge failed: %s", error)
        return
    if not groups:
        return
    logger.info("presence purged expired rows in %d groups", len(groups))
    for receiver, result in signals.presence_expired.send_robust(sender=Presence, groups=groups):
        if isinstance(result, Exception):
            logger.error("presence_expired receiver %s failed: %r", receiver.__qualname__, result)


class Changes:
    """Tells a group whose presence changed, one announcement per burst (one per process).

    Call `await changes.changed(group, user_id, username)` once a user's first socket
    entered `group` or their last one left it. Whoever finds no announcement of that
    group in flight makes it at once: an idle server adds no delay. Changes that come
    while one is in flight wait for it, and the first of them announces them all,
    so a storm of joins costs a few frames instead of one per join. Each caller
    returns once its change is announced.

    `announce(group, {user_id: username})` is an async function that reads which of
    them are in the group now (in the database thread) and says so (from the event
    loop): it announces the state at that moment, not the event, so changes that
    raced each other across processes still end on what the database holds.

    What it holds is bounded: one pending batch per group with sockets in this
    process, at most one entry per user with a socket there.
    """

    def __init__(self, announce: Callable[[str, dict[int, str]], Awaitable[None]]) -> None:
        self.announce = announce
        self.groups: dict[str, _Pending] = {}

    async def changed(self, group: str, user_id: int, username: str) -> None:
        pending = self.groups.get(group)
        if pending is None:
            pending = self.groups[group] = _Pending()
        batch = pending.batch
        batch[user_id] = username
        try:
            async with pending.lock:
                if batch is pending.batch:  # nobody has announced it yet: this caller does
                    pending.batch = {}
                    await self.announce(group, batch)
        finally:
            idle = not pending.batch and not pending.lock.locked()
            if idle and self.groups.get(group) is pending:
                del self.groups[group]


class _Pending:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()  # one announcement of the group at a time
        self.batch: dict[int, str] = {}  # user id -> username, changed since the last one


async def aenter_and_list(group: str, user, socket_id: str) -> tuple[bool, list[str]]:
    """enter_and_list() from the event loop, the rows written in batches.

    Whoever finds no write in flight in this process writes at once: an idle server
    adds no delay. Sockets that arrive during a write wait for it, and the next write
    takes them all: a connection storm costs one database call (enter_many: two
    queries) per burst instead of one per socket, in the one thread that runs every
    consumer's queries. What waits is bounded by the sockets connecting.
    """
    loop = asyncio.get_running_loop()
    arrivals = _arrivals.get(loop)
    if arrivals is None:
        arrivals = _arrivals[loop] = _Arrivals()
    entered = loop.create_future()
    arrivals.waiting.append(((group, user, socket_id), entered))
    if arrivals.writer is None:
        # A task of its own: a caller cancelled mid-write cannot stop the others' write.
        arrivals.writer = loop.create_task(arrivals.write())
    return await entered


class _Arrivals:
    """One event loop's sockets waiting for their presence rows (aenter_and_list)."""

    def __init__(self) -> None:
        self.waiting: list[tuple[tuple[str, object, str], asyncio.Future]] = []
        self.writer: asyncio.Task | None = None

    async def write(self) -> None:
        try:
            while self.waiting:
                # Not the sockets given up while they waited: their consumers' leave has
                # run already, and would not delete a row written after it.
                batch = [(entry, entered) for entry, entered in self.waiting if not entered.done()]
                self.waiting = []
                if not batch:
                    continue
                try:
                    entries = [entry for entry, _ in batch]
                    results = await database_sync_to_async(enter_many)(entries)
                except Exception as error:  # each socket's connect fails as it would alone
                    results = [error] * len(batch)
                for (_, entered), result in zip(batch, results, strict=True):
                    if entered.done():  # its caller was cancelled
                        continue
                    if isinstance(result, Exception):
                        entered.set_exception(result)
                    else:
                        entered.set_result(result)
        finally:
            self.writer = None


_arrivals: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Arrivals]" = (
    weakref.WeakKeyDictionary()
)
