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


def test_create_demo_users_command(django_user_model, settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("create_demo_users")
    call_command("create_demo_users")  # idempotent
    for name in ("alice", "bob", "admin"):
        assert django_user_model.objects.get(username=name).check_password("demo-password")
    admin = django_user_model.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert not django_user_model.objects.filter(
        username__in=["alice", "bob"], is_staff=True
    ).exists()


def test_the_demo_admin_can_use_the_admin_site(client, django_user_model, settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("create_demo_users")
    admin = django_user_model.objects.get(username="admin")
    assert admin.check_password("demo-password")
    client.force_login(admin)  # django-axes needs a request, which client.login() has not
    assert client.get("/admin/").status_code == 200


def test_create_demo_users_refuses_without_debug(django_user_model, settings):
    """Its password is public: it must never create accounts on a real site."""
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        call_command("create_demo_users")


def sign_up(client, username: str):
    password = "a-long-passphrase"
    return client.post(
        reverse("signup"),
        {"username": username, "password1": password, "password2": password},
    )


@pytest.mark.parametrize("name", ["system", "System", "SYSTEM", "admin", "guest-swift-otter-1"])
def test_signup_refuses_reserved_names(client, django_user_model, name):
    response = sign_up(client, name)
    assert response.status_code == 200
    assert "This name is reserved" in response.content.decode()
    assert not django_user_model.objects.exists()


@pytest.mark.parametrize("name", ["\u0430lice", "\u0410dmin", "b\u043eb.smith"])
def test_signup_refuses_look_alike_names_from_mixed_alphabets(client, django_user_model, name):
    """Cyrillic letters in a Latin name pass for another user (U+0430 looks like "a")."""
    response = sign_up(client, name)
    assert response.status_code == 200
    assert "look-alike letters" in response.content.decode()
    assert not django_user_model.objects.exists()


@pytest.mark.parametrize("name", ["Иван", "élodie", "bob_2"])
def test_signup_takes_names_in_one_alphabet(client, django_user_model, name):
    response = sign_up(client, name)
    assert response.status_code == 302
    assert django_user_model.objects.filter(username=name).exists()


@pytest.mark.parametrize("name", ["BOB", "\uff22\uff2f\uff22"])
def test_signup_refuses_another_spelling_of_a_taken_name(client, django_user_model, name):
    """Django folds case and compatibility forms (full-width letters) before comparing."""
    django_user_model.objects.create_user("bob")
    response = sign_up(client, name)
    assert response.status_code == 200
    assert django_user_model.objects.count() == 1
