from django.urls import path

from . import consumers
from .services import FANOUT_CHANNEL

websocket_urlpatterns = [
    path("ws/notifications/", consumers.NotificationConsumer.as_asgi()),
]

# Background channels, served by `manage.py runworker notifications-fanout`.
channel_routes = {
    FANOUT_CHANNEL: consumers.AnnouncementWorker.as_asgi(),
}
