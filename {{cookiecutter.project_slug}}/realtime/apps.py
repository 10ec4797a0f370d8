from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """The shared realtime core: envelope, base consumer, hub, presence, sessions, client."""

    name = "realtime"
    verbose_name = "Realtime core"

    def ready(self):
        from . import sessions

        sessions.connect_signals()
