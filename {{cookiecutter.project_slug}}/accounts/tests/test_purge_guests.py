from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.guests import create_guest
from realtime.models import Presence

pytestmark = pytest.mark.django_db


def signed_in(user, days_ago: int):
    user.last_login = timezone.now() - timedelta(days=days_ago)
    user.save()
    return user


def test_purge_guests_deletes_stale_guests_and_their_rows(django_user_model, capsys):
    stale = signed_in(create_guest(), days_ago=20)
    fresh = signed_in(create_guest(), days_ago=2)
    member = signed_in(django_user_model.objects.create_user("carol", password="x" * 12), 400)
    # A user named like a guest but with a password is a member (an admin made it).
    lookalike = signed_in(django_user_model.objects.create_user("guest-x", password="x" * 12), 400)
    Presence.objects.create(group="g", socket_id="s", user=stale, last_seen=timezone.now())

    call_command("purge_guests", "--days", "14")

    remaining = set(django_user_model.objects.values_list("username", flat=True))
    assert remaining == {fresh.username, member.username, lookalike.username}
    assert not Presence.objects.exists()
    assert "Deleted 1 stale guest accounts." in capsys.readouterr().out


def test_purge_guests_defaults_to_the_session_length_and_has_a_dry_run(
    django_user_model, settings, capsys
):
    signed_in(create_guest(), days_ago=15)  # the default session lasts 14 days
    signed_in(create_guest(), days_ago=13)
    call_command("purge_guests", "--dry-run")
    assert "1 guest accounts would be deleted." in capsys.readouterr().out
    assert django_user_model.objects.count() == 2
    call_command("purge_guests")
    assert django_user_model.objects.count() == 1
