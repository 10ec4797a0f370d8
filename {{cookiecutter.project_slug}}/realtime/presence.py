"""Who is connected to a group, shared by every server process through the database.

Each open socket is one Presence row; a user counts once however many tabs
they have open. These are plain sync functions: consumers call them through
`database_sync_to_async`, views and commands call them directly.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from .models import Presence


def _fresh():
    ttl = timedelta(seconds=settings.REALTIME["PRESENCE_TTL_SECONDS"])
    return Presence.objects.filter(last_seen__gte=timezone.now() - ttl)


def enter(group: str, user, socket_id: str) -> bool:
    """Record one socket of `user` in `group`; True if it is the user's first one there."""
    already_here = _fresh().filter(group=group, user=user).exists()
    Presence.objects.update_or_create(
        group=group,
        socket_id=socket_id,
        defaults={"user": user, "last_seen": timezone.now()},
    )
    return not already_here


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
