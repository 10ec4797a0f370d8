"""Notifications in real browsers, pushed from views, the admin, the command line and the worker."""

import os
import re

import pytest
from playwright.sync_api import Page, expect

from notifications.services import RESUME_LIMIT
from realtime.testing.accessibility import assert_accessible
from realtime.testing.pages import (
    PHONE,
    VIEWPORTS,
    connection_status,
    header_rows,
    page_width_overflow,
)
from realtime.testing.servers import Worker, manage

pytestmark = pytest.mark.e2e


BODY_WITH_HTML = '<img src=x onerror="window.hacked=1"><b>bold</b> & <i>co</i>'


def unread_badge(page: Page):
    return page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("^Notifications")
    )


def toast(page: Page, text: str):
    return page.get_by_role("region", name="New notifications").get_by_text(text)


def your_notifications(page: Page):
    """The rows of the list (not its "Nothing yet" line)."""
    rows = page.get_by_role("list", name="Your notifications").get_by_role("listitem")
    return rows.filter(has_not_text="Nothing yet")


def send_test_notification(page: Page, times: int = 1) -> None:
    for _ in range(times):
        page.get_by_role("button", name="Send me a test notification").click()


def open_connected(page: Page, url: str) -> None:
    page.goto(url)
    expect(connection_status(page)).to_have_text("Live")


def test_test_button_shows_a_toast_and_badge_in_every_tab(daphne_server, guest_page):
    notifications_tab, _ = guest_page(daphne_server.url)
    home_tab = notifications_tab.context.new_page()
    open_connected(notifications_tab, f"{daphne_server.url}/notifications/")
    open_connected(home_tab, f"{daphne_server.url}/")

    notifications_tab.get_by_role("button", name="Send me a test notification").click()

    expect(toast(home_tab, "Test notification")).to_be_visible()
    expect(unread_badge(home_tab)).to_have_accessible_name(re.compile(r"Notifications\s+1 unread"))
    your_list = notifications_tab.get_by_role("list", name="Your notifications")
    expect(your_list.get_by_role("listitem").filter(has_text="Test notification")).to_have_count(1)


def test_mark_all_read_in_one_tab_clears_the_badge_in_another(daphne_server, guest_page):
    list_tab, _ = guest_page(daphne_server.url)
    other_tab = list_tab.context.new_page()
    open_connected(list_tab, f"{daphne_server.url}/notifications/")
    for _ in range(2):
        list_tab.get_by_role("button", name="Send me a test notification").click()
    open_connected(other_tab, f"{daphne_server.url}/")
    expect(unread_badge(other_tab)).to_have_accessible_name(re.compile(r"2 unread"))

    list_tab.get_by_role("button", name="Mark all as read").click()

    expect(unread_badge(other_tab)).to_have_accessible_name("Notifications")
    expect(list_tab.get_by_text("Unread", exact=True)).to_have_count(0)
    other_tab.reload()  # stored, not just shown
    expect(connection_status(other_tab)).to_have_text("Live")
    expect(unread_badge(other_tab)).to_have_accessible_name("Notifications")


def test_an_admin_action_in_one_browser_notifies_another(
    daphne_server, guest_page, browser, staff_user
):
    bob, bob_name = guest_page(daphne_server.url)
    open_connected(bob, f"{daphne_server.url}/")

    admin = browser.new_context().new_page()
    admin.goto(f"{daphne_server.url}/admin/auth/user/?q={bob_name}")
    admin.get_by_label("Username").fill(staff_user[0])
    admin.get_by_label("Password").fill(staff_user[1])
    admin.get_by_role("button", name="Log in").click()
    admin.get_by_role("checkbox", name=re.compile(f"Select this object.*{bob_name}")).check()
    admin.get_by_role("combobox", name="Action").select_option(
        label="Send a notification to the selected users"
    )
    admin.get_by_role("button", name="Go").click()
    admin.get_by_label("Title").fill("Your account was <b>upgraded</b>")  # shown as typed
    # A body carries other people's words too (a chat @mention copies the message).
    admin.get_by_label("Body").fill(BODY_WITH_HTML)
    admin.get_by_role("button", name="Send notification").click()
    expect(admin.get_by_text("Sent to 1 user(s).")).to_be_visible()
    admin.context.close()

    expect(toast(bob, "Your account was <b>upgraded</b>")).to_be_visible()
    expect(toast(bob, BODY_WITH_HTML)).to_be_visible()  # literally: markup stays text
    bob.goto(f"{daphne_server.url}/notifications/")
    expect(your_notifications(bob).filter(has_text=BODY_WITH_HTML)).to_have_count(1)
    assert bob.evaluate("window.hacked") is None
    expect(unread_badge(bob)).to_have_accessible_name(re.compile(r"1 unread"))


