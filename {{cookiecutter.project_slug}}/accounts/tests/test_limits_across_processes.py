"""The guest limit counts in Redis, so it holds across server processes (REDIS_URL set)."""

import http.cookiejar
import re
import urllib.error
import urllib.request
import uuid

import pytest

from realtime.testing.servers import daphne_servers


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # show the 302 itself


def continue_as_guest(base_url: str) -> int:
    """What a browser does: load the log-in page, press "Continue as guest"; the status."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirects()
    )
    page = opener.open(f"{base_url}/accounts/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = f"csrfmiddlewaretoken={token}".encode()
    try:
        return opener.open(f"{base_url}/accounts/guest/", data=data, timeout=30).status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def two_limited_servers(redis_server_env, tmp_path):
    # A fresh key prefix: counts from other runs on the same Redis do not leak in.
    env = {**redis_server_env, "GUEST_RATE_LIMIT": "2/d", "REDIS_PREFIX": f"e2e-{uuid.uuid4()}"}
    with daphne_servers(env, tmp_path) as servers:
        yield servers


def test_the_guest_limit_is_shared_by_every_process(two_limited_servers):
    first, second = two_limited_servers
    assert continue_as_guest(first.url) == 302
    assert continue_as_guest(second.url) == 302
    assert continue_as_guest(first.url) == 429
    assert continue_as_guest(second.url) == 429
