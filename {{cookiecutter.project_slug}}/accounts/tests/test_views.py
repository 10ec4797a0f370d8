import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_guest_login_creates_a_user_and_signs_them_in(client):
    response = client.post(reverse("guest_login"), {"next": "/chat/"})
    assert response.status_code == 302
    assert response["Location"] == "/chat/"
    guest = get_user_model().objects.get()
    assert guest.username.startswith("guest-")
    assert not guest.has_usable_password()
    assert client.get(reverse("home")).context["user"] == guest


def test_guest_login_ignores_a_foreign_next_url(client):
    response = client.post(reverse("guest_login"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_guest_login_needs_post(client):
    assert client.get(reverse("guest_login")).status_code == 405


def test_signup_creates_an_account_and_logs_in(client):
    response = client.post(
        reverse("signup"),
        {"username": "carol", "password1": "a-long-passphrase", "password2": "a-long-passphrase"},
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"].username == "carol"


def test_login_page_offers_the_guest_button(client):
    page = client.get(reverse("login")).content.decode()
    assert "Continue as guest" in page


def test_create_demo_users_command(django_user_model):
    from django.core.management import call_command

    call_command("create_demo_users")
    call_command("create_demo_users")  # idempotent
    for name in ("alice", "bob"):
        assert django_user_model.objects.get(username=name).check_password("demo-password")


@pytest.mark.parametrize("name", ["system", "System", "SYSTEM", "admin", "guest-swift-otter-1"])
def test_signup_refuses_reserved_names(client, django_user_model, name):
    response = client.post(
        reverse("signup"),
        {"username": name, "password1": "a-long-passphrase", "password2": "a-long-passphrase"},
    )
    assert response.status_code == 200
    assert "This name is reserved" in response.content.decode()
    assert not django_user_model.objects.exists()