def test_manage_py_notify_in_another_process_reaches_the_browser(
    redis_daphne_servers, redis_server_env, guest_page
):
    server = redis_daphne_servers[0]
    bob, bob_name = guest_page(server.url)
    open_connected(bob, f"{server.url}/")

    manage(redis_server_env, "notify", "--user", bob_name, "Sent from the command line")

    expect(toast(bob, "Sent from the command line")).to_be_visible()
    expect(unread_badge(bob)).to_have_accessible_name(re.compile(r"1 unread"))


def test_an_announcement_through_the_worker_reaches_users_on_every_process(
    redis_daphne_servers, redis_server_env, guest_page, tmp_path
):
    first, second = redis_daphne_servers
    bob, _ = guest_page(first.url)
    carol, _ = guest_page(second.url)
    open_connected(bob, f"{first.url}/")
    open_connected(carol, f"{second.url}/")
    worker = Worker(redis_server_env, ["notifications-fanout"], tmp_path / "worker.log")
    try:
        worker.wait_until_listening()
        text = f"Maintenance tonight ({os.getpid()})"
        manage(redis_server_env, "notify", "--all", text)
        for page in (bob, carol):
            expect(toast(page, text)).to_be_visible(timeout=15_000)
    finally:
        worker.stop()


def test_an_announcement_made_while_no_worker_runs_is_not_lost(
    redis_daphne_servers, redis_server_env, guest_page
):
    bob, _ = guest_page(redis_daphne_servers[0].url)
    open_connected(bob, f"{redis_daphne_servers[0].url}/")
    text = f"Made while the worker was down ({os.getpid()})"
    manage(redis_server_env, "notify", "--all", text)  # stored; no worker takes the job

    manage(redis_server_env, "deliver_announcements")

    expect(toast(bob, text)).to_be_visible(timeout=15_000)
    bob.goto(f"{redis_daphne_servers[0].url}/notifications/")  # stored for bob, once
    your_list = bob.get_by_role("list", name="Your notifications")
    expect(your_list.get_by_role("listitem").filter(has_text=text)).to_have_count(1)


def test_a_view_on_one_process_reaches_a_tab_on_another(redis_daphne_servers, guest_page):
    first, second = redis_daphne_servers
    list_tab, _ = guest_page(first.url)
    other_tab = list_tab.context.new_page()
    open_connected(list_tab, f"{first.url}/notifications/")
    open_connected(other_tab, f"{second.url}/")

    list_tab.get_by_role("button", name="Send me a test notification").click()

    expect(toast(other_tab, "Test notification")).to_be_visible()
    expect(unread_badge(other_tab)).to_have_accessible_name(re.compile(r"1 unread"))


