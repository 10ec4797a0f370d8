"""Hostile cursors and nonces in chat get a clean answer, never a crash."""

import pytest

from chat.models import Message, Room
from realtime.testing.frames import next_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def room(transactional_db):
    room = Room.objects.create(slug="lobby")
    Message.objects.create(room=room, author=None, text="hello")
    return room


# "%C2%B2" is "²" as a browser sends it: str.isdigit() accepts it, int() does not.
@pytest.mark.parametrize("after", ["%C2%B2", "9" * 5000, str(2**63)])
async def test_a_cursor_that_is_not_a_usable_id_gets_the_recent_history(
    ws_connect, room, alice, after
):
    async with ws_connect(f"/ws/chat/lobby/?after={after}", alice) as socket:
        history = await next_frame(socket, "chat.history")
        assert [m["text"] for m in history["messages"]] == ["hello"]


async def test_reusing_a_nonce_in_another_room_is_refused_cleanly(ws_connect, room, alice):
    await Room.objects.acreate(slug="other")
    frame = {"type": "chat.send", "text": "once", "nonce": "8f14e45f-ceea-4e7a-9c1b-1234567890ab"}
    async with ws_connect("/ws/chat/lobby/", alice) as socket:
        await socket.send_json_to(frame)
        await next_frame(socket, "chat.message")
    async with ws_connect("/ws/chat/other/", alice) as socket:
        await socket.send_json_to({**frame, "text": "again"})
        error = await next_frame(socket, "error")
        assert (error["code"], error["message"]) == (
            "invalid_fields",
            "nonce: already used in another room.",
        )
        # Still usable, and a fresh nonce is fine.
        await socket.send_json_to({"type": "chat.send", "text": "new"})
        assert (await next_frame(socket, "chat.message"))["message"]["text"] == "new"
    assert await Message.objects.filter(room__slug="other").acount() == 1
