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
    """The origin as "scheme://host[:port]": lower case, no default port; None if not one."""
    scheme, separator, netloc = origin.strip().lower().partition("://")
    if not separator or scheme not in DEFAULT_PORTS or not netloc:
        return None
    domain, _port = split_domain_port(netloc)
    if not domain or any(char in netloc for char in "/?#@\\"):
        return None
    return f"{scheme}://{netloc.removesuffix(':' + DEFAULT_PORTS[scheme])}"


def site_scheme(scope: dict, headers: dict[bytes, bytes]) -> str:
    """The scheme the browser used, as Django's request.scheme decides it: behind a
    TLS-terminating proxy, from SECURE_PROXY_SSL_HEADER (daphne puts no scheme in a
    WebSocket scope, even with --proxy-headers); else from the scope."""
    if proxy_header := getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        meta_name, secure_value = proxy_header
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        if (value := headers.get(name)) is not None:
            first = value.decode("latin-1").split(",")[0].strip()
            return "https" if first == secure_value else "http"
    return "https" if scope.get("scheme") in ("wss", "https") else "http"


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
        headers = dict(scope.get("headers", []))
        origin = normalize(headers.get(b"origin", b"").decode("latin-1"))
        if origin is not None and origin in {
            normalize(trusted) for trusted in settings.WEBSOCKET_ALLOWED_ORIGINS
        }:
            return True
        host = headers.get(b"host", b"").decode("latin-1")
        domain, _port = split_domain_port(host)
        own = normalize(f"{site_scheme(scope, headers)}://{host}")
        if origin is not None and origin == own and validate_host(domain, allowed_hosts()):
            return True
        logger.info(
            "ws refused %s: origin %r is not this site's (%s)",
            scope.get("path", "")[:200],
            headers.get(b"origin", b"").decode("latin-1")[:200],
            own,
        )
        return False
