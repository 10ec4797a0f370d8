"""Abuse limits: guest accounts per address (django-ratelimit), failed log-ins (django-axes)."""

import itertools
import logging
import socket

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db
# One rate-limit window per test, so no count carries over from an earlier test or an
# earlier pytest run in the same process (mutmut runs the suite twice in one).
WINDOWS = itertools.count(1_800_000_000, 86_400)


@pytest.fixture
def frozen_clock(monkeypatch):
    """Keep every request of a test in one fresh rate-limit window, whatever the time."""
    import django_ratelimit.core

    window = next(WINDOWS)
    monkeypatch.setattr(django_ratelimit.core, "_get_window", lambda value, period: window)


def limit_count(rate: str) -> int:
    return int(rate.split("/")[0])


def test_the_default_guest_limit_refuses_the_next_guest_with_429(
    client, django_user_model, frozen_clock
):
    allowed = limit_count(settings.GUEST_RATE_LIMIT)
    assert allowed == 30  # the documented default (README, Settings)
    for _ in range(allowed):
        assert client.post(reverse("guest_login")).status_code == 302
    refused = client.post(reverse("guest_login"))
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert django_user_model.objects.count() == allowed


def test_the_guest_limit_is_per_address(client, django_user_model, settings, frozen_clock):
    settings.GUEST_RATE_LIMIT = "1/h"
    assert client.post(reverse("guest_login"), REMOTE_ADDR="203.0.113.1").status_code == 302
    assert client.post(reverse("guest_login"), REMOTE_ADDR="203.0.113.1").status_code == 429
    assert client.post(reverse("guest_login"), REMOTE_ADDR="203.0.113.2").status_code == 302


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe closes


def test_a_cache_that_is_down_lets_guests_in_with_a_warning(
    client, django_user_model, settings, caplog
):
    # Redis restarting must not turn every visitor away (nor answer a 500).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }
    with caplog.at_level(logging.WARNING, logger="accounts"):
        assert client.post(reverse("guest_login")).status_code == 302
    assert django_user_model.objects.count() == 1
    assert "guest limit not checked, cache unreachable" in caplog.text


def log_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_repeated_wrong_passwords_lock_that_log_in_with_429(client, django_user_model):
    django_user_model.objects.create_user("carol", password="a-long-passphrase")
    django_user_model.objects.create_user("dave", password="a-long-passphrase")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "carol", "wrong").status_code == 200  # the form, with its error
    locked = log_in(client, "carol", "wrong")
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    # Even the right password waits for the cool-off now; another account does not.
    assert log_in(client, "carol", "a-long-passphrase").status_code == 429
    assert "_auth_user_id" not in client.session
    assert log_in(client, "dave", "a-long-passphrase").status_code == 302


def test_a_right_password_resets_the_failure_count(client, django_user_model):
    django_user_model.objects.create_user("carol", password="a-long-passphrase")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "carol", "wrong")
    assert log_in(client, "carol", "a-long-passphrase").status_code == 302
    client.logout()
    assert log_in(client, "carol", "wrong").status_code == 200
