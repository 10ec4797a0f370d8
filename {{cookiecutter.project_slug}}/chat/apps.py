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
