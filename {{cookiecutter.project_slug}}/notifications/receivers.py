"""Turn other apps' `realtime.signals.notify_user` signals into notifications."""

from .services import notify


def notify_from_signal(sender, recipient, title, body="", link="", level="info", **kwargs):
    notify(recipient, title, body=body, link=link, level=level)
