"""Personal access tokens (accounts/tokens.py): stored hashed, the page, the middleware
and how it sits beside the Origin check, and revocation closing the token's sockets."""

import asyncio
import base64
from importlib import import_module

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import path, reverse

from accounts.models import AccessToken
from accounts.tokens import MAX_TOKENS_PER_USER, create_token, hash_token
from realtime.consumers import RealtimeConsumer
from realtime.sessions import SESSION_ENDED, TOKEN_REVOKED
from realtime.testing.fixtures import session_cookie


class WhoAmI(RealtimeConsumer):
    async def connect(self):
        await self.accept()
        await self.send_frame("whoami", username=self.user.username)


# The project's own stack (config/asgi.py), imported here, not in a test: importing it
# sets Django up, which reconfigures logging and would unhook a test's caplog.
config = settings.ROOT_URLCONF.rsplit(".", 1)[0]
application = import_module(f"{config}.asgi").application
project_routes = import_module(f"{config}.routing").websocket_urlpatterns


@pytest.fixture(autouse=True)
def whoami_route():
    """/ws/whoami/ among the project's own routes (both of asgi.py's routers read this
    list), so these tests need no example app."""
    route = path("ws/whoami/", WhoAmI.as_asgi())
    project_routes.insert(0, route)
    yield
    project_routes.remove(route)


OWN_ORIGIN = "http://testserver"
OTHER_ORIGIN = "https://evil.example"


