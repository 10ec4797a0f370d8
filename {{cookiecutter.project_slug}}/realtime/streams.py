"""EventStreamConsumer: the frames of a WebSocket, as Server-Sent Events, for browsers
whose WebSockets cannot get through (a proxy or network that breaks them).

It is Channels' AsyncHttpConsumer, used for a long response. AsyncHttpConsumer's
handle() must return before the consumer sees anything else (the client leaving,
a group event), so a stream is not a loop inside handle(): the request starts it
and returns, and the consumer goes on dispatching messages by type:

- http.disconnect: the browser went away; the consumer stops and leaves its groups;
- typed events from its groups, as a RealtimeConsumer gets them;
- stream.tick, from a clock of its own: a keep-alive comment, so proxies do not cut an
  idle stream, and the end of the stream after `max_seconds`. The browser's
  EventSource then reconnects by itself, sending the Last-Event-ID header.

Frames reach it exactly as they reach the sockets: `join(group)` puts it into this
process's hub (realtime/hub.py), and each frame broadcast to the group is written
as one event whose data is the frame's JSON, so the browser hands both transports'
frames to the same code. A stream is one-way: the browser's own actions go
through plain POSTs meanwhile.

    class NotificationStreamConsumer(EventStreamConsumer):
        frames_of = NotificationConsumer  # the socket whose frames it carries

        async def connect(self):
            await self.join(user_group(self.user.pk))
            await self.accept()  # 200 and the event-stream headers
            await self.send_frame("notifications.state", event_id=7, ...)

Routed in <app>/routing.py's `http_urlpatterns` inside AuthMiddlewareStack: the
session says who the user is. No Origin check: the browser sends no Origin on a
same-origin GET, and the response has no CORS headers, so another site's page
can make the request but cannot read a byte of it.
"""

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from channels import DEFAULT_CHANNEL_LAYER
from channels.exceptions import StopConsumer
from channels.generic.http import AsyncHttpConsumer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from . import metrics, sessions
from .consumers import MAX_QUEUED_EVENTS, SOCKET_CLOSING, ConnectionScope, parse_id
from .envelope import encode
from .hub import LAYER_ERRORS, LayerUnavailable, get_hub
from .origins import allowed_hosts
from .ratelimit import socket_cap

logger = logging.getLogger("realtime")

STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once, do not buffer
    (b"x-content-type-options", b"nosniff"),
]


