"""ASGI entry point: HTTP goes to Django (but for the apps' Channels HTTP consumers),
WebSockets to the Channels consumers.

Serve it with daphne: `daphne config.asgi:application`.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Build the Django app first: it sets Django up, so the imports below can load models.
django_asgi_app = get_asgi_application()

from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from accounts.tokens import TokenAuthMiddleware  # noqa: E402
from realtime.origins import SameOriginValidator  # noqa: E402
from realtime.sessions import SocketAuthMiddlewareStack  # noqa: E402

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
            sessions=SameOriginValidator(
                SocketAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
            ),
            tokens=URLRouter(websocket_urlpatterns),
        ),
        # Background jobs sent with channel_layer.send(), run by `manage.py runworker`.
        "channel": ChannelNameRouter(channel_routes),
    }
)

# Python's cyclic garbage collector. A process with a thousand sockets holds a few
# hundred thousand objects, and under load the default thresholds (700, 10, 10)
# start a full pass over all of them every few seconds, each stopping every socket
# of the process (`make bench`, 500 sockets: 80 to 190 ms each; the steady chat's
# p99 226 to 314 ms). Freeze what is loaded by now (it lives as long as the process)
# out of every pass, and collect the youngest generation only once 50,000 more
# objects exist than at its last pass: a message's short-lived objects die before
# they are promoted, and full passes come only as the process grows (the steady
# chat's p99 54 to 118 ms in five runs).
gc.freeze()
gc.set_threshold(50_000, 10, 10)
