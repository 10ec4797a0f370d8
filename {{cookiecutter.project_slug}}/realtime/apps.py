from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """The shared realtime core: envelope, base consumer, broadcast, presence, browser client."""

    name = "realtime"
    verbose_name = "Realtime core"
