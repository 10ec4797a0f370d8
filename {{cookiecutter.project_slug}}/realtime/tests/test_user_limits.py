"""Per-user limits: one message budget across a user's sockets, and a cap on their sockets."""

import asyncio
import threading
import time

import pytest
from channels.testing import WebsocketCommunicator
from limits.errors import StorageError
from limits.util import WindowStats
from redis import Redis

from realtime import consumers, ratelimit
from realtime.consumers import TOO_MANY_SOCKETS, RealtimeConsumer, handles
from realtime.envelope import Inbound
from realtime.ratelimit import socket_cap, user_budget_refusal

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


class Ping(Inbound):
    pass


class PingConsumer(RealtimeConsumer):
    async def connect(self):
        await self.accept()

    @handles("ping", Ping)
    async def on_ping(self, message: Ping):
        await self.send_frame("pong")


@pytest.fixture
def limits(settings):
    """Small limits, so a test reaches them: 5 messages per user a minute, 2 sockets."""
    settings.REALTIME = {
        **settings.REALTIME,
        "RATE_LIMIT": {"BURST": 100, "PER_SECOND": 100},  # the per-socket limit stays out of it
        "USER_RATE_LIMIT": "5 per minute",
        "MAX_SOCKETS_PER_USER": 2,
    }
    return settings.REALTIME


