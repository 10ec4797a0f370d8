"""The WebSocket Origin check (realtime/origins.py): scheme, host and port must all match."""

import logging
from importlib import import_module

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from realtime.origins import SameOriginValidator, normalize

# The project's own stack. Imported here, not in a test: importing it sets Django up,
# which reconfigures logging and would unhook the test's caplog.
application = import_module(settings.ROOT_URLCONF.rsplit(".", 1)[0] + ".asgi").application

pytestmark = pytest.mark.django_db  # consumers close stale database connections


class Accepts(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()


async def handshake(
    origin: str | None, host: str = "testserver", scheme: str = "ws", **extra_headers
) -> bool:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    headers += [(name.replace("_", "-").encode(), v.encode()) for name, v in extra_headers.items()]
    communicator = WebsocketCommunicator(SameOriginValidator(Accepts.as_asgi()), "/ws/", headers)
    communicator.scope["scheme"] = scheme  # the ASGI spec's ws, or wss over TLS
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return connected


async def test_the_sites_own_origin_is_accepted():
    assert await handshake("http://testserver")
    assert await handshake("HTTP://TestServer:80")  # the same origin, written differently


async def test_another_port_on_the_same_host_is_refused():
    assert not await handshake("http://testserver:8080")


async def test_another_scheme_on_the_same_host_is_refused():
    assert not await handshake("https://testserver")


async def test_over_a_tls_socket_without_a_proxy_the_sites_origin_is_https():
    assert await handshake("https://testserver", scheme="wss")
    assert not await handshake("http://testserver", scheme="wss")


async def test_behind_a_tls_proxy_the_scheme_comes_from_x_forwarded_proto(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert await handshake("https://testserver", x_forwarded_proto="https")
    assert not await handshake("http://testserver", x_forwarded_proto="https")
    # A page the proxy served over plain HTTP: its origin is http, and an https one is not it.
    assert await handshake("http://testserver", x_forwarded_proto="http")
    assert not await handshake("https://testserver", x_forwarded_proto="http")
    # Proxies in a chain each add theirs: the first is the browser's, as Django reads it.
    assert await handshake("https://testserver", x_forwarded_proto="https,http")
    assert not await handshake("http://testserver", x_forwarded_proto="https,http")


async def test_a_configured_origin_is_accepted(settings):
    settings.WEBSOCKET_ALLOWED_ORIGINS = ["https://app.example.com"]
    assert await handshake("https://app.example.com")
    assert not await handshake("https://app.example.com:8443")
    assert not await handshake("http://app.example.com")


async def test_a_host_outside_allowed_hosts_is_refused_even_with_a_matching_origin():
    # DNS rebinding: the attacker's name resolves to this server.
    assert not await handshake("http://evil.example", host="evil.example")


@pytest.mark.parametrize("origin", [None, "", "null", "testserver", "http://testserver/path"])
async def test_a_missing_or_malformed_origin_is_refused(origin):
    assert not await handshake(origin)


async def test_a_misconfigured_allowed_origin_does_not_let_a_missing_origin_in(settings):
    """An entry without its scheme is not an origin: a client sending no Origin at all (a
    script, not a browser page) must not match it."""
    settings.WEBSOCKET_ALLOWED_ORIGINS = ["app.example.com"]
    assert not await handshake(None)
    assert not await handshake("app.example.com")


async def test_the_sites_own_origin_on_a_port_is_accepted():
    assert await handshake("http://testserver:8000", host="testserver:8000")
    assert not await handshake("http://testserver:8000", host="testserver:8001")


@pytest.mark.parametrize(
    "host", ["localhost:8000", "app.localhost", "127.0.0.1:8000", "[::1]:8000"]
)
async def test_in_debug_without_allowed_hosts_the_local_addresses_are_the_sites_own(settings, host):
    """As Django serves pages then: `runserver` with DEBUG and no ALLOWED_HOSTS."""
    settings.DEBUG, settings.ALLOWED_HOSTS = True, []
    assert await handshake(f"http://{host}", host=host)


async def test_local_addresses_are_refused_outside_debug_or_once_allowed_hosts_are_set(settings):
    """A page on localhost (DNS rebinding, or a local program's page) is not the site's
    when Django would not serve it either."""
    settings.DEBUG, settings.ALLOWED_HOSTS = False, []
    assert not await handshake("http://localhost:8000", host="localhost:8000")
    settings.DEBUG, settings.ALLOWED_HOSTS = True, ["example.com"]
    assert not await handshake("http://localhost:8000", host="localhost:8000")


async def raw_handshake(headers: list[tuple[bytes, bytes]]) -> bool:
    communicator = WebsocketCommunicator(SameOriginValidator(Accepts.as_asgi()), "/ws/", headers)
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return connected


async def test_a_handshake_without_host_or_with_undecodable_headers_is_refused_not_an_error():
    """Anyone can send any bytes: a missing Host or an Origin that is not UTF-8 is
    refused like any other stranger, not a server error."""
    assert not await raw_handshake([(b"origin", b"http://testserver")])
    assert not await raw_handshake([(b"host", b"testserver"), (b"origin", b"http://t\xe9st")])
    assert not await raw_handshake([(b"host", b"t\xe9st"), (b"origin", b"http://t\xe9st")])


def test_normalize():
    assert normalize("https://Example.com:443") == "https://example.com"
    assert normalize("http://example.com:8000") == "http://example.com:8000"
    assert normalize("ftp://example.com") is None


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.com@example.com",
        "https://example.com@evil.com",
        "https://example.com:443@evil.com",
        "https://example.com/path",
        "https://example.com/",
        "https://example.com?q",
        "https://example.com#f",
        "https://example.com\\evil.com",
        "https://example.com://evil.com",
    ],
)
def test_normalize_refuses_more_than_a_scheme_host_and_port(origin):
    """A browser's Origin is only scheme://host[:port]: a URL with a user, path, query or
    fragment is not an origin, whatever host a URL parser would find in it."""
    assert normalize(origin) is None