async def open_socket(token=None, cookie_of=None, origin=None, authorization=None):
    """(communicator, username it is signed in as) or (None, None) if refused."""
    headers = [(b"host", b"testserver")]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if authorization is not None:
        headers.append((b"authorization", authorization.encode()))
    if cookie_of is not None:
        cookie = await database_sync_to_async(session_cookie)(cookie_of)
        headers.append((b"cookie", cookie.encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, "/ws/whoami/", headers=headers)
    connected, _ = await communicator.connect()
    if not connected:
        return None, None
    return communicator, (await communicator.receive_json_from(timeout=2))["username"]


async def closed_with(socket) -> int:
    output = await asyncio.wait_for(socket.receive_output(), timeout=2)
    assert output["type"] == "websocket.close"
    return output["code"]


@pytest.mark.django_db
def test_only_the_hash_of_a_token_is_stored(alice):
    row, token = create_token(alice, "laptop bot")
    stored = AccessToken.objects.values_list("key_hash", flat=True).get(pk=row.pk)
    assert stored == hash_token(token) != token
    assert token not in str(list(AccessToken.objects.values()))


@pytest.mark.django_db(transaction=True)
class TestTheHandshake:
    async def test_a_token_without_origin_or_cookie_signs_in_as_its_user(self, alice):
        row, token = await database_sync_to_async(create_token)(alice, "bot")
        socket, username = await open_socket(token=token)
        assert username == "alice"
        await socket.disconnect()
        await row.arefresh_from_db()
        assert row.last_used_at is not None

    async def test_a_cookie_session_from_another_origin_is_still_refused(self, alice):
        assert (await open_socket(cookie_of=alice, origin=OTHER_ORIGIN)) == (None, None)
        assert (await open_socket(cookie_of=alice)) == (None, None)  # nor with no Origin
        socket, username = await open_socket(cookie_of=alice, origin=OWN_ORIGIN)
        assert username == "alice"  # the site's own page still gets in
        await socket.disconnect()

    async def test_with_a_token_the_cookie_sent_along_is_ignored(self, alice, bob):
        _row, token = await database_sync_to_async(create_token)(alice, "bot")
        socket, username = await open_socket(token=token, cookie_of=bob, origin=OTHER_ORIGIN)
        assert username == "alice"
        await socket.disconnect()

    async def test_a_wrong_token_is_refused_even_with_a_valid_session(self, alice):
        for token in ["rt_not-a-token", "", "x" * 5000]:
            refused = await open_socket(token=token, cookie_of=alice, origin=OWN_ORIGIN)
            assert refused == (None, None), token[:20]

    async def test_a_token_of_a_deactivated_user_is_refused(self, alice):
        _row, token = await database_sync_to_async(create_token)(alice, "bot")
        alice.is_active = False
        await database_sync_to_async(alice.save)()
        assert (await open_socket(token=token)) == (None, None)

    async def test_basic_authentication_goes_the_sessions_way(self, alice):
        """A browser on a site behind HTTP Basic authentication sends that header itself."""
        basic = "Basic " + base64.b64encode(b"staging:secret").decode()
        socket, username = await open_socket(
            authorization=basic, cookie_of=alice, origin=OWN_ORIGIN
        )
        assert username == "alice"
        await socket.disconnect()
        assert (await open_socket(authorization=basic, origin=OTHER_ORIGIN)) == (None, None)

    async def test_revoking_closes_the_sockets_of_that_token_only(self, alice, caplog):
        revoked, token = await database_sync_to_async(create_token)(alice, "old bot")
        _other, other_token = await database_sync_to_async(create_token)(alice, "new bot")
        by_token, _ = await open_socket(token=token)
        by_other_token, _ = await open_socket(token=other_token)
        by_browser, _ = await open_socket(cookie_of=alice, origin=OWN_ORIGIN)
        client = Client()
        await database_sync_to_async(client.force_login)(alice)

        response = await database_sync_to_async(client.post)(
            reverse("revoke_token", args=[revoked.pk])
        )

        assert response.status_code == 302
        assert await closed_with(by_token) == TOKEN_REVOKED
        assert any(r.getMessage().endswith(": token revoked") for r in caplog.records)
        assert await by_other_token.receive_nothing(timeout=0.2)
        assert await by_browser.receive_nothing(timeout=0.2)
        assert (await open_socket(token=token)) == (None, None)  # it cannot come back
        await by_other_token.disconnect()
        await by_browser.disconnect()

    async def test_logging_out_closes_token_sockets_too_and_they_may_come_back(self, alice):
        """As every socket of the user (realtime/sessions.py); the token still works."""
        _row, token = await database_sync_to_async(create_token)(alice, "bot")
        by_token, _ = await open_socket(token=token)
        client = Client()
        await database_sync_to_async(client.force_login)(alice)
        await database_sync_to_async(client.post)(reverse("logout"))
        assert await closed_with(by_token) == SESSION_ENDED
        again, username = await open_socket(token=token)
        assert username == "alice"
        await again.disconnect()


@pytest.mark.django_db
class TestThePage:
    def test_it_needs_a_signed_in_user(self, client):
        response = client.get(reverse("tokens"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_a_new_token_is_shown_once_and_not_cached(self, client, alice):
        client.force_login(alice)
        response = client.post(reverse("tokens"), {"name": "laptop bot"})
        row = AccessToken.objects.get(user=alice)
        token = response.context["new_token"]
        assert row.key_hash == hash_token(token)
        assert token in response.text
        assert "no-store" in response["Cache-Control"]
        listing = client.get(reverse("tokens"))
        assert "laptop bot" in listing.text
        assert token not in listing.text

    def test_forms_need_the_csrf_token(self, alice):
        client = Client(enforce_csrf_checks=True)
        client.force_login(alice)
        row, _token = create_token(alice, "bot")
        assert client.post(reverse("tokens"), {"name": "x"}).status_code == 403
        assert client.post(reverse("revoke_token", args=[row.pk])).status_code == 403
        assert AccessToken.objects.filter(user=alice).count() == 1

    def test_nobody_revokes_another_users_token(self, client, alice, bob):
        row, _token = create_token(alice, "bot")
        client.force_login(bob)
        assert client.post(reverse("revoke_token", args=[row.pk])).status_code == 404
        assert AccessToken.objects.filter(pk=row.pk).exists()

    def test_revoking_needs_a_post(self, client, alice):
        row, _token = create_token(alice, "bot")
        client.force_login(alice)
        assert client.get(reverse("revoke_token", args=[row.pk])).status_code == 405
        assert AccessToken.objects.filter(pk=row.pk).exists()

    def test_a_user_has_a_bounded_number_of_tokens(self, client, alice):
        client.force_login(alice)
        for n in range(MAX_TOKENS_PER_USER):
            create_token(alice, f"bot {n}")
        response = client.post(reverse("tokens"), {"name": "one too many"})
        assert response.status_code == 200
        assert "revoke one first" in response.text
        assert AccessToken.objects.filter(user=alice).count() == MAX_TOKENS_PER_USER
