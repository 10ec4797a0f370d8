"""Receivers of the realtime core's signals (realtime/signals.py)."""

from . import services


def notify_from_signal(sender, recipient, title, body="", link="", level="info", **kwargs):
    """Other apps' `notify_user` signals (a chat mention, a game turn) become notifications."""
    services.notify(recipient, title, body=body, link=link, level=level)


def push_what_commands_stored(sender, **kwargs):
    """In-memory layer: push what commands and shells stored for this server process."""
    services.push_pending()
    services.deliver_pending()
