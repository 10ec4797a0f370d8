from django.apps import AppConfig
from django.urls import register_converter


class RealtimeConfig(AppConfig):
    """The shared realtime core: envelope, base consumer, hub, presence, sessions, client."""

    name = "realtime"
    verbose_name = "Realtime core"

    def ready(self) -> None:
        from . import sessions
        from .converters import IdConverter

        sessions.connect_signals()
        # Before any URLconf is loaded, so every app's urls.py and routing.py can use <id:...>.
        register_converter(IdConverter, "id")
