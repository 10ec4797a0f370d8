import pytest
from django.contrib.auth import get_user_model

from accounts import guests

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_friendly_name(monkeypatch):
    """Shrink the friendly-name space to a single name: guest-calm-fox-0."""
    monkeypatch.setattr(guests, "ADJECTIVES", ["calm"])
    monkeypatch.setattr(guests, "ANIMALS", ["fox"])
    monkeypatch.setattr(guests, "NUMBERS", 1)


def test_a_guest_gets_a_friendly_name_and_no_password():
    guest = guests.create_guest()
    assert guest.username.startswith("guest-")
    assert not guest.has_usable_password()
    assert list(guests.guests()) == [guest]


def test_when_the_friendly_names_are_used_up_guests_still_get_a_name(one_friendly_name):
    first = guests.create_guest()
    assert first.username == "guest-calm-fox-0"
    more = [guests.create_guest() for _ in range(20)]
    names = {guest.username for guest in more}
    assert len(names) == 20 and first.username not in names
    assert all(name.startswith("guest-calm-fox-") for name in names)


def test_a_name_taken_meanwhile_is_skipped_not_fatal(monkeypatch):
    # Another request inserted the chosen name after it looked free: only the
    # database's unique constraint can tell, and the next name is tried.
    from django.db import IntegrityError

    User = get_user_model()
    real_save = User.save
    tried = []

    def rival_got_there_first(self, *args, **kwargs):
        tried.append(self.username)
        monkeypatch.setattr(User, "save", real_save)  # only the first insert loses
        raise IntegrityError("UNIQUE constraint failed: auth_user.username")

    monkeypatch.setattr(User, "save", rival_got_there_first)
    guest = guests.create_guest()
    assert len(tried) == 1
    assert User.objects.get() == guest


def test_name_attempts_are_bounded(one_friendly_name, monkeypatch):
    get_user_model().objects.create(username="guest-calm-fox-0")
    monkeypatch.setattr(guests, "random_name", lambda: "guest-calm-fox-0")
    with pytest.raises(guests.GuestNameUnavailable):
        guests.create_guest()


def test_a_user_with_a_password_is_not_a_guest(django_user_model):
    django_user_model.objects.create_user("guest-made-by-an-admin", password="a-long-passphrase")
    assert not guests.guests().exists()
