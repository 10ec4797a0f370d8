from channels.auth import AuthMiddlewareStack
from django.urls import path

from . import consumers
from .services import FANOUT_CHANNEL

websocket_urlpatterns = [
    path("ws/notifications/", consumers.NotificationConsumer.as_asgi()),
]

# Channels' HTTP consumers, before Django's views (config/asgi.py). The session says who
# the user is, as on the sockets.
http_urlpatterns = [
    path(
        "notifications/stream/",
        AuthMiddlewareStack(consumers.NotificationStreamConsumer.as_asgi()),
    ),
]

# Background channels, served by `manage.py runworker notifications-fanout`.
channel_routes = {
    FANOUT_CHANNEL: consumers.AnnouncementWorker.as_asgi(),
}
