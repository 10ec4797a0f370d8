"""ASGI entry point: HTTP goes to Django (but for the apps' Channels HTTP consumers),
WebSockets to the Channels consumers.

Serve it with daphne: `daphne config.asgi:application`.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Build the Django app first: it sets Django up, so the imports below can load models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from accounts.tokens import TokenAuthMiddleware  # noqa: E402
from realtime.origins import SameOriginValidator  # noqa: E402

from .routing import channel_routes, http_urlpatterns, websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # The apps' HTTP consumers (Server-Sent Events) first; Django serves every other path.
        "http": URLRouter([*http_urlpatterns, re_path(r"", django_asgi_app)]),
        # Browsers cannot set headers on a WebSocket, so consumers authenticate
        # with the session cookie; the Origin check stops other sites using it.
        # Programs (bots, apps) send "Authorization: Bearer <token>" instead, which
        # no browser page can send: they skip both (accounts/tokens.py).
        "websocket": TokenAuthMiddleware(
            sessions=SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
            tokens=URLRouter(websocket_urlpatterns),
        ),
        # Background jobs sent with channel_layer.send(), run by `manage.py runworker`.
        "channel": ChannelNameRouter(channel_routes),
    }
)
