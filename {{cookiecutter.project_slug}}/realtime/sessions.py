"""A socket lives no longer than the session that opened it.

Every signed-in socket is in its user's group (joined by RealtimeConsumer). When
the user logs out, is deactivated or changes password, `end_sessions` sends the
typed event {"type": "realtime.force_disconnect"} to that group: every socket of
the user, in every server process, runs `realtime_force_disconnect()` and closes
with SESSION_ENDED. Sockets whose session is still valid (another device, or the
tab where the password was changed) reconnect by themselves; the others are
refused at the handshake, as Channels' AuthMiddleware re-reads the session, until
the same user signs in again. A page names its user when it connects (?user=<id>,
realtime/client.js): a socket whose session is someone else's closes with
OTHER_USER, so a tab never sends what one user typed as another.

Sockets sign in from the session with SocketAuthMiddlewareStack (config/asgi.py),
Channels' AuthMiddlewareStack without its wrapper around every frame sent.

This is the Channels pattern of a control event sent to a user's channels; use it
for any "stop serving this user now" (a ban, an account deletion). An event that
names a token ("token_id") closes only the sockets that token opened
(accounts/tokens.py: revoking a personal access token).
"""

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, InstanceSessionWrapper, SessionMiddleware
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save, pre_save

SESSION_ENDED = 4401  # close code: the session behind this socket has ended
# Close code: the page that opened this socket was for another user (its tab outlived
# a log-out, then someone else signed in in that browser). Browsers stop retrying.
OTHER_USER = 4409
TOKEN_REVOKED = 4410  # close code: the access token behind this socket was revoked (do not retry)


class SocketSessionMiddleware(SessionMiddleware):
    """Channels' SessionMiddleware without its wrapper around every message sent.

    That wrapper saves a changed session on an HTTP response and reads the session
    (two lazy lookups) on every other message to decide so: for a WebSocket, every
    frame, for nothing (a consumer that changes the session saves it itself, as
    channels.auth.login() asks). The session is resolved the same way.
    """

    async def __call__(self, scope, receive, send):
        wrapper = InstanceSessionWrapper(scope, send)
        await wrapper.resolve_session()
        return await self.inner(wrapper.scope, receive, send)


# Built once when config/asgi.py is imported, before mutmut switches a mutant on: out of
# `make mutate`'s reach (every test through config.asgi covers it).
def SocketAuthMiddlewareStack(inner):  # pragma: no mutate block
    """Channels' AuthMiddlewareStack (and named like it) for WebSockets: the same
    layers, with SocketSessionMiddleware."""
    return CookieMiddleware(SocketSessionMiddleware(AuthMiddleware(inner)))


def user_group(user_id: int) -> str:
    """The group of every open socket of one user (derived from the session, never the client)."""
    return f"realtime.user.{user_id}"


def end_sessions(user_id: int, reason: str) -> None:
    """Close every open socket of the user, in every server process (sync code)."""
    from .broadcast import send_event_from_sync

    event = {"type": "realtime.force_disconnect", "reason": reason, "code": SESSION_ENDED}
    send_event_from_sync(user_group(user_id), event)


def end_token_sockets(user_id: int, token_id: int) -> None:
    """Close the sockets opened with one access token of the user, in every server process."""
    from .broadcast import send_event_from_sync

    event = {
        "type": "realtime.force_disconnect",
        "reason": "token revoked",
        "code": TOKEN_REVOKED,
        "token_id": token_id,
    }
    send_event_from_sync(user_group(user_id), event)


def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        end_sessions(user.pk, "logged out")


def _note_session_changes(sender, instance, update_fields=None, **kwargs) -> None:
    """Before a user is saved: will this save end their sessions (password, is_active)?"""
    instance._ends_sessions = None
    if instance.pk is None or (
        update_fields is not None and not {"password", "is_active"} & set(update_fields)
    ):
        return  # a new user, or a save that cannot change either (like last_login)
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    if before["password"] != instance.password:
        instance._ends_sessions = "password changed"
    elif before["is_active"] and not instance.is_active:
        instance._ends_sessions = "account deactivated"


def _end_sessions_after_save(sender, instance, **kwargs) -> None:
    if reason := getattr(instance, "_ends_sessions", None):
        # After the commit: a socket that reconnects at once must find the change.
        transaction.on_commit(lambda: end_sessions(instance.pk, reason))


# Runs once at start-up (see RealtimeConfig.ready): out of `make mutate`'s reach.
def connect_signals() -> None:  # pragma: no mutate block
    """Called by RealtimeConfig.ready()."""
    user_model = get_user_model()
    user_logged_out.connect(_logged_out, dispatch_uid="realtime.sessions.logged_out")
    pre_save.connect(_note_session_changes, sender=user_model, dispatch_uid="realtime.sessions.pre")
    post_save.connect(
        _end_sessions_after_save, sender=user_model, dispatch_uid="realtime.sessions.post"
    )
