"""Out-of-range ids and cursors get a clean refusal: a 404, an error frame, no crash."""

import pytest
from channels.db import database_sync_to_async

from notifications import services
from realtime.testing.frames import next_frame

URL = "/ws/notifications/"


@pytest.mark.django_db
def test_marking_read_an_id_beyond_the_database_range_is_a_404(client, alice):
    client.force_login(alice)
    assert client.post(f"/notifications/{2**76}/read/").status_code == 404
    assert client.post(f"/notifications/{2**63}/read/").status_code == 404
    assert client.post("/notifications/0/read/").status_code == 404


@pytest.mark.django_db
def test_an_id_in_range_still_marks_read(client, alice):
    client.force_login(alice)
    notification = services.notify(alice, "one")
    assert client.post(f"/notifications/{notification.pk}/read/").status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ids", [[2**64], [2**63], [1, 2**76]])
async def test_mark_read_with_an_id_beyond_the_database_range_is_invalid_fields(
    ws_connect, alice, ids
):
    async with ws_connect(URL, alice) as socket:
        await next_frame(socket, "notifications.state")
        await socket.send_json_to({"type": "notifications.mark_read", "ids": ids})
        assert (await next_frame(socket, "error"))["code"] == "invalid_fields"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
# "%C2%B2" is "²" as a browser sends it: str.isdigit() accepts it, int() does not.
@pytest.mark.parametrize("after", ["%C2%B2", "9" * 5000, str(2**63)])
async def test_a_cursor_that_is_not_a_usable_id_is_ignored(ws_connect, alice, after):
    await database_sync_to_async(services.notify)(alice, "one")
    async with ws_connect(f"{URL}?after={after}", alice) as socket:
        state = await next_frame(socket, "notifications.state")
        assert (state["unread"], state["missed"]) == (1, [])
