import asyncio
import logging
import threading
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from realtime import presence
from realtime.consumers import RealtimeConsumer
from realtime.models import Presence

pytestmark = pytest.mark.django_db


def test_a_user_counts_once_however_many_tabs(alice, bob):
    assert presence.enter("room", alice, "tab-1") is True
    assert presence.enter("room", alice, "tab-2") is False
    assert presence.enter("room", bob, "tab-3") is True
    assert presence.members("room") == ["alice", "bob"]
    assert presence.counts(["room", "empty"]) == {"room": 2, "empty": 0}


def test_present_among_reads_only_the_group_asked_about(alice, bob):
    presence.enter("other", alice, "tab-1")
    presence.enter("room", bob, "tab-2")
    assert presence.present_among("room", [alice.pk, bob.pk]) == {bob.pk}


def test_present_users_names_everyone_in_the_group_once(alice, bob, django_user_model):
    carol = django_user_model.objects.create_user("carol")
    presence.enter("room", alice, "tab-1")
    presence.enter("room", alice, "tab-2")  # a second tab, the same user
    presence.enter("room", bob, "tab-3")
    presence.enter("other", carol, "tab-4")
    assert presence.present_users("room") == {alice.pk, bob.pk}
    assert presence.present_users("empty") == set()


def test_the_busiest_groups_count_users_not_tabs_and_break_ties_by_name(
    alice, bob, django_user_model
):
    carol = django_user_model.objects.create_user("carol")
    for tab in ("tab-1", "tab-2", "tab-3"):
        presence.enter("chat.a", alice, tab)  # one user, three tabs
    presence.enter("chat.c", bob, "tab-4")
    presence.enter("chat.b", carol, "tab-5")
    presence.enter("chat.d", bob, "tab-6")
    presence.enter("chat.d", carol, "tab-7")
    assert presence.busiest("chat.", 3) == [("chat.d", 2), ("chat.a", 1), ("chat.b", 1)]


def test_leaving_reports_only_groups_the_user_left_entirely(alice, bob):
    presence.enter("room", alice, "tab-1")
    presence.enter("room", alice, "tab-2")
    presence.enter("other", alice, "tab-2")
    presence.enter("room", bob, "bob-1")
    assert presence.leave("tab-2") == ["other"]  # still in "room" through tab-1
    assert presence.leave("tab-1") == ["room"]  # left, though bob is still there
    assert presence.members("room") == ["bob"]


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


def test_purge_keeps_a_row_its_socket_refreshed_after_the_purge_read_it(alice, settings):
    presence.enter("room", alice, "tab-1")
    stale = timezone.now() - timedelta(seconds=settings.REALTIME["PRESENCE_TTL_SECONDS"] + 1)
    Presence.objects.update(last_seen=stale)
    refreshed = []

    def refresh_after_the_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("SELECT") and not refreshed:
            refreshed.append(sql)
            presence.refresh(["tab-1"])  # the hub of the socket's process, meanwhile
        return result

    with connection.execute_wrapper(refresh_after_the_read):
        assert presence.purge() == ["room"]  # read as expired...
    assert presence.members("room") == ["alice"]  # ...but not deleted once refreshed


def test_purge_expired_logs_what_it_purged_and_each_receiver_that_failed(alice, settings, caplog):
    from realtime.signals import presence_expired

    caplog.set_level(logging.INFO, logger="realtime")
    presence.enter("room", alice, "dead")
    stale = timezone.now() - timedelta(seconds=settings.REALTIME["PRESENCE_TTL_SECONDS"] + 1)
    Presence.objects.update(last_seen=stale)
    told = []

    def broken(sender, groups, **kwargs):
        raise RuntimeError("a bug in an app")

    def receiver(sender, groups, **kwargs):
        told.append(groups)

    presence_expired.connect(broken)
    presence_expired.connect(receiver)
    try:
        presence.purge_expired()
    finally:
        presence_expired.disconnect(broken)
        presence_expired.disconnect(receiver)
    assert told == [["room"]]  # the other apps are still told
    assert "presence purged expired rows in 1 groups" in caplog.messages
    failed = (
        f"presence_expired receiver {broken.__qualname__} failed: RuntimeError('a bug in an app')"
    )
    assert failed in caplog.messages


def test_a_failed_purge_is_logged_and_left_to_the_next_round(monkeypatch, caplog):
    def locked(limit=presence.PURGE_BATCH):
        raise OperationalError("database is locked")

    monkeypatch.setattr(presence, "purge", locked)
    presence.purge_expired()  # raises nothing: the hub calls it again later
    assert "presence purge failed: database is locked" in caplog.messages


@pytest.mark.asyncio
async def test_changes_that_come_while_one_is_announced_are_announced_together():
    """An idle group is told at once; changes made meanwhile wait and go out as one."""
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