async def test_the_projects_application_checks_the_whole_origin(caplog):
    """Through the project's asgi.py: a foreign port is refused by the origin check;
    the site's own origin gets past it, to the router (a path no route matches)."""
    caplog.set_level(logging.INFO, logger="realtime")

    async def connect(origin: str) -> str:
        caplog.clear()
        headers = [(b"host", b"testserver"), (b"origin", origin.encode())]
        communicator = WebsocketCommunicator(application, "/ws/origin-probe/", headers)
        connected, _ = await communicator.connect()
        assert not connected
        await communicator.disconnect()
        return " ".join(r.getMessage() for r in caplog.records if r.name == "realtime")

    assert await connect("http://testserver:8080") == (
        "ws refused /ws/origin-probe/: origin 'http://testserver:8080' is not this site's"
        " (http://testserver)"
    )
    assert "no such endpoint" in await connect("http://testserver")


async def test_the_refusal_log_line_is_bounded_and_shows_a_missing_origin_as_empty(caplog):
    """A client chooses the path and Origin: the log keeps at most 200 characters of each,
    and a handshake without an Origin is logged with an empty one, not a made-up one."""
    caplog.set_level(logging.INFO, logger="realtime")

    async def refusal(path: str, origin: str | None) -> str:
        caplog.clear()
        headers = [(b"host", b"testserver")]
        if origin is not None:
            headers.append((b"origin", origin.encode()))
        communicator = WebsocketCommunicator(SameOriginValidator(Accepts.as_asgi()), path, headers)
        assert not (await communicator.connect())[0]
        await communicator.disconnect()
        [line] = [r.getMessage() for r in caplog.records if r.name == "realtime"]
        return line

    path, origin = "/ws/" + "p" * 300, "http://" + "o" * 300
    assert await refusal(path, origin) == (
        f"ws refused {path[:200]}: origin {origin[:200]!r} is not this site's (http://testserver)"
    )
    assert await refusal("/ws/", None) == (
        "ws refused /ws/: origin '' is not this site's (http://testserver)"
    )


async def test_the_refusal_of_a_handshake_without_host_names_no_site_origin(caplog):
    """Without a Host there is no site origin: the log line says so (None), not one made up."""
    caplog.set_level(logging.INFO, logger="realtime")
    assert not await raw_handshake([(b"origin", b"http://testserver")])
    assert [r.getMessage() for r in caplog.records if r.name == "realtime"] == [
        "ws refused /ws/: origin 'http://testserver' is not this site's (None)"
    ]
