"""Personal access tokens: how programs without a browser open the WebSockets.

A browser signs in with its session cookie, and the Origin check
(realtime/origins.py) stops other sites from using that cookie. A bot or a
mobile app has no cookie and no Origin: it sends its token in a header,

    Authorization: Bearer rt_...

which every WebSocket client outside a browser can set (the `websockets`
package: additional_headers=...). Never in the URL: URLs are written to
daphne's, nginx's and every proxy's access logs, and stay in shell histories.

TokenAuthMiddleware (config/asgi.py) sends a handshake that carries a Bearer
token down a path of its own: the token alone names the user, the session
cookie is not read, and the Origin check does not apply, as no page of another
site can set that header (browsers cannot set headers on a WebSocket, and
never send a Bearer token by themselves). Every other handshake goes through
the Origin check and the session, unchanged.

Revoking a token (revoke) closes the sockets it opened, in every server
process, with TOKEN_REVOKED: the same control event as a logout
(realtime/sessions.py), carrying the token's id.
"""

import hashlib
import logging
import secrets

from channels.security.websocket import WebsocketDenier
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from realtime.db import database_sync_to_async
from realtime.sessions import end_token_sockets

from .models import AccessToken

logger = logging.getLogger("realtime")

PREFIX = "rt_"  # makes a leaked token easy to recognise (and to search for in code)
MAX_TOKEN_LENGTH = 100  # a longer header value is no token of ours: refused without hashing it
MAX_TOKENS_PER_USER = 20


def hash_token(token: str) -> str:
    """SHA-256, unsalted: the token is 256 random bits, so it cannot be guessed from its
    hash, and an index on the hash finds it in one lookup (a slow password hash would not)."""
    return hashlib.sha256(token.encode()).hexdigest()


class TooManyTokens(Exception):
    pass


def create_token(user, name: str) -> tuple[AccessToken, str]:
    """A new token of `user`: (the stored row, the token itself, to show once)."""
    with transaction.atomic():
        # Lock the user's row, so two requests at once cannot both pass the cap.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if AccessToken.objects.filter(user=user).count() >= MAX_TOKENS_PER_USER:
            raise TooManyTokens(f"You have {MAX_TOKENS_PER_USER} tokens; revoke one first.")
        token = PREFIX + secrets.token_urlsafe(32)
        row = AccessToken.objects.create(user=user, name=name, key_hash=hash_token(token))
    return row, token


def revoke(user, token_id: int) -> AccessToken | None:
    """Delete one of `user`'s tokens and close the sockets it opened; None if not theirs."""
    row = AccessToken.objects.filter(user=user, pk=token_id).first()
    if row is None or not AccessToken.objects.filter(pk=row.pk).delete()[0]:
        return None
    # After the commit: a socket that reconnects at once must find the token gone.
    transaction.on_commit(lambda: end_token_sockets(user.pk, token_id))
    return row


def bearer_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, "" if malformed, else None.

    Other schemes (Basic, sent by browsers on a site behind HTTP authentication)
    are not ours: those handshakes go the session's way."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return None


def user_of_token(token: str) -> tuple[object, int] | None:
    """(user, token id) of a live token of an active user, noting its use; else None."""
    if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = AccessToken.objects.select_related("user").filter(key_hash=hash_token(token)).first()
    if row is None or not row.user.is_active:
        return None
    AccessToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user, row.pk


class TokenAuthMiddleware:
    """ASGI middleware for the WebSocket handshake: a Bearer token goes to `tokens`
    (the routes alone) with scope["user"] and scope["access_token_id"] set, or is
    refused; any other handshake goes to `sessions` (Origin check, cookie session)."""

    def __init__(self, sessions, tokens) -> None:
        self.sessions = sessions
        self.tokens = tokens

    async def __call__(self, scope, receive, send):
        token = bearer_token(scope.get("headers", [])) if scope["type"] == "websocket" else None
        if token is None:
            return await self.sessions(scope, receive, send)
        found = await database_sync_to_async(user_of_token)(token)
        if found is None:
            # Never log the token itself.
            logger.info("ws refused %s: unknown or revoked token", scope.get("path", "")[:200])
            return await WebsocketDenier()(scope, receive, send)
        user, token_id = found
        # The token's user only: this path has no session middleware, so a cookie
        # sent along is never read.
        scope = {**scope, "user": user, "access_token_id": token_id}
        return await self.tokens(scope, receive, send)