class EventStreamConsumer(ConnectionScope, AsyncHttpConsumer):
    # A comment line this often keeps proxies and the browser from calling the stream idle.
    keepalive_seconds = 15.0
    # One stream lives this long, then ends; the browser reconnects (Last-Event-ID) at once.
    # It bounds what a stream holds (a request, a place in the hub) and lets a tab
    # that fell back try its WebSocket again.
    max_seconds = 300.0
    # EventSource's wait before reconnecting after a stream ends (the "retry:" field).
    retry_ms = 2000
    groups_layer_alias = DEFAULT_CHANNEL_LAYER
    # The RealtimeConsumer whose frames this stream carries: the browser tests check each
    # event against that socket's frames in the protocol document (realtime/testing/contract.py).
    frames_of: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.socket_id = uuid.uuid4().hex  # what the hub's log lines call this stream
        self.in_presence = False  # a stream is never counted as present
        self.joined: list[str] = []
        self.events: asyncio.Queue[dict] = asyncio.Queue(MAX_QUEUED_EVENTS)
        self.streaming = False  # between accept() and the end of the response
        # Group frames that arrive before connect() has sent its own wait here, as
        # on a RealtimeConsumer: the browser gets the state first.
        self._held: list[bytes] | None = []
        self._end = asyncio.Event()  # set by close(): end the stream from the consumer's task
        self._claimed_socket = False
        self._deadline = 0.0
        app = metrics.app_label(self)
        self._open_streams = metrics.STREAMS_OPEN.labels(app, type(self).__name__)
        self._frames_out = metrics.FRAMES_SENT.labels(app)
        self._counted_open = False

    async def __call__(self, scope, receive, send) -> None:
        """AsyncConsumer.__call__ with the stream's own sources of messages instead of a
        channel: the events the hub hands it, and its clock."""
        self.scope = scope
        self.channel_layer = None  # its groups are the hub's; it needs no channel of its own

        async def send_unless_gone(message: dict) -> None:
            with contextlib.suppress(SOCKET_CLOSING):  # the client left; http.disconnect follows
                await send(message)

        self.base_send = send_unless_gone
        try:
            await await_many_dispatch([receive, self.events.get, self._clock], self.dispatch)
        except StopConsumer:
            pass
        finally:
            if self._claimed_socket:
                socket_cap.release(self.user_key)
            if self._counted_open:
                self._open_streams.dec()
            if self.joined:
                await get_hub(self.groups_layer_alias).leave(self, self.joined)

    # -- what subclasses write -------------------------------------------------

    async def connect(self) -> None:
        """Join groups, accept(), send the first frames. Raise nothing to refuse:
        return without accept() and the browser gets a 403."""
        await self.accept()

    def event_id(self, text: str) -> int | None:
        """The id to send with a broadcast frame (the Last-Event-ID the browser resumes
        from), or None to leave the browser's last id as it is."""
        return None

    # -- the request -----------------------------------------------------------

    async def http_request(self, message: dict) -> None:
        if message.get("more_body"):
            return  # a GET has no body worth reading; wait for the end of it
        if (refusal := self.refusal()) is not None:
            status, body, headers = refusal
            await self.send_response(status, body, headers=headers)
            raise StopConsumer()
        self._claimed_socket = True
        try:
            # Logging out, deactivation or a password change ends it (realtime/sessions.py).
            await self.join(sessions.user_group(self.user.pk))
            await self.connect()
        except (*LAYER_ERRORS, LayerUnavailable) as error:
            logger.warning("stream refused %s: channel layer unreachable (%s)", self.path, error)
            await self.fail(503, b"Try again shortly.\n", [(b"retry-after", b"5")])
        except Exception:
            logger.exception("stream crash %s", self.path)
            await self.fail(500, b"Server error.\n")
        if not self.streaming:
            logger.info("stream refused %s user=%s", self.path, self.user.username)
            await self.fail(403, b"Not allowed.\n")
        logger.info("stream open %s user=%s", self.path, self.user.username)
        while held := self._held:
            self._held = []
            for body in held:
                await self.send_event(body)
        self._held = None

    def refusal(self) -> tuple[int, bytes, list] | None:
        """(status, body, headers) when this request gets no stream, else None; a
        stream that may start is counted in the user's cap of open connections."""
        domain, _port = split_domain_port(self.header(b"host") or "")
        if not validate_host(domain, allowed_hosts()):  # as Django refuses other Hosts
            return 400, b"Bad Request\n", []
        if self.scope["method"] != "GET":
            return 405, b"Use GET.\n", [(b"allow", b"GET")]
        if self.user_key is None:
            logger.info("stream refused %s user=anonymous", self.path)
            return 403, b"Sign in first.\n", []
        if self.opened_for_another_user():
            logger.info(
                "stream refused %s user=%s: the page is another user's", self.path, self.user
            )
            return 409, b"Signed in as someone else: reload the page.\n", []
        if not socket_cap.claim(self.user_key, settings.REALTIME["MAX_SOCKETS_PER_USER"]):
            logger.warning("stream refused %s user=%s: too many open", self.path, self.user)
            return 429, b"Too many connections open.\n", [(b"retry-after", b"5")]
        return None

    async def fail(self, status: int, body: bytes, headers: list | None = None) -> None:
        """Answer with an error if the stream has not started, else end it; stop either way."""
        if not self.streaming:
            await self.send_response(status, body, headers=headers or [])
        await self.finish()

    async def accept(self) -> None:
        """Start the stream: 200, the event-stream headers, and the reconnect delay."""
        await self.send_headers(status=200, headers=STREAM_HEADERS)
        await self.send_body(f"retry: {self.retry_ms}\n\n".encode(), more_body=True)
        self.streaming = True
        self._open_streams.inc()
        self._counted_open = True
        self._deadline = asyncio.get_running_loop().time() + self.max_seconds

    async def http_disconnect(self, message: dict) -> None:
        if self.streaming:
            logger.info("stream closed %s", self.path)
        self.streaming = False
        raise StopConsumer()

    # -- outbound --------------------------------------------------------------

    @staticmethod
    def event(text: str, event_id: int | None = None) -> bytes:
        """One event whose data is `text`. A frame's JSON never holds a raw line break
        (json.dumps escapes them), so it fits on one "data:" line."""
        head = f"id: {event_id}\n" if event_id is not None else ""
        return f"{head}data: {text}\n\n".encode()

    async def send_frame(self, message_type: str, event_id: int | None = None, **fields) -> None:
        """One frame to this stream only, with the id the browser resumes from, if any."""
        await self.send_event(self.event(encode(message_type, **fields), event_id))

    async def send_event(self, body: bytes) -> None:
        await self.send_body(body, more_body=True)
        self._frames_out.inc()

    async def deliver(self, message: dict) -> None:
        """A frame broadcast to one of this stream's groups (called by the hub)."""
        body = self.event(message["text"], self.event_id(message["text"]))
        if self._held is not None:
            self._held.append(body)
        elif self.streaming:
            await self.send_event(body)

    def deliver_event(self, event: dict) -> None:
        """A typed event from one of its groups (called by the hub), handled in its own task."""
        try:
            self.events.put_nowait(event)
        except asyncio.QueueFull:
            logger.warning("stream %s: %d events behind, ending", self.path, MAX_QUEUED_EVENTS)
            self._end.set()  # the browser reconnects and resumes

    async def close(self, code: int | None = None) -> None:
        """End the stream (the hub calls it when it loses the channel layer); the browser
        reconnects and resumes."""
        self._end.set()

    async def realtime_force_disconnect(self, event: dict) -> None:
        """The user's session ended (realtime/sessions.py); the reconnect is refused."""
        logger.info("stream closed %s: %s", self.path, event.get("reason", "session ended"))
        await self.finish()

    async def stream_tick(self, message: dict) -> None:
        if not self.streaming:
            return  # the request has not started it yet
        if self._end.is_set() or asyncio.get_running_loop().time() >= self._deadline:
            await self.finish()
        await self.send_body(b": keep-alive\n\n", more_body=True)

    async def finish(self) -> None:
        """End the response and stop this consumer."""
        if self.streaming:
            self.streaming = False
            await self.send_body(b"")
        raise StopConsumer()

    async def _clock(self) -> dict:
        """The next stream.tick: at the next keep-alive, the deadline, or close()."""
        wait = self.keepalive_seconds
        if self.streaming:
            wait = min(wait, self._deadline - asyncio.get_running_loop().time())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(wait, 0)):
                await self._end.wait()
        return {"type": "stream.tick"}

    # -- helpers ---------------------------------------------------------------

    async def join(self, group: str) -> None:
        """Receive `group`'s frames and events; left when the stream ends."""
        await get_hub(self.groups_layer_alias).join(group, self)
        self.joined.append(group)

    def header(self, name: bytes) -> str | None:
        for key, value in self.scope.get("headers", []):
            if key.lower() == name:
                return value.decode("latin-1")
        return None

    def last_event_id(self) -> int | None:
        """The Last-Event-ID an EventSource sends when it reconnects, if a valid id."""
        return parse_id(self.header(b"last-event-id"))
