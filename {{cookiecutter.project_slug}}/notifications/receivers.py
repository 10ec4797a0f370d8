"""Receivers of the realtime core's signals (realtime/signals.py)."""

from . import services
from .models import Announcement


def notify_from_signal(sender, recipient, title, body="", link="", level="info", **kwargs):
    """Other apps' `notify_user` signals (a chat mention, a game turn) become notifications."""
    services.notify(recipient, title, body=body, link=link, level=level)


def push_what_commands_stored(sender, **kwargs):
    """In-memory layer: push what commands and shells stored for this server process."""
    services.push_pending()
    if Announcement.objects.filter(delivered_at__isnull=True).exists():  # a read: no lock
        services.deliver_pending()
