import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications import services
from notifications.models import Announcement, Notification
from realtime.signals import notify_user

pytestmark = pytest.mark.django_db

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def in_memory_layer(settings):
    """The layer `make run` uses, whatever REDIS_URL this test run has."""
    settings.CHANNEL_LAYERS = IN_MEMORY


def test_notify_stores_the_notification(alice):
    notification = services.notify(alice, "Hello", body="Body", link="/chat/", level="success")
    stored = Notification.objects.get()
    assert stored == notification
    assert (stored.recipient, stored.title, stored.body, stored.link, stored.level) == (
        alice,
        "Hello",
        "Body",
        "/chat/",
        "success",
    )
    assert stored.read_at is None
    plain = services.notify(alice, "Defaults")
    assert (plain.body, plain.link, plain.level) == ("", "", "info")


@pytest.mark.parametrize("link", ["https://example.com/docs", "http://example.com/", "/game/1/"])
def test_site_paths_and_web_links_are_kept(alice, link):
    assert services.notify(alice, "Hello", link=link).link == link


@pytest.mark.parametrize("link", ["javascript:alert(1)", "//evil.example/", "data:text/html,x"])
def test_unsafe_links_are_refused(alice, link):
    with pytest.raises(ValueError, match="links must be"):
        services.notify(alice, "Hello", link=link)
    assert not Notification.objects.exists()


def test_mark_read_only_touches_the_users_own_notifications(alice, bob):
    mine = services.notify(alice, "mine")
    theirs = services.notify(bob, "theirs")
    assert services.mark_read(alice, [mine.id, theirs.id]) == 1
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert services.unread_count(alice) == 0 and services.unread_count(bob) == 1


def test_deliver_pending_stores_one_copy_per_active_user_and_marks_delivered(
    alice, bob, django_user_model
):
    django_user_model.objects.create_user("gone", is_active=False)
    first = Announcement.objects.create(title="Maintenance", level="warning")
    second = Announcement.objects.create(title="Done")
    assert services.deliver_pending() == 2
    for announcement in (first, second):
        announcement.refresh_from_db()
        assert announcement.delivered_at is not None
        copies = announcement.copies.all()
        assert sorted(copy.recipient.username for copy in copies) == ["alice", "bob"]
        assert {(copy.title, copy.level) for copy in copies} == {
            (announcement.title, announcement.level)
        }
    newest_of_first = max(first.copies.values_list("id", flat=True))
    assert newest_of_first < min(second.copies.values_list("id", flat=True))  # oldest first


def test_deliver_pending_never_delivers_an_announcement_twice(alice, bob):
    Announcement.objects.create(title="Once")
    assert services.deliver_pending() == 1
    assert services.deliver_pending() == 0
    assert Notification.objects.filter(title="Once").count() == 2


def test_a_copy_carries_its_announcement_for_the_browser_dedup(alice):
    announcement = Announcement.objects.create(title="Hello all")
    services.deliver_pending()
    copy = Notification.objects.get(announcement=announcement)
    assert copy.as_frame()["announcement"] == str(announcement.id)
    assert services.notify(alice, "just alice").as_frame()["announcement"] is None


def test_the_notify_user_signal_becomes_a_notification(alice):
    notify_user.send(sender=None, recipient=alice, title="Your turn", link="/somewhere/")
    assert Notification.objects.get().title == "Your turn"


def test_notify_command_for_named_users(alice, bob, capsys, in_memory_layer):
    call_command("notify", "Deploy done", "--user", "alice", "--user", "bob", "--level", "success")
    assert Notification.objects.filter(title="Deploy done").count() == 2
    assert "in-memory channel layer" in capsys.readouterr().err  # says it reaches no browser


def test_notify_command_rejects_unknown_users(alice):
    with pytest.raises(CommandError, match="No such user: nobody"):
        call_command("notify", "Hi", "--user", "nobody")
    assert not Notification.objects.exists()


