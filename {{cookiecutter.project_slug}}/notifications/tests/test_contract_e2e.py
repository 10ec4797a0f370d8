"""The browser tests' protocol check (realtime/testing/contract.py FrameWatcher) fails on
what the document does not allow, both ways and on the fallback stream, with real pages
on real daphne."""

import pytest

from realtime.protocol import build
from realtime.testing.contract import FrameWatcher, Protocol, event_streams
from realtime.testing.pages import connection_status

pytestmark = pytest.mark.e2e

# A raw socket of the signed-in page, as a page's script could open it: it sends `frame`
# and resolves with the server's answer (an error frame: `ids` must be a list).
SEND_RAW = """(frame) => new Promise((resolve) => {
  const socket = new WebSocket(`ws://${location.host}/ws/notifications/`);
  socket.addEventListener("open", () => socket.send(JSON.stringify(frame)));
  socket.addEventListener("message", (event) => {
    const reply = JSON.parse(event.data);
    if (reply.type === "error") resolve(reply);
  });
})"""
# The fallback stream, opened by the page; resolves with its first event's frame.
OPEN_STREAM = """() => new Promise((resolve) => {
  const stream = new EventSource("/notifications/stream/");
  stream.addEventListener("message", (event) => {
    stream.close();
    resolve(JSON.parse(event.data));
  });
})"""


def test_a_frame_from_the_server_that_the_document_does_not_list_is_reported(
    daphne_server, guest_page
):
    document = build()
    del document["channels"]["notifications.notification"]["messages"]["send.notifications.state"]
    watcher = FrameWatcher(against=Protocol(document, event_streams()))  # `sends` forgot it
    page, _ = guest_page(daphne_server.url)
    watcher.watch(page.context)
    tab = page.context.new_page()  # a watched context's new tab is watched

    tab.goto(f"{daphne_server.url}/notifications/")  # its socket starts with notifications.state
    connection_status(tab).filter(has_text="Live").wait_for()
    assert tab.evaluate(OPEN_STREAM)["type"] == "notifications.state"  # and so does the stream
    page.context.close()  # deliver every pending event

    for url in ("/ws/notifications/", "/notifications/stream/"):
        assert any(
            url in violation
            and "server to browser" in violation
            and "'notifications.state' is not a documented frame" in violation
            for violation in watcher.violations
        ), (url, watcher.violations)


def test_a_frame_from_the_page_with_a_wrongly_typed_field_is_reported(
    daphne_server, guest_page, frame_violations
):
    page, _ = guest_page(daphne_server.url)
    assert frame_violations == []  # the real pages' frames are all documented

    reply = page.evaluate(SEND_RAW, {"type": "notifications.mark_read", "ids": "all"})
    assert reply["about"] == "notifications.mark_read"
    page.context.close()

    assert len(frame_violations) == 1, frame_violations
    assert "browser to server" in frame_violations[0]
    assert "ids: 'all' is not of type 'array'" in frame_violations[0]
    frame_violations.clear()  # sent on purpose: otherwise the check fails this test
