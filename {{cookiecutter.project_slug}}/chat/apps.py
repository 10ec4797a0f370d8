from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Chat rooms with history, presence, typing and loss-free reconnect."""

    name = "chat"
    # Shown in the site navigation and on the home page (config.context_processors).
    nav_label = "Chat"
    nav_url = "chat:rooms"
    nav_description = (
        "Rooms with live messages, who is here, who is typing, and history that "
        "survives reloads and dropped connections."
    )

    def ready(self):
        from realtime.signals import presence_expired

        from .services import announce_expired_presence

        presence_expired.connect(announce_expired_presence, dispatch_uid="chat.presence_expired")
