import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import ApplicationCommunicator

from notifications import services
from notifications.consumers import AnnouncementWorker
from notifications.models import Announcement, Notification
from realtime.testing.frames import next_frame as find_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

URL = "/ws/notifications/"
notify = database_sync_to_async(services.notify)
announce = database_sync_to_async(services.announce)


def next_frame(communicator, frame_type: str):
    return find_frame(communicator, frame_type, within=10)


async def test_anonymous_connections_are_refused(ws_connect):
    async with ws_connect(URL, user=None, expect_accept=False):
        pass


async def test_connect_sends_the_unread_count(ws_connect, alice):
    await notify(alice, "one")
    async with ws_connect(URL, alice) as socket:
        state = await next_frame(socket, "notifications.state")
        assert (state["unread"], state["missed"]) == (1, [])


async def test_a_notification_is_stored_then_pushed_to_its_recipient_only(ws_connect, alice, bob):
    async with ws_connect(URL, alice) as alices, ws_connect(URL, bob) as bobs:
        await next_frame(alices, "notifications.state")
        await next_frame(bobs, "notifications.state")
        await notify(bob, "for bob")
        await notify(alice, "for alice")
        frame = await next_frame(alices, "notifications.new")
        assert frame["notification"]["title"] == "for alice"  # bob's never came first
        stored = await Notification.objects.aget(title="for alice")
        assert frame["notification"]["id"] == stored.id
        assert (await next_frame(bobs, "notifications.new"))["notification"]["title"] == "for bob"
        assert await alices.receive_nothing(timeout=0.2)


async def test_the_url_cannot_pick_another_users_stream(ws_connect, alice, bob):
    async with ws_connect(
        f"{URL}?recipient={bob.pk}&group=notifications.user.{bob.pk}", alice
    ) as socket:
        await next_frame(socket, "notifications.state")
        await notify(bob, "private")
        assert await socket.receive_nothing(timeout=0.3)


async def test_mark_read_updates_every_tab_of_the_user(ws_connect, alice, bob):
    first = await notify(alice, "one")
    await notify(alice, "two")
    async with (
        ws_connect(URL, alice) as tab1,
        ws_connect(URL, alice) as tab2,
        ws_connect(URL, bob) as bobs,
    ):
        for socket in (tab1, tab2, bobs):
            await next_frame(socket, "notifications.state")
        await tab1.send_json_to({"type": "notifications.mark_read", "ids": [first.id]})
        for tab in (tab1, tab2):
            frame = await next_frame(tab, "notifications.read")
            assert (frame["ids"], frame["unread"]) == ([first.id], 1)
        await tab2.send_json_to({"type": "notifications.mark_all_read"})
        for tab in (tab1, tab2):
            frame = await next_frame(tab, "notifications.read")
            assert (frame["ids"], frame["unread"]) == (None, 0)
        assert await bobs.receive_nothing(timeout=0.2)


async def test_marking_someone_elses_notification_changes_nothing(ws_connect, alice, bob):
    theirs = await notify(bob, "bob's")
    async with ws_connect(URL, alice) as socket:
        await next_frame(socket, "notifications.state")
        await socket.send_json_to({"type": "notifications.mark_read", "ids": [theirs.id]})
        assert (await next_frame(socket, "notifications.read"))["ids"] == []
    assert (await Notification.objects.aget(pk=theirs.pk)).read_at is None


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "notifications.mark_read", "ids": []},
        {"type": "notifications.mark_read", "ids": ["1"]},
        {"type": "notifications.mark_read", "ids": [0]},
        {"type": "notifications.mark_read", "ids": list(range(1, 200))},
        {"type": "notifications.subscribe", "user": 1},
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(ws_connect, alice, frame):
    async with ws_connect(URL, alice) as socket:
        await next_frame(socket, "notifications.state")
        await socket.send_json_to(frame)
        assert (await next_frame(socket, "error"))["code"] in {"invalid_fields", "unknown_type"}
        await socket.send_json_to({"type": "notifications.mark_all_read"})
        assert (await next_frame(socket, "notifications.read"))["unread"] == 0


async def test_reconnect_gets_what_was_created_meanwhile(ws_connect, alice):
    seen = await notify(alice, "seen")
    async with ws_connect(URL, alice) as socket:
        await next_frame(socket, "notifications.state")
    await notify(alice, "missed 1")
    await notify(alice, "missed 2")
    async with ws_connect(f"{URL}?after={seen.id}", alice) as socket:
        state = await next_frame(socket, "notifications.state")
        assert [n["title"] for n in state["missed"]] == ["missed 1", "missed 2"]
        assert state["unread"] == 3