def test_rows_that_arrive_live_look_and_work_like_loaded_ones(daphne_server, guest_page):
    list_tab, _ = guest_page(daphne_server.url)
    other_tab = list_tab.context.new_page()
    open_connected(list_tab, f"{daphne_server.url}/notifications/")
    send_test_notification(list_tab)
    expect(your_notifications(list_tab)).to_have_count(1)
    list_tab.reload()  # the first one is now a row the server rendered...
    expect(connection_status(list_tab)).to_have_text("Live")
    send_test_notification(list_tab, times=2)  # ...and these two arrive live
    rows = your_notifications(list_tab)
    expect(rows).to_have_count(3)
    for row in rows.all():
        expect(row).to_contain_text("just now · Unread")
        expect(row.get_by_role("button", name="Mark as read")).to_be_visible()

    rows.first.get_by_role("button", name="Mark as read").click()
    expect(rows.first.get_by_role("button", name="Mark as read")).to_have_count(0)
    expect(rows.first).not_to_contain_text("Unread")
    expect(unread_badge(list_tab)).to_have_accessible_name(re.compile(r"2 unread"))

    open_connected(other_tab, f"{daphne_server.url}/notifications/")
    other_tab.get_by_role("button", name="Mark all as read").click()
    expect(unread_badge(list_tab)).to_have_accessible_name("Notifications")
    for row in rows.all():
        expect(row).to_have_text(re.compile("just now"))
        expect(row).not_to_contain_text("Unread")
        expect(row.get_by_role("button", name="Mark as read")).to_have_count(0)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_burst_of_notifications_shows_a_few_toasts_clear_of_the_header(
    daphne_server, guest_page, viewport
):
    page, _ = guest_page(daphne_server.url, **(PHONE if viewport == "phone" else {}))
    open_connected(page, f"{daphne_server.url}/notifications/")
    send_test_notification(page, times=12)
    expect(unread_badge(page)).to_have_accessible_name(re.compile(r"12 unread"))
    expect(your_notifications(page)).to_have_count(12)

    toasts = page.get_by_role("region", name="New notifications")
    expect(toasts.get_by_role("button", name="Dismiss")).to_have_count(3)
    header = page.get_by_role("banner").bounding_box()
    assert toasts.bounding_box()["y"] >= header["y"] + header["height"]
    page.get_by_role("button", name="Log out").click(trial=True)  # visible and not covered
    assert page_width_overflow(page) <= 0
    assert header_rows(page) <= 2  # the badge fits in too


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_notifications_page_is_accessible(daphne_server, guest_page, size):
    page, _ = guest_page(daphne_server.url, **VIEWPORTS[size])
    open_connected(page, f"{daphne_server.url}/notifications/")
    send_test_notification(page)
    expect(your_notifications(page)).to_have_count(1)
    page.reload()  # one row from the server, one live, and a toast
    expect(connection_status(page)).to_have_text("Live")
    send_test_notification(page)
    expect(your_notifications(page)).to_have_count(2)
    expect(toast(page, "Test notification")).to_be_visible()
    assert_accessible(page)
    assert page_width_overflow(page) <= 0


def test_a_tab_that_was_offline_gets_what_it_missed_once(daphne_server, flaky_proxy, guest_page):
    """It reconnects with its cursor (?after=): the missed ones are listed, not only counted."""
    away, _ = guest_page(flaky_proxy.url)  # this tab's network goes through the proxy
    open_connected(away, f"{flaky_proxy.url}/notifications/")
    here = away.context.new_page()  # another tab of the same user, always connected
    open_connected(here, f"{daphne_server.url}/notifications/")

    flaky_proxy.cut()
    expect(connection_status(away)).to_have_text("Offline, reconnecting…")
    send_test_notification(here, times=2)
    expect(your_notifications(here)).to_have_count(2)
    flaky_proxy.restore()

    expect(connection_status(away)).to_have_text("Live", timeout=20_000)
    expect(your_notifications(away)).to_have_count(2)
    expect(unread_badge(away)).to_have_accessible_name(re.compile(r"2 unread"))
    send_test_notification(here)
    expect(your_notifications(away)).to_have_count(3)  # live again, and nothing twice
    expect(unread_badge(away)).to_have_accessible_name(re.compile(r"3 unread"))


def test_a_tab_that_missed_more_than_a_resume_carries_shows_the_newest(
    daphne_server, server_env, flaky_proxy, guest_page
):
    """Past the resume limit the list shows the newest ones, as a reload would: never
    the oldest ones with the newest left out for good."""
    away, name = guest_page(flaky_proxy.url)
    open_connected(away, f"{flaky_proxy.url}/notifications/")
    send_test_notification(away)
    expect(your_notifications(away)).to_have_count(1)
    flaky_proxy.cut()
    expect(connection_status(away)).to_have_text("Offline, reconnecting…")
    missed = RESUME_LIMIT + 2
    manage(
        server_env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "from notifications import services\n"
        f"user = get_user_model().objects.get(username={name!r})\n"
        f"for number in range(1, {missed + 1}):\n"
        "    services.notify(user, f'Missed {number}')\n",
    )
    flaky_proxy.restore()

    expect(connection_status(away)).to_have_text("Live", timeout=20_000)
    expect(unread_badge(away)).to_have_accessible_name(re.compile(rf"{missed + 1} unread"))
    rows = your_notifications(away)
    expect(rows).to_have_count(RESUME_LIMIT)  # the test notification went with the gap
    expect(rows.first).to_contain_text(re.compile(rf"Missed {missed}\b"))
    expect(rows.last).to_contain_text(re.compile(r"Missed 3\b"))
