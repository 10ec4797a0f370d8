"""Generated garbage against the notifications consumer: no crash, nobody else's data touched."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications import services
from notifications.models import Notification
from realtime.testing.garbage import frames, run_example, throw, until_answered

pytestmark = pytest.mark.django_db(transaction=True)  # pushes wait for commit

GARBAGE = st.lists(
    frames(["notifications.mark_read", "notifications.mark_all_read"]), min_size=1, max_size=12
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=GARBAGE)
def test_the_notifications_consumer_survives_garbage(ws_connect, alice, bob, batch):
    bobs = services.notify(bob, "bob's own")

    async def scenario():
        async with ws_connect("/ws/notifications/", alice) as socket:
            replies = await throw(socket, batch)
            # Each frame is answered: a read receipt if it was valid, else an error.
            answers = {"notifications.read", "error"}
            replies = await until_answered(socket, replies, answers, len(batch))
            assert [r["type"] for r in replies] == ["notifications.state"] + [
                r["type"] for r in replies[1:] if r["type"] in answers
            ]
            assert len(replies) == 1 + len(batch)
            await socket.send_json_to({"type": "notifications.mark_all_read"})
            while (await socket.receive_json_from(timeout=2))["type"] != "notifications.read":
                pass

    run_example(scenario)
    assert Notification.objects.get(pk=bobs.pk).read_at is None  # never alice's to mark