def test_notify_command_for_everyone(
    alice, bob, in_memory_layer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("notify", "Hello all", "--all")
    # No worker on the in-memory layer: the command's own process fans it out.
    assert Notification.objects.filter(title="Hello all").count() == 2
    assert Announcement.objects.get().delivered_at is not None


def test_a_command_on_the_in_memory_layer_stores_and_says_who_will_see_it(
    alice, in_memory_layer, capsys
):
    call_command("notify", "From a command", "--user", "alice")
    assert Notification.objects.filter(recipient=alice, title="From a command").exists()
    assert "open tabs will see this after a reload or reconnect" in capsys.readouterr().err


def test_an_announcement_is_stored_before_the_worker_is_asked(
    alice, in_memory_layer, monkeypatch, django_capture_on_commit_callbacks
):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    monkeypatch.setattr(services, "reaches_other_processes", lambda: True)
    with django_capture_on_commit_callbacks() as after_commit:
        assert services.announce("Queued", link="/chat/", level="warning") is True
    announcement = Announcement.objects.get()
    assert (announcement.title, announcement.link, announcement.level) == (
        "Queued",
        "/chat/",
        "warning",
    )
    assert (announcement.body, announcement.reply_channel) == ("", "")
    assert announcement.delivered_at is None  # pending: the worker stores the copies
    assert not Notification.objects.exists()
    assert len(after_commit) == 1  # the job is only sent once the announcement is committed
    after_commit[0]()
    job = async_to_sync(get_channel_layer().receive)(services.FANOUT_CHANNEL)
    assert job == {"type": "notifications.announce"}  # no payload: the worker reads the database


def test_an_announcement_with_an_unsafe_link_is_not_stored(in_memory_layer):
    with pytest.raises(ValueError, match="links must be"):
        services.announce("Click", link="javascript:alert(1)")
    assert not Announcement.objects.exists()


def test_deliver_announcements_command_sends_what_a_lost_job_left_pending(alice, bob, capsys):
    Announcement.objects.create(title="Left behind")
    call_command("deliver_announcements")
    assert "Delivered 1 pending announcement(s)." in capsys.readouterr().out
    assert Notification.objects.filter(title="Left behind").count() == 2
    call_command("deliver_announcements")
    assert "Delivered 0 pending announcement(s)." in capsys.readouterr().out


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_list_page_shows_newest_first_paginated_and_escaped(alice_client, alice):
    for n in range(25):
        services.notify(alice, f"note {n}")
    services.notify(alice, "<script>x</script>")
    page = alice_client.get(reverse("notifications:list")).content.decode()
    assert page.index("&lt;script&gt;x&lt;/script&gt;") < page.index("note 24")
    assert "note 6" in page and "note 5" not in page  # 20 per page
    assert "Page 1 of 2" in page


def test_send_test_button_and_mark_read_views(alice_client, alice):
    assert alice_client.post(reverse("notifications:send_test")).status_code == 302
    fetched = alice_client.post(reverse("notifications:send_test"), HTTP_X_REQUESTED_WITH="fetch")
    assert fetched.status_code == 204
    first, _second = Notification.objects.order_by("id")
    alice_client.post(reverse("notifications:mark_read", args=[first.id]))
    assert services.unread_count(alice) == 1
    alice_client.post(reverse("notifications:mark_all_read"))
    assert services.unread_count(alice) == 0


def test_the_list_marks_announcement_copies_for_the_browser_dedup(alice_client, alice):
    announcement = Announcement.objects.create(title="For everyone")
    services.deliver_pending()
    services.notify(alice, "Only mine")
    page = alice_client.get(reverse("notifications:list")).content.decode()
    assert page.count("data-announcement=") == 1
    assert f'data-announcement="{announcement.id}"' in page


def test_only_staff_can_announce(
    alice_client, alice, in_memory_layer, django_capture_on_commit_callbacks
):
    alice_client.post(reverse("notifications:announce"), {"title": "Hi"})
    assert not Announcement.objects.exists()
    alice.is_staff = True
    alice.save()
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("notifications:announce"), {"title": "Hi"})
    assert Notification.objects.filter(title="Hi").count() == 1


def test_admin_action_sends_to_the_selected_users(client, django_user_model, alice, bob):
    admin_user = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(admin_user)
    url = reverse("admin:auth_user_changelist")
    form = {"action": "send_notification", "_selected_action": [alice.pk, bob.pk]}
    assert b"Send a notification" in client.post(url, form).content  # the form step
    response = client.post(url, {**form, "send": "1", "title": "From admin", "level": "info"})
    assert response.status_code == 302
    assert Notification.objects.filter(title="From admin").count() == 2


