"""Every inbound frame the notifications app documents (docs/asyncapi.json) is accepted."""

import pytest
from channels.db import database_sync_to_async

from notifications import services
from realtime.testing.contract import assert_accepted, protocol

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_every_documented_inbound_frame_is_accepted(ws_connect, django_user_model):
    staff = await django_user_model.objects.acreate(username="staff", is_staff=True)
    notification = await database_sync_to_async(services.notify)(staff, "hello")
    examples = [
        {"type": "notifications.mark_read", "ids": [notification.id]},
        {"type": "notifications.mark_all_read"},
        {"type": "notifications.announce", "title": "Maintenance", "body": "At six."},
    ]
    # A frame type documented later needs its example here.
    assert {frame["type"] for frame in examples} == protocol().inbound_types("notifications")
    async with ws_connect("/ws/notifications/", staff) as socket:
        await assert_accepted(socket, examples)