@pytest.mark.asyncio
async def test_a_group_has_one_announcement_in_flight_at_a_time():
    """A change that comes while the second of two announcements goes out waits for it
    too, instead of starting a third beside it (announcements racing each other could
    end on an older state)."""
    announced, gates, started = [], [], asyncio.Queue()
    in_flight = most_in_flight = 0

    async def announce(group, users):
        nonlocal in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        announced.append(dict(users))
        gate = asyncio.Event()
        gates.append(gate)
        started.put_nowait(None)
        await asyncio.wait_for(gate.wait(), 10)
        in_flight -= 1

    changes = presence.Changes(announce)
    first = asyncio.create_task(changes.changed("room", 1, "alice"))
    await asyncio.wait_for(started.get(), 10)
    second = asyncio.create_task(changes.changed("room", 2, "bob"))  # waits for alice's
    await asyncio.sleep(0)
    gates[0].set()
    await asyncio.wait_for(first, 10)
    await asyncio.wait_for(started.get(), 10)  # bob's announcement is going out...
    third = asyncio.create_task(changes.changed("room", 3, "carol"))  # ...when carol comes
    await asyncio.sleep(0)
    assert most_in_flight == 1
    gates[1].set()
    await asyncio.wait_for(started.get(), 10)
    gates[2].set()
    await asyncio.wait_for(asyncio.gather(second, third), 10)
    assert announced == [{1: "alice"}, {2: "bob"}, {3: "carol"}]
    assert most_in_flight == 1
    assert changes.groups == {}


def test_entering_several_sockets_at_once_lists_each_as_it_came(alice, bob):
    presence.enter("room", bob, "bob-1")
    results = presence.enter_many(
        [("room", alice, "tab-1"), ("room", alice, "tab-2"), ("other", bob, "tab-3")]
    )
    assert results == [(True, ["alice", "bob"]), (False, ["alice", "bob"]), (True, ["bob"])]
    assert presence.members("room") == ["alice", "bob"]
    assert Presence.objects.filter(user=alice).count() == 2


