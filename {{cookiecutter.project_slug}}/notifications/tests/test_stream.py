"""The Server-Sent Events fallback (/notifications/stream/), through config.asgi.application."""

import asyncio
import contextlib
import json
import logging
import re

import pytest
from channels.db import database_sync_to_async
from channels.testing import ApplicationCommunicator
from prometheus_client import REGISTRY

from notifications import services
from notifications.consumers import NotificationStreamConsumer
from realtime import hub
from realtime.consumers import MAX_QUEUED_EVENTS
from realtime.envelope import encode
from realtime.hub import LayerUnavailable
from realtime.testing.contract import protocol
from realtime.testing.fixtures import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

URL = "/notifications/stream/"
notify = database_sync_to_async(services.notify)
mark_read = database_sync_to_async(services.mark_read)
OUTPUT_TIMEOUT = 5  # seconds a test waits for output before it fails (never asserted on)


class Stream:
    """One streamed response: its status and headers, then its events as they come."""

    def __init__(self, communicator: ApplicationCommunicator, start: dict) -> None:
        self.communicator = communicator
        self.status = start["status"]
        self.headers = {key.lower(): value for key, value in start["headers"]}
        self.buffer = ""
        self.ended = False

    async def next_block(self) -> str:
        """The next event or comment, as its raw lines."""
        while "\n\n" not in self.buffer:
            assert not self.ended, "the stream ended"
            message = await self.communicator.receive_output(OUTPUT_TIMEOUT)
            assert message["type"] == "http.response.body"
            self.buffer += message["body"].decode()
            self.ended = not message.get("more_body", False)
        block, self.buffer = self.buffer.split("\n\n", 1)
        return block

    async def next_event(self) -> tuple[str | None, dict]:
        """(id or None, the frame) of the next event, skipping comments and retry lines."""
        while True:
            fields = [line.split(": ", 1) for line in (await self.next_block()).split("\n")]
            fields = {name: value for name, value in fields if not name.startswith(":")}
            if "data" in fields:
                frame = json.loads(fields["data"])
                protocol().check(URL, "send", frame)  # the socket's frames (its `frames_of`)
                return fields.get("id"), frame

    async def next_frame(self, frame_type: str) -> tuple[str | None, dict]:
        for _ in range(20):
            event_id, frame = await self.next_event()
            if frame["type"] == frame_type:
                return event_id, frame
        raise AssertionError(f"no {frame_type} frame")

    async def receive_nothing(self) -> bool:
        return self.buffer == "" and await self.communicator.receive_nothing(timeout=0.3)

    async def until_end(self) -> str:
        """Everything up to the end of the response."""
        while not self.ended:
            message = await self.communicator.receive_output(OUTPUT_TIMEOUT)
            self.buffer += message["body"].decode()
            self.ended = not message.get("more_body", False)
        return self.buffer


@contextlib.asynccontextmanager
async def open_stream(
    path=URL, user=None, headers=(), method="GET", request_after=0.0, body_parts=()
):
    """A GET of `path` as `user` (a session cookie) through the project's application,
    exactly as daphne would pass it; the client leaves at the end. The request's
    http.request message comes `request_after` seconds after the connection, after one
    message for each of `body_parts`."""
    from config.asgi import application

    path, _, query = path.partition("?")
    headers = [*headers]
    if not any(name == b"host" for name, _ in headers):
        headers.append((b"host", b"testserver"))
    if user is not None:
        cookie = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", cookie.encode()))
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }
    communicator = ApplicationCommunicator(application, scope)
    if request_after:
        assert not communicator.future.done()  # the application starts, then waits
        await asyncio.sleep(request_after)
    for part in body_parts:
        await communicator.send_input({"type": "http.request", "body": part, "more_body": True})
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(OUTPUT_TIMEOUT)
    assert start["type"] == "http.response.start"
    try:
        yield Stream(communicator, start)
    finally:
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(OUTPUT_TIMEOUT)  # the consumer has stopped (and left the hub)