def test_admin_lists_announcements_and_whether_they_went_out(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw"))
    Announcement.objects.create(title="Still pending")
    page = client.get(reverse("admin:notifications_announcement_changelist")).content.decode()
    assert "Still pending" in page
    assert client.get(reverse("admin:notifications_announcement_add")).status_code == 403


def test_catch_up_returns_only_the_users_own_notifications(alice, bob):
    before = services.latest_id(alice)
    services.notify(bob, "bob's")
    mine = services.notify(alice, "alice's")
    services.notify(bob, "bob's again")
    missed, _ = services.created_after(alice, before)
    assert [n["id"] for n in missed] == [mine.id]
    assert services.latest_id(alice) == mine.id
    assert services.unread_count(alice) == 1


def test_an_announcement_is_copied_a_batch_at_a_time_and_counts_everyone(
    alice, django_user_model, monkeypatch, django_capture_on_commit_callbacks
):
    """However many users there are, the copies are written COPY_BATCH at a time (memory
    stays bounded) and the announcer is told how many users got it."""
    monkeypatch.setattr(services, "COPY_BATCH", 2)
    for name in ("bob", "carol", "dave", "erin"):
        django_user_model.objects.create_user(name)
    told = []
    monkeypatch.setattr(services, "tell_everyone", lambda *args: told.append(args))
    announcement = Announcement.objects.create(title="Five users")
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.deliver_next() is True
    copies = 'INSERT INTO "notifications_notification"'
    inserts = [query for query in queries if query["sql"].startswith(copies)]
    assert len(inserts) == 3  # 2 + 2 + 1
    assert Notification.objects.filter(announcement=announcement).count() == 5
    assert told == [(announcement, 5)]


def test_a_tab_that_missed_many_notifications_gets_the_newest_to_replace_its_list(alice):
    seen = services.notify(alice, "seen")
    missed = [services.notify(alice, f"missed {n}") for n in range(services.RESUME_LIMIT + 1)]
    state = services.state(alice, seen.id)
    assert [n["id"] for n in state["missed"]] == [n.id for n in missed[1:]]
    assert (state["unread"], state["latest_id"], state["replace"]) == (52, missed[-1].id, True)
    exactly_the_limit = services.state(alice, missed[0].id)
    assert (len(exactly_the_limit["missed"]), exactly_the_limit["replace"]) == (50, False)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_anotify_stores_every_field_from_async_code(alice):
    notification = await services.anotify(
        alice, "From a consumer", body="Body", link="/chat/", level="warning"
    )
    stored = await Notification.objects.select_related("recipient").aget()
    assert stored == notification
    assert (stored.recipient, stored.title, stored.body, stored.link, stored.level) == (
        alice,
        "From a consumer",
        "Body",
        "/chat/",
        "warning",
    )
    plain = await services.anotify(alice, "Defaults")
    assert (plain.body, plain.link, plain.level) == ("", "", "info")


def test_on_the_in_memory_layer_this_process_delivers_an_announcement(
    alice, in_memory_layer, django_capture_on_commit_callbacks
):
    """No worker can hear the job: announce() says so (False) and delivers it itself."""
    with django_capture_on_commit_callbacks(execute=True):
        assert services.announce("Hello", body="All of you") is False
    announcement = Announcement.objects.get()
    assert announcement.delivered_at is not None
    copy = Notification.objects.get()
    assert (copy.recipient, copy.title, copy.body) == (alice, "Hello", "All of you")


def test_an_answer_that_cannot_reach_the_announcer_is_one_log_line(
    alice, in_memory_layer, monkeypatch, caplog
):
    """The announcement went out; only the count for the announcer's socket is lost."""
    from channels.layers import get_channel_layer

    async def unreachable(channel, message):
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(get_channel_layer(), "send", unreachable)
    announcement = Announcement.objects.create(title="Hi", reply_channel="specific.gone!1")
    services.tell_everyone(announcement, 1)
    warnings = [r.getMessage() for r in caplog.records if r.name == "notifications"]
    assert warnings == ["could not answer specific.gone!1: Redis is down"]


def test_marking_read_again_keeps_the_first_read_time_and_counts_only_new_ones(alice):
    first, second = services.notify(alice, "first"), services.notify(alice, "second")
    assert services.mark_read(alice, [first.id]) == 1
    first.refresh_from_db()
    assert services.mark_read(alice, [first.id, second.id]) == 1  # only second was unread
    assert Notification.objects.get(pk=first.pk).read_at == first.read_at
    assert services.mark_read(alice) == 0
