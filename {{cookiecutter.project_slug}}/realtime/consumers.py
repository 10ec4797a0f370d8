"""RealtimeConsumer: the base of every WebSocket consumer in the project.

A subclass declares one short handler per inbound message type:

    class RoomConsumer(RealtimeConsumer):
        @handles("chat.send", SendMessage)
        async def on_send(self, message: SendMessage): ...

and gets, for free:
- inbound frames decoded and validated (realtime/envelope.py); a bad one is
  answered with {"type": "error", "code": ..., "message": ...} and the
  connection stays open;
- `join(group)` for groups that depend on the connection (the room in the URL),
  left automatically on disconnect; frames sent to the group with
  realtime.broadcast reach this socket through this process's hub
  (realtime/hub.py), one channel-layer message per process, not per socket;
- presence rows kept fresh while the socket is open and removed when it closes;
- rate limits per connection and per user (across their sockets and processes),
  and a cap on each user's sockets (realtime/ratelimit.py): a flood gets
  "rate_limited" error frames saying when to retry, while everyone else carries on.
"""

import logging
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qs

from channels import DEFAULT_CHANNEL_LAYER
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from . import presence
from .envelope import Inbound, ProtocolError, decode, encode, validate
from .hub import LAYER_ERRORS, SERVICE_RESTART, get_hub
from .ratelimit import TokenBucket, socket_cap, user_budget_refusal

logger = logging.getLogger("realtime")

Handler = Callable[[Any, Any], Awaitable[None]]

# Close code for "this user has too many sockets open here" (like HTTP 429).
TOO_MANY_SOCKETS = 4429


def handles(message_type: str, schema: type[Inbound]) -> Callable[[Handler], Handler]:
    """Register the decorated method as the handler of `message_type` frames."""

    def register(method: Handler) -> Handler:
        method.handles = (message_type, schema)
        return method

    return register


class RealtimeConsumer(AsyncWebsocketConsumer):
    # message type -> (schema, method name); filled in from @handles methods.
    handlers: dict[str, tuple[type[Inbound], str]] = {}
    # The channel layer this consumer's groups live in (settings.CHANNEL_LAYERS).
    groups_layer_alias = DEFAULT_CHANNEL_LAYER
    # No channel-layer channel per socket: group frames come through the hub,
    # which saves a layer message and a dispatch per recipient. A consumer that
    # must receive channel_layer.send(...) itself can set this back to "default".
    channel_layer_alias = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.handlers = dict(cls.handlers)
        for name, attribute in vars(cls).items():
            if spec := getattr(attribute, "handles", None):
                message_type, schema = spec
                cls.handlers[message_type] = (schema, name)

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
        self._claimed_socket = False  # counted in socket_cap, released when the socket ends

    # -- inbound -------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message_type = None
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
        with suppress(ProtocolError):  # a refused frame that is not JSON gets about=None
            about = decode(text_data, None, settings.REALTIME["MAX_MESSAGE_BYTES"])["type"]
        await self.send_frame(
            "error",
            code="rate_limited",
            message="Too many messages; slow down.",
            about=about,
            retry_after=round(retry_after, 2),
        )

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:  # however the connection ended, this socket leaves the hub
            if self._claimed_socket:
                socket_cap.release(self.user_key)
            if self.joined:
                await get_hub(self.groups_layer_alias).leave(self, self.joined)

    async def websocket_connect(self, message: dict) -> None:
        who = getattr(self.scope.get("user"), "username", "") or "anonymous"
        if self.user_key is not None:
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
            await super().websocket_connect(message)  # runs connect()
        except (*LAYER_ERRORS, ProtocolError) as error:
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

    async def websocket_disconnect(self, message: dict) -> None:
        if self.accepted:
            logger.info("ws closed %s code=%s", self.path, message.get("code"))
        try:
            await super().websocket_disconnect(message)  # calls disconnect()
        except ProtocolError as error:
            # The layer is down (Redis restarting): nothing to tell a closed socket.
            logger.warning("ws closed %s while the channel layer was down: %s", self.path, error)
            raise StopConsumer() from None

    # -- outbound ------------------------------------------------------------

    async def send_frame(self, message_type: str, **fields: Any) -> None:
        """Send one frame to this socket only."""
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

    # -- groups and presence -------------------------------------------------

    async def join(self, group: str) -> None:
        """Subscribe this socket to `group`; it is left automatically on disconnect.

        Raises if the channel layer is unreachable: call it before accept(), so
        the handshake fails and the browser retries instead of hearing nothing.
        """
        await get_hub(self.groups_layer_alias).join(group, self)
        self.joined.append(group)

    async def enter_presence(self, group: str) -> bool:
        """Count this socket's user as present in `group`; True if they were not already.

        The hub refreshes the row while the socket stays open."""
        first = await database_sync_to_async(presence.enter)(group, self.user, self.socket_id)
        self.in_presence = True
        return first

    async def leave_presence(self) -> list[str]:
        """Remove this socket's presence; return the groups its user has now left entirely."""
        if not self.in_presence:
            return []
        self.in_presence = False
        return await database_sync_to_async(presence.leave)(self.socket_id)

    # -- helpers -------------------------------------------------------------

    def query_param(self, name: str) -> str | None:
        """One value from the connection URL's query string (?name=value)."""
        values = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get(name)
        return values[0] if values else None

    @property
    def user(self):
        return self.scope["user"]

    @property
    def user_key(self) -> str | None:
        """Names this socket's user in the per-user limits; None for anonymous sockets."""
        user = self.scope.get("user")
        return f"user:{user.pk}" if user is not None and user.is_authenticated else None

    @property
    def path(self) -> str:
        return self.scope["path"]