async def test_a_signed_in_user_gets_an_event_stream_that_starts_with_the_state(alice, caplog):
    caplog.set_level(logging.INFO, logger="realtime")
    await notify(alice, "one")
    async with open_stream(user=alice) as stream:
        assert stream.status == 200
        assert stream.headers[b"content-type"].startswith(b"text/event-stream")
        assert stream.headers[b"x-accel-buffering"] == b"no"  # nginx must not buffer it
        assert b"access-control-allow-origin" not in stream.headers  # other sites cannot read it
        assert (await stream.next_block()).startswith("retry: ")
        event_id, state = await stream.next_frame("notifications.state")
        assert (state["unread"], state["missed"]) == (1, [])
        assert event_id == str(state["latest_id"])
        assert f"stream open {URL} user=alice" in caplog.messages
    assert f"stream closed {URL}" in caplog.messages


async def test_anonymous_requests_are_refused_not_streamed(caplog):
    caplog.set_level(logging.INFO, logger="realtime")
    async with open_stream() as response:
        assert response.status == 403
        assert b"text/event-stream" not in response.headers.get(b"content-type", b"")
        assert await response.until_end() == "Sign in first.\n"
    assert f"stream refused {URL} user=anonymous" in caplog.messages


async def test_a_post_is_refused(alice):
    async with open_stream(user=alice, method="POST") as response:
        assert (response.status, response.headers[b"allow"]) == (405, b"GET")
        assert await response.until_end() == "Use GET.\n"


async def test_a_host_outside_allowed_hosts_is_refused(alice):
    async with open_stream(user=alice, headers=[(b"host", b"evil.example")]) as response:
        assert response.status == 400
        assert await response.until_end() == "Bad Request\n"


async def test_only_the_users_own_notifications_are_streamed(alice, bob):
    await notify(bob, "bob's, before")
    async with (
        open_stream(f"{URL}?after=0&group=notifications.user.{bob.pk}", alice) as alices,
        open_stream(URL, bob) as bobs,
    ):
        _, state = await alices.next_frame("notifications.state")
        assert (state["unread"], state["missed"], state["latest_id"]) == (0, [], 0)
        await bobs.next_frame("notifications.state")
        private = await notify(bob, "for bob only")
        await mark_read(bob)
        mine = await notify(alice, "for alice")
        event_id, frame = await alices.next_frame("notifications.new")
        assert frame["notification"]["title"] == "for alice"  # neither of bob's came first
        assert event_id == str(mine.id)
        assert await alices.receive_nothing()
        event_id, frame = await bobs.next_frame("notifications.new")
        assert (event_id, frame["notification"]["id"]) == (str(private.id), private.id)


async def test_a_page_rendered_for_another_user_gets_no_stream(alice, bob, caplog):
    """Its tab outlived a log-out and someone else signed in (realtime/sessions.py)."""
    async with open_stream(f"{URL}?user={bob.pk}", alice) as response:
        assert response.status == 409
        assert await response.until_end() == "Signed in as someone else: reload the page.\n"
    assert f"stream refused {URL} user=alice: the page is another user's" in caplog.messages
    async with open_stream(f"{URL}?user={alice.pk}", alice) as stream:
        assert stream.status == 200


async def test_a_reconnect_resumes_from_last_event_id(alice):
    seen = await notify(alice, "seen")
    await notify(alice, "missed 1")
    await notify(alice, "missed 2")
    # The EventSource's Last-Event-ID wins over the ?after= of the URL it was opened with.
    resume = [(b"last-event-id", str(seen.id).encode())]
    async with open_stream(f"{URL}?after=0", alice, headers=resume) as stream:
        event_id, state = await stream.next_frame("notifications.state")
        assert [n["title"] for n in state["missed"]] == ["missed 1", "missed 2"]
        assert event_id == str(state["missed"][-1]["id"])  # the next reconnect's cursor
    async with open_stream(f"{URL}?after={seen.id}", alice) as stream:  # the first connect
        _, state = await stream.next_frame("notifications.state")
        assert [n["title"] for n in state["missed"]] == ["missed 1", "missed 2"]


async def test_a_frame_without_a_notification_has_no_event_id(alice):
    """An event without an id leaves the browser's Last-Event-ID as it was."""
    async with open_stream(user=alice) as stream:
        await stream.next_frame("notifications.state")
        await notify(alice, "one")
        await stream.next_frame("notifications.new")
        await mark_read(alice)
        assert (
            await stream.next_block() == 'data: {"type":"notifications.read","ids":null,"unread":0}'
        )


