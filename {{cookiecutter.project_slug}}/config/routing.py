"""Every WebSocket URL of the project, its Channels HTTP consumers, and the background
channels for `runworker`.

Each app lists its own in <app>/routing.py: `websocket_urlpatterns`, and optionally
`http_urlpatterns` (Channels HTTP consumers, such as a Server-Sent Events stream,
served before Django's views) and `channel_routes` (channel name -> consumer) for
`manage.py runworker <channel>`.
"""

from importlib import import_module

from django.conf import settings
from django.urls import re_path

from realtime.consumers import NoRouteConsumer

app_routing = [import_module(f"{app}.routing") for app in settings.EXAMPLE_APPS]

websocket_urlpatterns = [
    *(path for routing in app_routing for path in routing.websocket_urlpatterns),
    re_path(r"", NoRouteConsumer.as_asgi()),  # last: any other path is refused cleanly
]

http_urlpatterns = [
    path for routing in app_routing for path in getattr(routing, "http_urlpatterns", [])
]

channel_routes = {
    name: consumer
    for routing in app_routing
    for name, consumer in getattr(routing, "channel_routes", {}).items()
}
