"""RealtimeConsumer: the base of every WebSocket consumer in the project.

It is a Channels AsyncWebsocketConsumer: `connect`, `accept`, `close`,
`self.channel_layer`, `self.channel_name` and handler methods for typed events
work as in the Channels tutorial. What it adds, for the apps to stay short:

    class RoomConsumer(RealtimeConsumer):
        async def connect(self):
            await self.join(self.room.group_name)  # the tutorial's group_add
            await self.accept()

        @handles("chat.send", SendMessage)  # one handler per inbound frame type
        async def on_send(self, message: SendMessage): ...

        sends = {"chat.typing": {"user": str}}  # each frame type it sends: its fields

        async def chat_force_disconnect(self, event):  # a typed event, as in Channels
            await self.close()

- inbound frames decoded and validated (realtime/envelope.py); a bad one is
  answered with {"type": "error", "code": ..., "message": ..., "about": ...} and
  the connection stays open;
- `sends` and `closes`: what it sends, for the protocol document (realtime/protocol.py,
  `manage.py asyncapi`) and the tests that check every frame against it;
- `login_required = True`: anonymous handshakes are refused before connect() runs;
- `join(group)`: this process's hub (realtime/hub.py) joins the group once for all
  its sockets, so a group message costs one layer message per process, not per
  socket. Frames (realtime.broadcast) are written straight to the sockets; typed
  events reach each consumer's handler method. Groups are left on disconnect;
- every signed-in socket is in its user's group (sessions.user_group): logging
  out, deactivation or a password change closes the user's sockets everywhere,
  and revoking an access token the sockets it opened;
- presence rows kept fresh while the socket is open and removed when it closes;
- rate limits per connection and per user (across their sockets and processes),
  and a cap on each user's sockets (realtime/ratelimit.py): a flood gets
  "rate_limited" error frames saying when to retry, while everyone else carries on;
- one place that handles a channel layer (Redis) that cannot be reached;
- Prometheus metrics (realtime/metrics.py): open sockets, frames in and out, error frames.
"""

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels import DEFAULT_CHANNEL_LAYER
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings

from . import metrics, presence, sessions
from .db import database_sync_to_async
from .envelope import ERROR_FIELDS, MAX_ID, Inbound, ProtocolError, decode, encode, validate
from .hub import LAYER_ERRORS, SERVICE_RESTART, LayerUnavailable, get_hub
from .ratelimit import TokenBucket, socket_cap, user_budget_refusal

logger = logging.getLogger("realtime")

Handler = Callable[[Any, Any], Awaitable[None]]

# What the server raises on a send to a socket that is closing: its close handshake
# has begun (either side), and the disconnect event has not reached the consumer
# yet. Daphne (through autobahn) raises Disconnected; the ASGI spec asks for an OSError.
SOCKET_CLOSING = (Disconnected, OSError)
# Close code for "this user has too many sockets open here" (like HTTP 429).
TOO_MANY_SOCKETS = 4429
# Every close code any consumer may send after accepting, and what the client should do.
CLOSE_CODES = {
    SERVICE_RESTART: "reconnect with backoff and resume: the server lost its channel layer, "
    "or this socket fell too far behind",
    sessions.SESSION_ENDED: "the session ended (log-out, deactivation, new password); "
    "reconnect: a still valid session is accepted, an ended one refused",
    TOO_MANY_SOCKETS: "too many sockets open for this user; retry later with backoff",
    sessions.OTHER_USER: "the page was for another user than the session's (someone else "
    "signed in in this browser since): stop, and reload the page",
    sessions.TOKEN_REVOKED: "the access token behind this socket was revoked: do not "
    "reconnect with it",
}


def parse_id(value: str | None) -> int | None:
    """A non-negative id or cursor from untrusted text (a query string), or None.

    Only ASCII digits within the bigint range: str.isdigit() also accepts "²",
    and int() refuses thousands of digits, so neither is a safe test alone.
    """
    if value is None or not re.fullmatch(r"[0-9]{1,19}", value):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


# handles() and __init_subclass__ run when the consumer classes are defined, at import,
# before mutmut switches a mutant on: out of `make mutate`'s reach (README, "Tests").
# pragma: no mutate start
def handles(message_type: str, schema: type[Inbound]) -> Callable[[Handler], Handler]:
    """Register the decorated method as the handler of `message_type` frames."""

    def register(method: Handler) -> Handler:
        method.handles = (message_type, schema)
        return method

    return register


# pragma: no mutate end


UNDELIVERED = (
    "Saved, but it could not be pushed live just now (the message service is unreachable). "
    "Others will see it when they reconnect or reload."
)
# Typed events the hub may queue for one consumer before it is too far behind;
# past that the socket is closed and the browser reconnects and resumes.
MAX_QUEUED_EVENTS = 100