async def test_a_frame_that_comes_during_connect_follows_the_state(alice, monkeypatch):
    connect = NotificationStreamConsumer.connect

    async def connect_as_a_frame_arrives(consumer):
        await consumer.deliver({"text": encode("notifications.read", ids=None, unread=0)})
        await connect(consumer)

    monkeypatch.setattr(NotificationStreamConsumer, "connect", connect_as_a_frame_arrives)
    async with open_stream(user=alice) as stream:
        assert (await stream.next_event())[1]["type"] == "notifications.state"
        assert (await stream.next_event())[1]["type"] == "notifications.read"


async def test_a_bad_last_event_id_is_no_cursor(alice):
    await notify(alice, "one")
    junk = [(b"last-event-id", "²".encode())]
    async with open_stream(URL, alice, headers=junk) as stream:
        _, state = await stream.next_frame("notifications.state")
        assert (state["unread"], state["missed"]) == (1, [])


async def test_keep_alive_comments_then_the_stream_ends_after_its_lifetime(alice, monkeypatch):
    monkeypatch.setattr(NotificationStreamConsumer, "keepalive_seconds", 0.05)
    monkeypatch.setattr(NotificationStreamConsumer, "max_seconds", 0.3)
    async with open_stream(user=alice) as stream:
        await stream.next_frame("notifications.state")
        assert await stream.next_block() == ": keep-alive"
        rest = await stream.until_end()  # it ends by itself; the browser reconnects
        assert set(rest.split("\n\n")) <= {": keep-alive", ""}


async def test_the_stream_ends_at_its_lifetime_not_at_the_next_keep_alive(alice, monkeypatch):
    monkeypatch.setattr(NotificationStreamConsumer, "keepalive_seconds", 0.05)
    monkeypatch.setattr(NotificationStreamConsumer, "max_seconds", 2.0)
    async with open_stream(user=alice) as stream:
        await stream.next_frame("notifications.state")
        assert await stream.next_block() == ": keep-alive"
        monkeypatch.setattr(NotificationStreamConsumer, "keepalive_seconds", 3600.0)
        await notify(alice, "after a keep-alive")
        await stream.next_frame("notifications.new")  # a keep-alive did not end it
        rest = await stream.until_end()  # within its lifetime, not an hour later
        assert set(rest.split("\n\n")) <= {": keep-alive", ""}


async def refuse(consumer):
    pass  # returns without accept()


async def crash(consumer):
    raise RuntimeError("a bug")


async def lose_the_layer(consumer):
    raise LayerUnavailable("Redis is down")


@pytest.mark.parametrize(
    ("connect", "status", "body", "logged"),
    [
        (refuse, 403, "Not allowed.\n", f"stream refused {URL} user=alice"),
        (crash, 500, "Server error.\n", f"stream crash {URL}"),
        (
            lose_the_layer,
            503,
            "Try again shortly.\n",
            f"stream refused {URL}: channel layer unreachable (Redis is down)",
        ),
    ],
)
async def test_a_connect_that_does_not_accept_gets_an_answer_and_a_log_line(
    alice, monkeypatch, caplog, connect, status, body, logged
):
    caplog.set_level(logging.INFO, logger="realtime")
    monkeypatch.setattr(NotificationStreamConsumer, "connect", connect)
    async with open_stream(user=alice) as response:
        assert response.status == status
        assert await response.until_end() == body
        if status == 503:
            assert response.headers[b"retry-after"] == b"5"
    assert logged in caplog.messages


async def test_a_request_in_parts_gets_one_stream_at_its_end(alice):
    async with open_stream(user=alice, body_parts=[b"a body", b"in parts"]) as stream:
        await stream.next_frame("notifications.state")
        assert await stream.receive_nothing()  # not a second response


async def test_a_slow_request_still_gets_its_stream(alice, monkeypatch):
    """Keep-alive ticks before the request has arrived neither end nor break the stream."""
    monkeypatch.setattr(NotificationStreamConsumer, "keepalive_seconds", 0.01)
    async with open_stream(user=alice, request_after=0.1) as stream:
        assert stream.status == 200
        await stream.next_frame("notifications.state")


async def test_a_client_that_goes_away_leaves_the_hub(alice):
    async with open_stream(user=alice) as stream:
        await stream.next_frame("notifications.state")
        assert services.user_group(alice.pk) in hub.get_hub().members
    assert hub.get_hub().members == {}  # every group left, nothing kept for the gone client


