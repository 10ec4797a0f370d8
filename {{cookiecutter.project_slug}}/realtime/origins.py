"""The WebSocket Origin check: the page opening a socket must be this site's own.

A browser sends the session cookie with a WebSocket handshake from any site, and
CORS does not apply, so the Origin header is what stops another site opening a
signed-in socket (cross-site WebSocket hijacking). Channels'
AllowedHostsOriginValidator compares host names only, so http://example.com:8080
or http://example.com would pass for https://example.com; this compares the whole
origin: scheme, host and port.
"""

import logging

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger("realtime")

DEFAULT_PORTS = {"http": "80", "https": "443"}


def normalize(origin: str) -> str | None:
    """The origin as "scheme://host[:port]": lower case, no default port; None if not one
    (Django's split_domain_port finds no domain in a host followed by a path, query or
    fragment, or with a user or a backslash)."""
    scheme, _, netloc = origin.strip().lower().partition("://")
    domain, _port = split_domain_port(netloc)
    if scheme not in DEFAULT_PORTS or not domain:
        return None
    return f"{scheme}://{netloc.removesuffix(':' + DEFAULT_PORTS[scheme])}"


def site_scheme(scope: dict, headers: dict[str, str]) -> str:
    """The scheme the browser used, as Django's request.scheme decides it: behind a
    TLS-terminating proxy, from SECURE_PROXY_SSL_HEADER (daphne puts no scheme in a
    WebSocket scope, even with --proxy-headers); else from the scope (ASGI: ws or wss)."""
    if proxy_header := settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = proxy_header
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower()
        if (value := headers.get(name)) is not None:
            return "https" if value.split(",")[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") == "wss" else "http"


def allowed_hosts() -> list[str]:
    if settings.DEBUG and not settings.ALLOWED_HOSTS:  # as Django does for HTTP
        return [".localhost", "127.0.0.1", "[::1]"]
    return settings.ALLOWED_HOSTS


class SameOriginValidator:
    """ASGI middleware: refuse a WebSocket handshake unless its Origin is the site's own
    (the request's scheme and Host, the Host one of ALLOWED_HOSTS) or one of
    settings.WEBSOCKET_ALLOWED_ORIGINS. No Origin at all is refused too."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not self.allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)

    def allowed(self, scope: dict) -> bool:
        # Latin-1, as Django decodes HTTP headers: any bytes a client sends are text.
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        sent_origin, host = headers.get("origin", ""), headers.get("host", "")
        origin = normalize(sent_origin)
        if origin is not None and origin in {
            normalize(trusted) for trusted in settings.WEBSOCKET_ALLOWED_ORIGINS
        }:
            return True
        domain, _port = split_domain_port(host)
        own = normalize(f"{site_scheme(scope, headers)}://{host}")
        if origin is not None and origin == own and validate_host(domain, allowed_hosts()):
            return True
        logger.info(
            "ws refused %s: origin %r is not this site's (%s)",
            scope["path"][:200],
            sent_origin[:200],
            own,
        )
        return False
