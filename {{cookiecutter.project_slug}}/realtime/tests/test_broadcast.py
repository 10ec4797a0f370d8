"""Broadcasting from sync code (realtime/broadcast.py): what was stored is never lost to
an unreachable channel layer, and the caller learns whether it went out live."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.layers import get_channel_layer

from realtime.broadcast import broadcast_from_sync


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def from_sync_code(group: str, message_type: str) -> bool:
    """broadcast_from_sync as a view or a command calls it: in a thread with no event
    loop (once a Playwright test has run, this test thread's loop is Playwright's)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(broadcast_from_sync, group, message_type).result()


def test_a_broadcast_says_whether_it_went_out_live(monkeypatch, caplog):
    assert from_sync_code("room", "ping") is True

    async def unreachable(group, message):
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(get_channel_layer(), "group_send", unreachable)
    assert from_sync_code("room", "ping") is False  # no exception for the caller
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == ["not pushed live to room, channel layer unreachable: Redis is down"]
