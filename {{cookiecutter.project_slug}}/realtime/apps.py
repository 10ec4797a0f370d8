from django.apps import AppConfig
from django.urls import register_converter


class RealtimeConfig(AppConfig):
    """The shared realtime core: envelope, base consumer, broadcast, presence, browser client."""

    name = "realtime"
    verbose_name = "Realtime core"

    def ready(self) -> None:
        from .converters import IdConverter

        # Before any URLconf is loaded, so every app's urls.py and routing.py can use <id:...>.
        register_converter(IdConverter, "id")
