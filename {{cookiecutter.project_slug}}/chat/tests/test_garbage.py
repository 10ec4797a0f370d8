"""Generated garbage against the chat consumers: no crash, no half-written rows."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.models import Message, Room
from realtime.testing.garbage import frames, run_example, throw, until_answered

pytestmark = pytest.mark.django_db(transaction=True)  # consumers close connections

GARBAGE = st.lists(frames(["chat.send", "chat.typing"]), min_size=1, max_size=12)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=GARBAGE)
def test_the_room_consumer_survives_garbage(ws_connect, alice, batch):
    Room.objects.get_or_create(slug="fuzz")

    async def scenario():
        async with ws_connect("/ws/chat/fuzz/", alice) as socket:
            await throw(socket, batch)
            # Still connected and working.
            await socket.send_json_to({"type": "chat.send", "text": "still alive"})
            await until_message(socket, "still alive")

    run_example(scenario)
    for message in Message.objects.all():  # nothing half-written
        assert message.author_id is not None and 0 < len(message.text.strip()) <= 2000


async def until_message(socket, text: str) -> None:
    """Read frames until the chat message `text` arrives (a timeout fails the test)."""
    while True:
        frame = await socket.receive_json_from(timeout=2)
        if frame["type"] == "chat.message" and frame["message"]["text"] == text:
            return


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=GARBAGE)
def test_the_lobby_consumer_answers_garbage_with_errors(ws_connect, alice, batch):
    async def scenario():
        async with ws_connect("/ws/chat/", alice) as socket:
            replies = await throw(socket, batch)
            # The lobby takes no inbound frames: each one gets an error frame back.
            replies = await until_answered(socket, replies, {"error"}, len(batch))
            assert [r["type"] for r in replies] == ["chat.rooms"] + ["error"] * len(batch)

    run_example(scenario)
