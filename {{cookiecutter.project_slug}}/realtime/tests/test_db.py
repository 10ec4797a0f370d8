"""realtime.db.database_sync_to_async: the consumers' database connection stays open."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connections, transaction

from realtime.db import database_sync_to_async

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def closes(monkeypatch):
    """The alias of every database connection closed, in any thread, during the test."""
    closed = []
    wrapper = type(connections["default"])
    close = wrapper.close

    def counting_close(self):
        closed.append(self.alias)
        close(self)

    monkeypatch.setattr(wrapper, "close", counting_close)
    return closed


async def test_calls_reuse_one_open_connection(closes):
    # The first call may close what an earlier test left in the thread (an error, a
    # transaction test's flush), then opens the connection the next calls reuse.
    await database_sync_to_async(get_user_model().objects.count)()
    closes.clear()
    for _ in range(3):
        await database_sync_to_async(get_user_model().objects.count)()
    assert closes == []


async def test_a_connection_left_in_a_transaction_is_closed(closes):
    def leave_a_transaction_open():
        transaction.set_autocommit(False)
        get_user_model().objects.count()

    try:
        await database_sync_to_async(leave_a_transaction_open)()
        assert closes == ["default"]
    finally:  # an in-memory SQLite database is never really closed: restore it
        await database_sync_to_async(transaction.set_autocommit)(True)


async def test_a_call_passes_positional_and_keyword_arguments_on():
    create_user = database_sync_to_async(get_user_model().objects.create_user)
    user = await create_user("ada", email="ada@example.com")
    assert (user.username, user.email) == ("ada", "ada@example.com")