class HeldWrites:
    """presence.enter_many held in the database thread until `finish` is set; `writes`
    lists each call's socket ids."""

    def __init__(self, monkeypatch) -> None:
        self.writes, self.writing, self.finish = [], threading.Event(), threading.Event()
        enter_many = presence.enter_many

        def held_enter_many(entries):
            self.writes.append([socket_id for _, _, socket_id in entries])
            self.writing.set()
            assert self.finish.wait(10)  # the write is still in the database thread...
            return enter_many(entries)

        monkeypatch.setattr(presence, "enter_many", held_enter_many)

    async def started(self) -> None:
        while not self.writing.is_set():
            await asyncio.sleep(0.01)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_sockets_arriving_during_a_presence_write_are_written_together_next(
    alice, bob, monkeypatch
):
    """A connection storm: one database call per burst, not one per socket; a socket
    arriving when nothing is being written is written at once."""
    held = HeldWrites(monkeypatch)
    first = asyncio.create_task(presence.aenter_and_list("room", alice, "tab-1"))
    await held.started()
    assert held.writes == [["tab-1"]]  # not waiting for company
    later = [  # ...when three more sockets connect
        asyncio.create_task(presence.aenter_and_list("room", user, f"tab-{n}"))
        for n, user in ((2, alice), (3, bob), (4, bob))
    ]
    await asyncio.sleep(0)
    held.finish.set()
    results = await asyncio.gather(first, *later)
    assert held.writes == [["tab-1"], ["tab-2", "tab-3", "tab-4"]]
    assert results == [
        (True, ["alice"]),
        (False, ["alice"]),
        (True, ["alice", "bob"]),
        (False, ["alice", "bob"]),
    ]
    assert await presence.aenter_and_list("room", bob, "tab-5") == (False, ["alice", "bob"])
    assert held.writes[-1] == ["tab-5"]  # the writer was done: the next socket is written at once


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_every_socket_of_a_burst_of_two_is_written(alice, bob, monkeypatch):
    """Two sockets arriving during a write go out in one INSERT of both rows: each user
    is in the group for everyone else, not only in the list their own socket got."""
    held = HeldWrites(monkeypatch)
    first = asyncio.create_task(presence.aenter_and_list("room", alice, "tab-1"))
    await held.started()
    later = [
        asyncio.create_task(presence.aenter_and_list("other", alice, "tab-2")),
        asyncio.create_task(presence.aenter_and_list("other", bob, "tab-3")),
    ]
    await asyncio.sleep(0)
    held.finish.set()
    await asyncio.wait_for(asyncio.gather(first, *later), 10)
    assert held.writes == [["tab-1"], ["tab-2", "tab-3"]]
    assert await database_sync_to_async(presence.members)("other") == ["alice", "bob"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_socket_given_up_while_waiting_does_not_hold_up_the_rest_of_its_burst(
    alice, bob, monkeypatch
):
    """Nor is it written: its consumer's leave_presence() has already run (and found no
    row), so its row would show its user present until the purge, PRESENCE_TTL later."""
    held = HeldWrites(monkeypatch)
    first = asyncio.create_task(presence.aenter_and_list("room", alice, "tab-1"))
    await held.started()
    gone = asyncio.create_task(presence.aenter_and_list("room", alice, "tab-2"))
    stays = asyncio.create_task(presence.aenter_and_list("room", bob, "tab-3"))
    await asyncio.sleep(0)
    gone.cancel()  # its connect was cancelled (the client left) while it waited
    held.finish.set()
    results = await asyncio.wait_for(asyncio.gather(first, stays), 10)
    assert results == [(True, ["alice"]), (True, ["alice", "bob"])]
    assert held.writes == [["tab-1"], ["tab-3"]]
    assert not await Presence.objects.filter(socket_id="tab-2").aexists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_socket_given_up_during_its_bursts_write_does_not_hold_up_the_rest(
    alice, bob, monkeypatch
):
    """Its row is written all the same (the write was under way): its consumer's
    leave_presence(), queued behind the write in the database thread, deletes it."""
    writes, writing, permits = [], threading.Event(), threading.Semaphore(0)
    enter_many = presence.enter_many

    def one_write_per_permit(entries):
        writes.append([socket_id for _, _, socket_id in entries])
        writing.set()
        assert permits.acquire(timeout=10)
        return enter_many(entries)

    async def write_started():
        while not writing.is_set():
            await asyncio.sleep(0.01)
        writing.clear()

    monkeypatch.setattr(presence, "enter_many", one_write_per_permit)
    first = asyncio.create_task(presence.aenter_and_list("room", alice, "tab-1"))
    await write_started()
    burst = [
        asyncio.create_task(presence.aenter_and_list("room", user, socket_id))
        for user, socket_id in ((alice, "tab-2"), (bob, "tab-3"), (bob, "tab-4"))
    ]
    permits.release()  # the first write ends; the burst's starts
    await write_started()
    burst[1].cancel()  # tab-3's client left while its row was being written
    await asyncio.sleep(0)
    permits.release()
    results = await asyncio.wait_for(asyncio.gather(first, burst[0], burst[2]), 10)
    assert results == [(True, ["alice"]), (False, ["alice"]), (False, ["alice", "bob"])]
    assert writes == [["tab-1"], ["tab-2", "tab-3", "tab-4"]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_failed_presence_write_fails_each_socket_of_its_burst(alice, bob, monkeypatch):
    def failing(entries):
        raise OperationalError("database is locked")

    monkeypatch.setattr(presence, "enter_many", failing)
    results = await asyncio.gather(
        presence.aenter_and_list("room", alice, "tab-1"),
        presence.aenter_and_list("room", bob, "tab-2"),
        return_exceptions=True,
    )
    assert [type(result) for result in results] == [OperationalError, OperationalError]
    monkeypatch.undo()  # the database is back: the next socket enters
    assert await presence.aenter_and_list("room", bob, "tab-3") == (True, ["bob"])


class Present(RealtimeConsumer):
    """A consumer that counts its user as present in "room" while it is open."""

    async def connect(self):
        first, _ = await self.enter_presence_and_list("room")
        await self.accept()
        await self.send_frame("entered", first=first)

    async def disconnect(self, code):
        await self.leave_presence()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_consumer_entering_presence_learns_whether_its_user_just_arrived(alice, bob):
    sockets, firsts = [], []
    for user in (alice, alice, bob):
        socket = WebsocketCommunicator(Present.as_asgi(), "/")
        socket.scope["user"] = user
        assert (await socket.connect())[0]
        sockets.append(socket)
        firsts.append((await socket.receive_json_from())["first"])
    assert firsts == [True, False, True]  # alice's second tab is not news
    assert await database_sync_to_async(presence.members)("room") == ["alice", "bob"]
    for socket in sockets:
        await socket.disconnect()
    assert await database_sync_to_async(presence.members)("room") == []


def test_the_presence_admin_lists_connections_and_changes_none(client, django_user_model, alice):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw"))
    presence.enter("chat.lobby", alice, "tab-1")
    row = Presence.objects.get()
    assert "tab-1" in client.get(reverse("admin:realtime_presence_changelist")).text
    assert client.get(reverse("admin:realtime_presence_add")).status_code == 403
    form = {"group": "chat.other", "socket_id": "tab-1", "user": alice.pk}
    form |= {"last_seen_0": "2026-01-01", "last_seen_1": "00:00"}
    response = client.post(reverse("admin:realtime_presence_change", args=[row.pk]), form)
    assert response.status_code == 403
    assert Presence.objects.get().group == "chat.lobby"
