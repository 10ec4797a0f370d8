"""Every inbound frame the chat documents (docs/asyncapi.json) is accepted by its consumer."""

import uuid

import pytest

from chat.models import Message, Room
from realtime.testing.contract import assert_accepted, protocol

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_every_documented_inbound_frame_is_accepted(ws_connect, django_user_model, bob):
    moderator = await django_user_model.objects.acreate(username="mod", is_staff=True)
    room = await Room.objects.acreate(slug="lobby")
    message = await Message.objects.acreate(room=room, author=bob, text="to delete")
    examples = [
        {"type": "chat.send", "text": "hello", "nonce": str(uuid.uuid4())},
        {"type": "chat.typing"},
        {"type": "chat.delete_message", "id": message.id},
        {"type": "chat.remove_member", "username": "bob"},
    ]
    # A frame type documented later needs its example here.
    assert {frame["type"] for frame in examples} == protocol().inbound_types("chat")
    async with ws_connect("/ws/chat/lobby/", moderator) as socket:
        await assert_accepted(socket, examples)
