"""The Server-Sent Events fallback in a real browser, with WebSockets blocked for the page."""

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from realtime.testing.pages import connection_status

from .test_e2e import send_test_notification, toast, unread_badge, your_notifications

pytestmark = pytest.mark.e2e

# As behind a proxy that breaks WebSockets: every socket the page opens is refused
# at the handshake (the server has no /ws/blocked/ endpoint), until the test sets
# window.allowWebSockets. Each EventSource is kept, so the test can see which are open.
BLOCK_WEBSOCKETS = """
window.allowWebSockets = false;
const RealWebSocket = window.WebSocket;
window.WebSocket = class extends RealWebSocket {
  constructor(url, protocols) {
    const target = new URL(url);
    if (!window.allowWebSockets) target.pathname = "/ws/blocked/";
    super(target.href, protocols);
  }
};
const RealEventSource = window.EventSource;
window.eventSources = [];
window.EventSource = class extends RealEventSource {
  constructor(...args) {
    super(...args);
    window.eventSources.push(this);
  }
};
"""
OPEN_STREAMS = "window.eventSources.filter((stream) => stream.readyState !== 2).length"
FALLBACK_TIMEOUT = 20_000  # ms: three failed sockets (with backoff) before the fallback


def blocked_page(guest_page, url: str) -> tuple[Page, BrowserContext]:
    page, _ = guest_page(url)
    page.context.add_init_script(BLOCK_WEBSOCKETS)
    return page, page.context


def open_streaming(page: Page, url: str) -> None:
    """Open `url`; its notifications socket cannot connect, so it falls back to the stream."""
    page.goto(url)
    status = connection_status(page)
    expect(status).to_have_attribute("data-state", "streaming", timeout=FALLBACK_TIMEOUT)
    expect(status).to_have_text("Live")


def test_with_websockets_blocked_the_badge_and_toasts_update_live(daphne_server, guest_page):
    list_tab, context = blocked_page(guest_page, daphne_server.url)
    home_tab = context.new_page()
    open_streaming(list_tab, f"{daphne_server.url}/notifications/")
    open_streaming(home_tab, f"{daphne_server.url}/")

    send_test_notification(list_tab)

    expect(toast(home_tab, "Test notification")).to_be_visible()
    expect(unread_badge(home_tab)).to_have_accessible_name(re.compile(r"Notifications\s+1 unread"))
    expect(your_notifications(list_tab)).to_have_count(1)
    expect(unread_badge(list_tab)).to_have_accessible_name(re.compile(r"1 unread"))

    send_test_notification(list_tab, times=2)
    expect(your_notifications(list_tab)).to_have_count(3)  # each once
    expect(unread_badge(list_tab)).to_have_accessible_name(re.compile(r"3 unread"))
    expect(unread_badge(home_tab)).to_have_accessible_name(re.compile(r"3 unread"))

    # Read-only stream: "Mark all as read" posts the form instead, and every tab hears it.
    list_tab.get_by_role("button", name="Mark all as read").click()
    expect(unread_badge(home_tab)).to_have_accessible_name("Notifications")
    expect(list_tab.get_by_text("Unread", exact=True)).to_have_count(0)


def test_a_browser_that_refuses_websockets_outright_falls_back_too(daphne_server, guest_page):
    """Where `new WebSocket()` itself throws (a policy or an extension), not only fails."""
    page, _ = guest_page(daphne_server.url)
    page.context.add_init_script(
        "window.WebSocket = class {"
        '  constructor() { throw new DOMException("refused", "SecurityError"); }'
        "};"
    )
    open_streaming(page, f"{daphne_server.url}/notifications/")
    send_test_notification(page)
    expect(your_notifications(page)).to_have_count(1)
    expect(unread_badge(page)).to_have_accessible_name(re.compile(r"1 unread"))


def test_a_tab_goes_back_to_its_websocket_when_it_can_and_shows_nothing_twice(
    daphne_server, guest_page
):
    page, _ = blocked_page(guest_page, daphne_server.url)
    open_streaming(page, f"{daphne_server.url}/notifications/")
    send_test_notification(page)
    expect(your_notifications(page)).to_have_count(1)

    page.evaluate("window.allowWebSockets = true")  # the network lets WebSockets through again

    with page.expect_websocket(lambda ws: "/ws/notifications/" in ws.url, timeout=30_000):
        pass  # the socket keeps retrying while the stream runs
    status = connection_status(page)
    expect(status).to_have_attribute("data-state", "open")
    expect(status).to_have_text("Live")
    assert page.evaluate(OPEN_STREAMS) == 0  # the stream was closed
    send_test_notification(page, times=2)
    expect(your_notifications(page)).to_have_count(3)  # through the socket, and none twice
    expect(unread_badge(page)).to_have_accessible_name(re.compile(r"3 unread"))
    page.reload()  # what the server has is what was shown
    expect(your_notifications(page)).to_have_count(3)


def test_a_stream_that_was_cut_off_resumes_with_what_it_missed_once(
    daphne_server, flaky_proxy, guest_page
):
    """The stream reconnects from the last id it had (Last-Event-ID): the missed ones are listed."""
    away, context = blocked_page(guest_page, flaky_proxy.url)  # through the proxy
    open_streaming(away, f"{flaky_proxy.url}/notifications/")
    here = context.new_page()  # another tab of the same user, never cut off
    open_streaming(here, f"{daphne_server.url}/notifications/")
    send_test_notification(here)
    expect(your_notifications(away)).to_have_count(1)  # its last id is now this one's

    flaky_proxy.cut()
    expect(connection_status(away)).to_have_text("Offline, reconnecting…")
    send_test_notification(here, times=2)
    expect(your_notifications(here)).to_have_count(3)
    flaky_proxy.restore()

    expect(connection_status(away)).to_have_attribute("data-state", "streaming", timeout=20_000)
    expect(your_notifications(away)).to_have_count(3)
    expect(unread_badge(away)).to_have_accessible_name(re.compile(r"3 unread"))
    send_test_notification(here)
    expect(your_notifications(away)).to_have_count(4)  # live again, and nothing twice
    expect(unread_badge(away)).to_have_accessible_name(re.compile(r"4 unread"))
