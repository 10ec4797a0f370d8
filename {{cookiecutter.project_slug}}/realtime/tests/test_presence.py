from datetime import timedelta

import pytest
from django.utils import timezone

from realtime import presence
from realtime.models import Presence

pytestmark = pytest.mark.django_db


def test_a_user_counts_once_however_many_tabs(alice, bob):
    assert presence.enter("room", alice, "tab-1") is True
    assert presence.enter("room", alice, "tab-2") is False
    assert presence.enter("room", bob, "tab-3") is True
    assert presence.members("room") == ["alice", "bob"]
    assert presence.counts(["room", "empty"]) == {"room": 2, "empty": 0}


def test_leaving_reports_only_groups_the_user_left_entirely(alice):
    presence.enter("room", alice, "tab-1")
    presence.enter("room", alice, "tab-2")
    presence.enter("other", alice, "tab-2")
    assert presence.leave("tab-2") == ["other"]  # still in "room" through tab-1
    assert presence.leave("tab-1") == ["room"]
    assert presence.members("room") == []


def test_rows_not_refreshed_within_the_ttl_stop_counting(alice, settings):
    presence.enter("room", alice, "tab-1")
    stale = timezone.now() - timedelta(seconds=settings.REALTIME["PRESENCE_TTL_SECONDS"] + 1)
    Presence.objects.update(last_seen=stale)
    assert presence.members("room") == []
    presence.refresh(["tab-1"])
    assert presence.members("room") == ["alice"]


def test_purge_deletes_expired_rows_a_batch_at_a_time_and_names_their_groups(alice, bob, settings):
    presence.enter("room", alice, "dead-1")
    presence.enter("other", alice, "dead-2")
    presence.enter("third", bob, "dead-3")
    presence.enter("room", bob, "alive")
    stale = timezone.now() - timedelta(seconds=settings.REALTIME["PRESENCE_TTL_SECONDS"] + 1)
    Presence.objects.exclude(socket_id="alive").update(last_seen=stale)

    first = presence.purge(limit=2)
    assert len(first) == 2 and Presence.objects.count() == 2  # bounded: two rows this time
    assert presence.purge(limit=2) == sorted({"room", "other", "third"} - set(first))
    assert presence.purge(limit=2) == []
    assert list(Presence.objects.values_list("socket_id", flat=True)) == ["alive"]


def test_purge_expired_tells_the_apps_which_groups_changed(alice, settings):
    from realtime.signals import presence_expired

    presence.enter("room", alice, "dead")
    stale = timezone.now() - timedelta(seconds=settings.REALTIME["PRESENCE_TTL_SECONDS"] + 1)
    Presence.objects.update(last_seen=stale)
    told = []

    def receiver(sender, groups, **kwargs):
        told.append(groups)

    presence_expired.connect(receiver)
    try:
        presence.purge_expired()
        presence.purge_expired()  # nothing left: nobody is told again
    finally:
        presence_expired.disconnect(receiver)
    assert told == [["room"]]


@pytest.mark.asyncio
async def test_changes_that_come_while_one_is_announced_are_announced_together():
    """An idle group is told at once; changes made meanwhile wait and go out as one."""
    import asyncio

    announced = []
    in_flight, finish = asyncio.Event(), asyncio.Event()

    async def announce(group, users):
        announced.append((group, dict(users)))
        in_flight.set()
        await asyncio.wait_for(finish.wait(), 10)  # the first announcement is still going out...

    changes = presence.Changes(announce)
    first = asyncio.create_task(changes.changed("room", 1, "alice"))
    await asyncio.wait_for(in_flight.wait(), 10)
    later = [  # ...when two more people come in
        asyncio.create_task(changes.changed("room", 2, "bob")),
        asyncio.create_task(changes.changed("room", 3, "carol")),
    ]
    await asyncio.sleep(0)  # both are waiting for the first announcement
    finish.set()
    await asyncio.gather(first, *later)
    assert announced == [("room", {1: "alice"}), ("room", {2: "bob", 3: "carol"})]
    assert changes.groups == {}  # nothing kept once everything is announced
