"""Receivers of the realtime core's signals (realtime/signals.py)."""

from . import services


def notify_from_signal(sender, recipient, title, body="", link="", level="info", **kwargs):
    """Other apps' `notify_user` signals (a chat mention, a game turn) become notifications."""
    services.notify(recipient, title, body=body, link=link, level=level)
