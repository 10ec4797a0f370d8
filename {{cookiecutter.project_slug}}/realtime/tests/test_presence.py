from datetime import timedelta

import pytest
from django.utils import timezone

from realtime import presence
from realtime.models import Presence

pytestmark = pytest.mark.django_db


def test_a_user_counts_once_however_many_tabs(alice, bob):
    assert presence.enter("room", alice, "tab-1") is True
    assert presence.enter("room", alice, "tab-2") is False
    assert presence.enter("room", bob, "tab-3") is True
    assert presence.members("room") == ["alice", "bob"]
    assert presence.counts(["room", "empty"]) == {"room": 2, "empty": 0}


def test_leaving_reports_only_groups_the_user_left_entirely(alice):
    presence.enter("room", alice, "tab-1")
    presence.enter("room", alice, "tab-2")
    presence.enter("other", alice, "tab-2")
    assert presence.leave("tab-2") == ["other"]  # still in "room" through tab-1
    assert presence.leave("tab-1") == ["room"]
    assert presence.members("room") == []


def test_rows_not_refreshed_within_the_ttl_stop_counting(alice, settings):
    presence.enter("room", alice, "tab-1")
    stale = timezone.now() - timedelta(seconds=settings.REALTIME["PRESENCE_TTL_SECONDS"] + 1)
    Presence.objects.update(last_seen=stale)
    assert presence.members("room") == []
    presence.refresh(["tab-1"])
    assert presence.members("room") == ["alice"]