async def test_a_tab_that_missed_too_many_gets_the_newest_to_show_instead(ws_connect, alice):
    """Past the resume limit the tab gets the newest ones and "replace", never the oldest
    ones as if they were all: its list would skip the rest for good."""
    seen = await notify(alice, "seen")
    for number in range(1, services.RESUME_LIMIT + 3):
        await notify(alice, f"missed {number}")
    async with ws_connect(f"{URL}?after={seen.id}", alice) as socket:
        state = await next_frame(socket, "notifications.state")
    titles = [n["title"] for n in state["missed"]]
    assert titles == [f"missed {n}" for n in range(3, services.RESUME_LIMIT + 3)]
    assert state["replace"] is True
    assert state["unread"] == services.RESUME_LIMIT + 3
    async with ws_connect(f"{URL}?after={state['latest_id'] - 1}", alice) as socket:
        assert (await next_frame(socket, "notifications.state"))["replace"] is False
    async with ws_connect(URL, alice) as socket:  # a first load keeps its rendered list
        assert (await next_frame(socket, "notifications.state"))["replace"] is False


async def test_a_resume_with_nothing_newer_still_gets_the_state(ws_connect, alice):
    """Like chat.history, notifications.state always comes: the tab knows it has caught up."""
    seen = await notify(alice, "seen")
    async with ws_connect(f"{URL}?after={seen.id}", alice) as socket:
        state = await next_frame(socket, "notifications.state")
    assert (state["missed"], state["latest_id"], state["unread"]) == ([], seen.id, 1)


def fanout_worker():
    """What `manage.py runworker notifications-fanout` runs, fed by hand."""
    return ApplicationCommunicator(
        AnnouncementWorker.as_asgi(), {"type": "channel", "channel": services.FANOUT_CHANNEL}
    )


async def test_the_worker_stores_and_pushes_pending_announcements(ws_connect, alice, bob):
    announcement = await Announcement.objects.acreate(title="Hi all")  # stored, not yet sent
    worker = fanout_worker()
    async with ws_connect(URL, alice) as alices, ws_connect(URL, bob) as bobs:
        for socket in (alices, bobs):
            await next_frame(socket, "notifications.state")
        await worker.send_input({"type": "notifications.announce"})
        for socket in (alices, bobs):
            frame = await next_frame(socket, "notifications.new")
            assert frame["notification"]["title"] == "Hi all"
            assert frame["notification"]["announcement"] == str(announcement.id)
    worker.stop()
    assert await Notification.objects.filter(announcement=announcement).acount() == 2
    await announcement.arefresh_from_db()
    assert announcement.delivered_at is not None


async def test_an_announcement_whose_job_was_lost_goes_out_with_the_next_job(
    ws_connect, alice, monkeypatch, settings
):
    # The in-memory layer queues the jobs, so the test can take one away (the Redis
    # pub/sub layer would drop it before this test could).
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    monkeypatch.setattr(services, "reaches_other_processes", lambda: True)  # use the worker
    layer = get_channel_layer()
    worker = fanout_worker()
    async with ws_connect(URL, alice) as socket:
        await next_frame(socket, "notifications.state")
        await announce("First")
        await layer.receive(services.FANOUT_CHANNEL)  # lost: no worker was listening
        await announce("Second")
        await worker.send_input(await layer.receive(services.FANOUT_CHANNEL))
        first = await next_frame(socket, "notifications.new")
        second = await next_frame(socket, "notifications.new")
        assert [first["notification"]["title"], second["notification"]["title"]] == [
            "First",
            "Second",
        ]
        assert await socket.receive_nothing(timeout=0.3)  # each one once
    worker.stop()
    assert await Notification.objects.filter(recipient=alice).acount() == 2
    assert not await Announcement.objects.filter(delivered_at__isnull=True).aexists()


async def test_staff_announce_over_the_socket_and_the_worker_answers_that_socket_only(
    ws_connect, alice, bob, monkeypatch, settings
):
    """channel_layer.send to one named channel: the announcer's own consumer channel."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    monkeypatch.setattr(services, "reaches_other_processes", lambda: True)  # use the worker
    alice.is_staff = True
    await database_sync_to_async(alice.save)()
    worker = fanout_worker()
    async with ws_connect(URL, alice) as staff, ws_connect(URL, bob) as bobs:
        for socket in (staff, bobs):
            await next_frame(socket, "notifications.state")
        await staff.send_json_to({"type": "notifications.announce", "title": "Deploy at 6"})
        await worker.send_input(await get_channel_layer().receive(services.FANOUT_CHANNEL))
        answer = await next_frame(staff, "notifications.announced")
        assert (answer["title"], answer["recipients"]) == ("Deploy at 6", 2)
        pushed = await next_frame(bobs, "notifications.new")
        assert pushed["notification"]["title"] == "Deploy at 6"
        assert await bobs.receive_nothing(timeout=0.2)  # the answer went to alice's socket only
    worker.stop()


async def test_only_staff_can_announce_over_the_socket(ws_connect, alice):
    async with ws_connect(URL, alice) as socket:
        await next_frame(socket, "notifications.state")
        await socket.send_json_to({"type": "notifications.announce", "title": "Hi all"})
        assert (await next_frame(socket, "error"))["code"] == "forbidden"
    assert not await Announcement.objects.aexists()