class ConnectionScope:
    """What a realtime consumer reads from its connection's scope, whether a WebSocket
    (RealtimeConsumer) or an event stream (streams.EventStreamConsumer)."""

    def query_param(self, name: str) -> str | None:
        """One value from the connection URL's query string (?name=value)."""
        values = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get(name)
        return values[0] if values else None

    def id_param(self, name: str) -> int | None:
        """A query-string cursor such as ?after=N; None if absent or not a valid id."""
        return parse_id(self.query_param(name))

    def opened_for_another_user(self) -> bool:
        """The page names the user it was rendered for (?user=<id>, client.js); a session
        that is someone else's now must not act for it. Programs name nobody."""
        page_user = self.query_param("user")
        return page_user is not None and parse_id(page_user) != self.user.pk

    @property
    def user(self):
        return self.scope["user"]

    @property
    def user_key(self) -> str | None:
        """Names this connection's user in the per-user limits; None when anonymous."""
        user = self.scope.get("user")
        return f"user:{user.pk}" if user is not None and user.is_authenticated else None

    @property
    def path(self) -> str:
        return self.scope["path"]


class RealtimeConsumer(ConnectionScope, AsyncWebsocketConsumer):
    # Refuse the handshake of anonymous users before connect() runs.
    login_required = True
    # message type -> (schema, method name); filled in from @handles methods.
    handlers: dict[str, tuple[type[Inbound], str]] = {}
    # Each frame type it sends -> its fields, as pydantic annotations, one line each.
    # A subclass lists its own; those of its bases (the error frame) are added to them.
    sends: dict[str, dict[str, Any]] = {"error": ERROR_FIELDS}
    # Close codes of its own (code -> what the client should do), besides CLOSE_CODES.
    closes: dict[int, str] = {}
    # The channel layer of join()'s groups (settings.CHANNEL_LAYERS); channel_layer_alias,
    # as in Channels, is the layer of self.channel_layer and self.channel_name.
    groups_layer_alias = DEFAULT_CHANNEL_LAYER

    def __init_subclass__(cls, **kwargs: Any) -> None:  # pragma: no mutate block
        super().__init_subclass__(**kwargs)
        cls.handlers = dict(cls.handlers)
        for name, attribute in vars(cls).items():
            if spec := getattr(attribute, "handles", None):
                message_type, schema = spec
                cls.handlers[message_type] = (schema, name)
        base = super(cls, cls)
        cls.sends = {**base.sends, **vars(cls).get("sends", {})}
        cls.closes = {**base.closes, **vars(cls).get("closes", {})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.socket_id = uuid.uuid4().hex  # names this connection in Presence rows
        self.joined: list[str] = []  # groups joined with join(), left on disconnect
        self.accepted = False
        self.in_presence = False
        # Group frames that arrive while connect() runs wait here, so the browser
        # gets connect()'s frames (history, state) first, as the protocol says.
        self._held: list[dict] | None = []
        limit = settings.REALTIME["RATE_LIMIT"]
        self._rate = TokenBucket(limit["BURST"], limit["PER_SECOND"])
        self._throttled = False  # log a flood once, not once per message
        # Typed events for this consumer from its groups (see deliver_event).
        self.events: asyncio.Queue[dict] = asyncio.Queue(MAX_QUEUED_EVENTS)
        self._layer_lost = False
        self._claimed_socket = False  # counted in socket_cap, released when the socket ends
        self.app = metrics.app_label(self)
        self._frames_in = metrics.FRAMES_RECEIVED.labels(self.app)
        self._frames_out = metrics.FRAMES_SENT.labels(self.app)

    # -- inbound -------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message_type = None
        self._frames_in.inc()
        if (retry_after := await self._over_budget()) is not None:
            await self._refuse(text_data, retry_after)
            return
        self._throttled = False
        try:
            data = decode(text_data, bytes_data, settings.REALTIME["MAX_MESSAGE_BYTES"])
            message_type = data["type"]
            if message_type not in self.handlers:
                expected = ", ".join(sorted(self.handlers)) or "none"
                raise ProtocolError(
                    "unknown_type", f"Unknown message type {message_type!r}; expected: {expected}."
                )
            schema, method_name = self.handlers[message_type]
            await getattr(self, method_name)(validate(data, schema))
        except ProtocolError as error:
            logger.info("ws error %s %s: %s", self.path, error.code, error.message[:200])
            await self.send_error(error.code, error.message, message_type)
        except LayerUnavailable as error:
            logger.warning("ws %s: channel layer unreachable: %s", self.path, error)
            await self.send_error("not_delivered", UNDELIVERED, message_type)
        except Exception:
            # A bug in one handler must not cost the user their connection.
            logger.exception("ws crash %s handling %r", self.path, message_type)
            await self.send_error("server_error", "The server could not handle that.", message_type)

    async def _over_budget(self) -> float | None:
        """None if this message may be handled, else seconds to wait: this socket's
        bucket first (no I/O), then the user's budget across all their sockets."""
        if not self._rate.take():
            return self._rate.retry_after()
        if self.user_key is None:
            return None
        return await user_budget_refusal(self.user_key)

    async def _refuse(self, text_data: str | None, retry_after: float) -> None:
        """A rate_limited error saying which message type it refuses and when to retry."""
        if not self._throttled:
            logger.warning("ws throttled %s user=%s", self.path, self.scope["user"])
        self._throttled = True
        about = None
        with contextlib.suppress(ProtocolError):  # a refused frame that is not JSON gets about=None
            about = decode(text_data, None, settings.REALTIME["MAX_MESSAGE_BYTES"])["type"]
        await self.send_frame(
            "error",
            code="rate_limited",
            message="Too many messages; slow down.",
            about=about,
            retry_after=round(retry_after, 2),
        )

    async def __call__(self, scope, receive, send) -> None:
        """AsyncConsumer.__call__ with one more source of messages: the typed events
        the hub hands this consumer from its groups. Every message is dispatched to
        the handler named after its type, as Channels does."""
        self.scope = scope

        async def send_unless_closing(message: dict) -> None:
            # A frame for a socket on its way out is dropped: its disconnect follows.
            with contextlib.suppress(SOCKET_CLOSING):
                await send(message)
                if message["type"] == "websocket.send":
                    self._frames_out.inc()

        self.base_send = send_unless_closing
        sources = [receive, self.events.get]
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        try:
            if self.channel_layer is not None:
                try:
                    self.channel_name = await self.channel_layer.new_channel()
                except LAYER_ERRORS as error:
                    logger.warning("ws refused %s: channel layer unreachable: %s", self.path, error)
                    await self.base_send({"type": "websocket.close", "code": SERVICE_RESTART})
                    return
                sources.append(self._receive_own_channel)
            await await_many_dispatch(sources, self.dispatch)
        except StopConsumer:
            pass
        finally:  # however the connection ended, this socket leaves the hub
            if self.accepted:
                metrics.SOCKETS_OPEN.labels(self.app, type(self).__name__).dec()
            if self._claimed_socket:
                socket_cap.release(self.user_key)
            if self.joined:
                await get_hub(self.groups_layer_alias).leave(self, self.joined)

    async def _receive_own_channel(self) -> dict:
        """The next message sent to self.channel_name (channel_layer.send), as in Channels."""
        if self._layer_lost:
            await asyncio.Event().wait()  # already closing: nothing more from here
        try:
            return await self.channel_layer.receive(self.channel_name)
        except LAYER_ERRORS as error:
            self._layer_lost = True
            return {"type": "realtime.layer_lost", "error": str(error)}

    async def realtime_layer_lost(self, event: dict) -> None:
        logger.warning("ws %s: channel layer unreachable (%s), closing", self.path, event["error"])
        await self.close(code=SERVICE_RESTART)  # the browser reconnects and resumes

    async def websocket_connect(self, message: dict) -> None:
        # Set by AuthMiddlewareStack, or TokenAuthMiddleware for a program (config/asgi.py).
        user = self.scope.get("user")
        signed_in = getattr(user, "is_authenticated", False)
        who = user.username if signed_in else "anonymous"
        if self.login_required and not signed_in:
            logger.info("ws refused %s user=anonymous", self.path)
            await self.close()  # before accept(): the handshake is refused
            return
        if signed_in and self.opened_for_another_user():
            logger.info("ws refused %s user=%s: the page is another user's", self.path, who)
            await self.base_send({"type": "websocket.accept"})  # to close with a code
            await self.close(code=sessions.OTHER_USER)
            return
        if signed_in:
            limit = settings.REALTIME["MAX_SOCKETS_PER_USER"]
            if not socket_cap.claim(self.user_key, limit):
                # Accepted only to close with a code the browser can see (a refused
                # handshake has none); connect() never runs.
                logger.warning("ws refused %s user=%s: %d sockets open", self.path, who, limit)
                await self.base_send({"type": "websocket.accept"})
                await self.close(code=TOO_MANY_SOCKETS)
                return
            self._claimed_socket = True
        try:
            if signed_in:
                # Logging out, deactivation or a password change closes it (sessions.py).
                await self.join(sessions.user_group(self.user.pk))
            await super().websocket_connect(message)  # runs connect()
        except (*LAYER_ERRORS, LayerUnavailable) as error:
            # Redis is down: refuse the handshake, or close if connect() had
            # accepted it already; the browser retries. One log line, no traceback.
            logger.warning(
                "ws refused %s user=%s: channel layer unreachable (%s)", self.path, who, error
            )
            await self.close(code=SERVICE_RESTART)
            return
        if self.accepted:
            logger.info("ws open %s user=%s", self.path, who)
        else:
            logger.info("ws refused %s user=%s", self.path, who)
        while self.accepted and (held := self._held):  # a refused socket gets none
            self._held = []
            for message in held:
                await self.base_send(message)
        self._held = None

    async def accept(self, subprotocol: str | None = None, headers=None) -> None:
        await super().accept(subprotocol, headers)
        self.accepted = True
        metrics.SOCKETS_OPEN.labels(self.app, type(self).__name__).inc()

    async def websocket_disconnect(self, message: dict) -> None:
        if self.accepted:
            logger.info("ws closed %s code=%s", self.path, message.get("code"))
        try:
            await super().websocket_disconnect(message)  # calls disconnect()
        except LayerUnavailable as error:
            # The layer is down (Redis restarting): nothing to tell a closed socket.
            logger.warning("ws closed %s while the channel layer was down: %s", self.path, error)
            raise StopConsumer() from None

    # -- outbound ------------------------------------------------------------

    async def send_frame(self, message_type: str, **fields: Any) -> None:
        """Send one frame to this socket only."""
        if message_type == "error":
            metrics.ERROR_FRAMES.labels(self.app, fields["code"]).inc()
        await self.send(text_data=encode(message_type, **fields))

    async def send_error(self, code: str, message: str, about: str | None = None) -> None:
        await self.send_frame("error", code=code, message=message, about=about)

    async def deliver(self, message: dict) -> None:
        """A frame broadcast to a group this socket is in (called by the hub): the ASGI
        message {"type": "websocket.send", "text": ...}, handed straight to the server."""
        if self._held is not None:
            self._held.append(message)
        else:
            await self.base_send(message)

    def deliver_event(self, event: dict) -> None:
        """A typed event from one of this socket's groups (called by the hub); it is
        dispatched in this consumer's own task, after what it is handling now."""
        try:
            self.events.put_nowait(event)
        except asyncio.QueueFull:
            logger.warning("ws %s: %d events behind, closing", self.path, MAX_QUEUED_EVENTS)
            self.events = asyncio.Queue(MAX_QUEUED_EVENTS)  # nothing more for a closing socket
            # The browser reconnects and resumes; keep a reference so the task is not collected.
            self._closing = asyncio.ensure_future(self.close(code=SERVICE_RESTART))

    async def realtime_force_disconnect(self, event: dict) -> None:
        """Sent to the user's group when their session ends or one of their access
        tokens is revoked (realtime/sessions.py)."""
        if "token_id" in event and event["token_id"] != self.scope.get("access_token_id"):
            return  # another token's sockets, or a browser's
        logger.info("ws closed %s: %s", self.path, event.get("reason", "session ended"))
        await self.close(code=event.get("code", sessions.SESSION_ENDED))

    # -- groups and presence -------------------------------------------------

    async def join(self, group: str) -> None:
        """Subscribe this socket to `group`; it is left automatically on disconnect.

        Call it before accept(): if the channel layer is unreachable it raises,
        the handshake fails and the browser retries instead of hearing nothing.
        """
        await get_hub(self.groups_layer_alias).join(group, self)
        self.joined.append(group)

    async def enter_presence_and_list(self, group: str) -> tuple[bool, list[str]]:
        """Count this socket's user as present in `group`: True if they were not already,
        and who is in it now (usernames, sorted). One database call, shared by a burst
        of sockets in a connection storm. The hub refreshes the row while the socket
        stays open."""
        # Set first: leave_presence() then deletes the row even if this is cancelled.
        self.in_presence = True
        return await presence.aenter_and_list(group, self.user, self.socket_id)

    async def leave_presence(self) -> list[str]:
        """Remove this socket's presence; return the groups its user has now left entirely."""
        if not self.in_presence:
            return []
        self.in_presence = False
        return await database_sync_to_async(presence.leave)(self.socket_id)


class NoRouteConsumer(AsyncWebsocketConsumer):
    """The last of the project's WebSocket routes: any other path is refused with one
    log line (without it, Channels' URLRouter raises and daphne logs a traceback)."""

    async def connect(self) -> None:
        logger.info("ws refused %s: no such endpoint", self.scope["path"][:200])
        await self.close()