async def open_socket(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(PingConsumer.as_asgi(), "/ws/ping/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def assert_closed_past_the_cap(user) -> None:
    """One more socket of `user`'s is closed with TOO_MANY_SOCKETS."""
    communicator = WebsocketCommunicator(PingConsumer.as_asgi(), "/ws/ping/")
    communicator.scope["user"] = user
    await communicator.connect()
    closed = await communicator.receive_output(timeout=2)
    assert (closed["type"], closed["code"]) == ("websocket.close", TOO_MANY_SOCKETS)
    await communicator.wait()


async def ping(communicator) -> dict:
    await communicator.send_json_to({"type": "ping"})
    return await communicator.receive_json_from(timeout=2)


async def test_a_users_second_socket_shares_the_budget_and_others_are_unaffected(
    limits, alice, bob
):
    first, second = await open_socket(alice), await open_socket(alice)
    others = await open_socket(bob)
    try:
        assert [(await ping(first))["type"] for _ in range(3)] == ["pong"] * 3
        assert [(await ping(second))["type"] for _ in range(2)] == ["pong"] * 2
        refused = await ping(second)  # the sixth of alice's messages, on either socket
        assert refused["type"] == "error"
        assert refused["code"] == "rate_limited"
        assert refused["about"] == "ping"
        assert 0 < refused["retry_after"] <= 60
        assert (await ping(first))["code"] == "rate_limited"
        assert [(await ping(others))["type"] for _ in range(5)] == ["pong"] * 5
    finally:
        for communicator in (first, second, others):
            await communicator.disconnect()


async def test_the_per_socket_refusal_says_when_to_retry(settings, alice):
    settings.REALTIME = {**settings.REALTIME, "RATE_LIMIT": {"BURST": 2, "PER_SECOND": 4}}
    socket = await open_socket(alice)
    try:
        assert [(await ping(socket))["type"] for _ in range(2)] == ["pong", "pong"]
        refused = await ping(socket)
        assert (refused["code"], refused["about"]) == ("rate_limited", "ping")
        assert 0 < refused["retry_after"] <= 0.25  # one token comes back every 1/4 s
        await socket.send_to(text_data="not json")  # refused before decoding: about unknown
        assert (await socket.receive_json_from())["about"] is None
    finally:
        await socket.disconnect()


async def test_each_flood_gets_the_whole_refusal_each_time_and_one_log_line(
    alice, monkeypatch, caplog
):
    """Each refused message gets the same rate_limited frame (retry_after in hundredths
    of a second); each flood, one warning naming the socket and its user."""
    verdicts = iter([1 / 3, None, 1 / 3, 1 / 3])  # the user's budget: seconds to wait

    async def budget(user_key):
        return next(verdicts)

    monkeypatch.setattr(consumers, "user_budget_refusal", budget)
    socket = await open_socket(alice)
    try:
        refusal = {
            "type": "error",
            "code": "rate_limited",
            "message": "Too many messages; slow down.",
            "about": "ping",
            "retry_after": 0.33,
        }
        assert await ping(socket) == refusal  # a flood from its first message
        assert (await ping(socket))["type"] == "pong"  # over
        assert [await ping(socket) for _ in range(2)] == [refusal] * 2  # the next flood
    finally:
        await socket.disconnect()
    logged = [r.getMessage() for r in caplog.records if "throttled" in r.getMessage()]
    assert logged == ["ws throttled /ws/ping/ user=alice"] * 2


async def test_the_socket_past_the_cap_is_closed_with_a_clear_code(limits, alice, bob, caplog):
    first, second = await open_socket(alice), await open_socket(alice)
    await assert_closed_past_the_cap(alice)
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused == ["ws refused /ws/ping/ user=alice: 2 sockets open"]

    others = await open_socket(bob)  # another user is not affected
    assert (await ping(others))["type"] == "pong"
    await first.disconnect()  # a closed socket frees its place, one only
    again = await open_socket(alice)
    assert (await ping(again))["type"] == "pong"
    await assert_closed_past_the_cap(alice)
    for communicator in (second, others, again):
        await communicator.disconnect()
    # nobody with no socket open is counted: the count does not grow with every user seen
    assert f"user:{alice.pk}" not in socket_cap.open
    assert f"user:{bob.pk}" not in socket_cap.open


def spend_in_another_process(user_key: str, times: int) -> None:
    """What a second server process does: its own event loop, so its own limiter and store."""
    thread = threading.Thread(
        target=lambda: asyncio.run(_spend(user_key, times)), name="other-process"
    )
    thread.start()
    thread.join()


async def _spend(user_key: str, times: int) -> None:
    for _ in range(times):
        assert await user_budget_refusal(user_key) is None


async def test_the_budget_is_shared_across_processes_on_redis(limits, redis_url, alice):
    limits["USER_RATE_LIMIT_STORAGE"] = f"async+{redis_url}"
    key = f"user:{alice.pk}:{id(limits)}"  # a key of its own in a Redis other runs may share
    await asyncio.to_thread(spend_in_another_process, key, 5)
    assert await user_budget_refusal(key) is not None  # this process sees the other's spending


async def test_a_burst_of_messages_is_counted_however_many_come_at_once(limits, redis_url, caplog):
    """More at once than redis-py's default pool has connections (100), as in a busy
    process: every message is counted, none let through as if the store were down."""
    limits["USER_RATE_LIMIT_STORAGE"] = f"async+{redis_url}"
    keys = [f"user:{n}:{id(limits)}" for n in range(50)]
    refusals = await asyncio.gather(*(user_budget_refusal(key) for key in keys * 6))
    assert sum(refusal is not None for refusal in refusals) == 50  # the 6th of each user's
    assert "budget store unreachable" not in caplog.text


async def test_an_unreachable_budget_store_allows_messages_with_one_log_line(limits, alice, caplog):
    from realtime.testing.servers import free_port

    limits["USER_RATE_LIMIT_STORAGE"] = f"async+redis://127.0.0.1:{free_port()}/0"  # nobody
    key = f"user:{alice.pk}"
    assert [await user_budget_refusal(key) for _ in range(10)] == [None] * 10  # over 5: allowed
    assert len([r for r in caplog.records if "budget store unreachable" in r.message]) == 1


async def test_each_outage_of_the_budget_store_gets_one_log_line(
    limits, alice, monkeypatch, caplog
):
    """Up, down for three messages, up, down again: two warnings, one per outage."""
    key = f"user:{alice.pk}"
    assert await user_budget_refusal(key) is None  # the store works: the limiter exists
    limiter = ratelimit._limiter()
    hit = limiter.hit
    store = {"down": False}

    async def hit_or_fail(item, user_key):
        if store["down"]:
            raise StorageError(ConnectionError("Redis is down"))
        return await hit(item, user_key)

    monkeypatch.setattr(limiter, "hit", hit_or_fail)
    for down in (True, True, True, False, True, True):
        store["down"] = down
        assert await user_budget_refusal(key) is None
    warnings = [r.getMessage() for r in caplog.records if "budget store" in r.getMessage()]
    assert warnings == ["user budget store unreachable, allowing messages: Redis is down"] * 2


async def test_a_budget_refusal_never_says_to_retry_sooner_than_50_ms(limits, alice, monkeypatch):
    """The window frees a message at once (or has already): the client is told to wait
    50 ms, not zero or a negative time, which it would spend resending at once."""
    key = f"user:{alice.pk}"
    for _ in range(5):
        assert await user_budget_refusal(key) is None
    limiter = ratelimit._limiter()

    async def freed_a_moment_ago(item, user_key):
        return WindowStats(reset_time=time.time() - 1, remaining=0)

    monkeypatch.setattr(limiter, "get_window_stats", freed_a_moment_ago)
    assert await user_budget_refusal(key) == 0.05


async def test_the_budget_keys_in_redis_carry_the_configured_prefix(limits, redis_url, alice):
    """Two deployments (or test runs) sharing a Redis keep apart by their prefixes."""
    limits["USER_RATE_LIMIT_STORAGE"] = f"async+{redis_url}"
    prefix = limits["USER_RATE_LIMIT_PREFIX"]  # one of this test's own
    assert await user_budget_refusal(f"user:{alice.pk}") is None
    client = Redis.from_url(redis_url)
    try:
        keys = await asyncio.to_thread(client.keys, f"{prefix}*")
    finally:
        client.close()
    assert keys


async def test_a_budget_refusal_says_when_the_window_frees_a_message(limits, alice, monkeypatch):
    """Five messages 15 s into a minute of the budget's clock: the sixth is refused until
    that minute ends, 45 s on (from then the sliding window counts them less and less)."""
    # In this process's memory: the clock frozen below is this process's, and Redis
    # counts on its own.
    limits["USER_RATE_LIMIT_STORAGE"] = "async+memory://"
    now = 60 * 20_000_000 + 15.0
    monkeypatch.setattr(time, "time", lambda: now)
    key = f"user:{alice.pk}"
    for _ in range(5):
        assert await user_budget_refusal(key) is None
    assert await user_budget_refusal(key) == 45.0
