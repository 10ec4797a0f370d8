from django.apps import AppConfig
from django.urls import register_converter


class RealtimeConfig(AppConfig):
    """The shared realtime core: envelope, base consumer, hub, presence, sessions, client."""

    name = "realtime"
    verbose_name = "Realtime core"

    # Runs once at start-up, before mutmut switches a mutant on: `make mutate` cannot test it
    # (realtime/tests/test_sessions.py and every <id:...> URL do).
    def ready(self) -> None:  # pragma: no mutate block
        from . import sessions
        from .converters import IdConverter

        sessions.connect_signals()
        # Before any URLconf is loaded, so every app's urls.py and routing.py can use <id:...>.
        register_converter(IdConverter, "id")