async def test_the_stream_ends_when_the_hub_loses_the_channel_layer(alice):
    """The hub closes its sockets then (realtime/hub.py); the browser reconnects and resumes."""
    async with open_stream(user=alice) as stream:
        await stream.next_frame("notifications.state")
        for socket in hub.get_hub().sockets():
            await socket.close(code=hub.SERVICE_RESTART)
        await stream.until_end()  # fails unless the response ends


async def test_a_stream_too_far_behind_on_events_ends_so_the_browser_resumes(alice, caplog):
    async with open_stream(user=alice) as stream:
        await stream.next_frame("notifications.state")
        [consumer] = hub.get_hub().sockets()
        for _ in range(MAX_QUEUED_EVENTS + 1):  # faster than it can take them
            consumer.deliver_event({"type": "stream.tick"})
        await stream.until_end()  # fails unless the response ends
    assert f"stream {URL}: {MAX_QUEUED_EVENTS} events behind, ending" in caplog.messages


async def test_a_stream_the_hub_cannot_deliver_to_is_named_in_the_log(alice, monkeypatch, caplog):
    async def broken(consumer, message):
        raise RuntimeError("a bug")

    monkeypatch.setattr(NotificationStreamConsumer, "deliver", broken)
    async with open_stream(user=alice) as stream:
        await stream.next_frame("notifications.state")
        [consumer] = hub.get_hub().sockets()
        await notify(alice, "not delivered")
        async with asyncio.timeout(OUTPUT_TIMEOUT):
            while not any(message.startswith("hub could not") for message in caplog.messages):
                await asyncio.sleep(0.01)
    assert f"hub could not deliver to {consumer.socket_id}" in caplog.messages
    assert re.fullmatch("[0-9a-f]{32}", consumer.socket_id)


async def test_logging_out_ends_the_stream(alice, caplog):
    from realtime.sessions import end_sessions

    caplog.set_level(logging.INFO, logger="realtime")
    async with open_stream(user=alice) as stream:
        await stream.next_frame("notifications.state")
        await database_sync_to_async(end_sessions)(alice.pk, "logged out")
        await stream.until_end()  # fails unless the response ends
    assert f"stream closed {URL}: logged out" in caplog.messages


async def test_streams_count_towards_the_users_cap(alice, settings, caplog):
    settings.REALTIME = {**settings.REALTIME, "MAX_SOCKETS_PER_USER": 1}
    async with open_stream(user=alice) as first:
        await first.next_frame("notifications.state")
        for _ in range(2):  # a refused one takes no place, and gives none back
            async with open_stream(user=alice) as second:
                assert (second.status, second.headers[b"retry-after"]) == (429, b"5")
                assert await second.until_end() == "Too many connections open.\n"
    assert f"stream refused {URL} user=alice: too many open" in caplog.messages
    async with open_stream(user=alice) as again:  # the first one's place was given back
        assert again.status == 200


async def test_other_paths_still_reach_django(alice):
    async with open_stream("/notifications/", alice) as page:
        assert page.status == 200
        assert b"text/html" in page.headers[b"content-type"]


async def test_an_open_stream_and_its_frames_are_counted_in_the_metrics(alice):
    """Operators see the tabs that fell back too, not only the sockets."""
    opened = {"app": "notifications", "consumer": "NotificationStreamConsumer"}
    sent = {"app": "notifications"}

    async def sample(name: str, labels: dict) -> float:
        # In a thread: collecting reads the presence rows from the database.
        return await database_sync_to_async(REGISTRY.get_sample_value)(name, labels) or 0.0

    open_before = await sample("realtime_streams_open", opened)
    sent_before = await sample("realtime_frames_sent_total", sent)
    async with open_stream() as refused:  # anonymous: never started, never counted
        assert refused.status == 403
    assert await sample("realtime_streams_open", opened) == open_before
    async with open_stream(user=alice) as stream:
        await stream.next_frame("notifications.state")
        await notify(alice, "counted")
        await stream.next_frame("notifications.new")
        assert await sample("realtime_streams_open", opened) == open_before + 1
    assert await sample("realtime_streams_open", opened) == open_before
    assert await sample("realtime_frames_sent_total", sent) == sent_before + 2
