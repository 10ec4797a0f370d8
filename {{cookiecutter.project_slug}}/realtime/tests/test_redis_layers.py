"""The Redis channel layers as configured in settings, against a real Redis."""

import asyncio
from contextlib import suppress

import pytest
import redis.asyncio as redis
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.utils.module_loading import import_string

from config.layers import redis_layer
from realtime.broadcast import frame_event
from realtime.consumers import RealtimeConsumer
from realtime.hub import LAYER_ERRORS, SERVICE_RESTART, get_hub

# Longer than the 5 s socket timeout redis-py 8 gives connections by default,
# which would cut the core layer's blocking read (channels_redis issue 422).
IDLE_SECONDS = 7


class CoreListener(RealtimeConsumer):
    login_required = False
    groups_layer_alias = "core"
    channel_layer_alias = "core"

    async def connect(self):
        await self.accept()
        await self.join("idle-test")


class PubSubListener(CoreListener):
    groups_layer_alias = "pubsub"
    channel_layer_alias = "pubsub"


@pytest.mark.asyncio
@pytest.mark.django_db  # channels closes stale DB connections around each message
async def test_idle_sockets_still_receive_on_both_redis_layers(redis_url, settings):
    settings.CHANNEL_LAYERS = {
        "core": redis_layer(redis_url, "core", prefix="idle-core"),
        "pubsub": redis_layer(redis_url, "pubsub", prefix="idle-pubsub"),
    }
    sockets = {
        "core": WebsocketCommunicator(CoreListener.as_asgi(), "/"),
        "pubsub": WebsocketCommunicator(PubSubListener.as_asgi(), "/"),
    }
    for socket in sockets.values():
        assert (await socket.connect())[0]
    await asyncio.sleep(IDLE_SECONDS)
    for alias, socket in sockets.items():
        await get_channel_layer(alias).group_send("idle-test", frame_event("ping", layer=alias))
        assert await socket.receive_json_from(timeout=5) == {"type": "ping", "layer": alias}
        await socket.disconnect()


class IdleSocket:
    """The least a hub needs of a socket."""

    socket_id = "idle"
    in_presence = False

    async def deliver(self, message):
        pass

    async def close(self, code=None):
        pass


@pytest.mark.asyncio
# pytest-django runs database tests first, so this one runs before the browser tests:
# Playwright's sync API leaves its event loop set in this thread for the session.
@pytest.mark.django_db
@pytest.mark.parametrize("flavor", ["core", "pubsub"])
async def test_a_stopped_hub_leaves_no_task_reading_from_redis(redis_url, settings, flavor):
    """However a stop lands in the hub's Redis reads, every hub task ends.

    On Python 3.11 one cancel() can be swallowed inside redis-py (hub.cancel_and_wait),
    leaving a task that reads from Redis forever and hangs the event loop's shutdown.
    """
    settings.CHANNEL_LAYERS = {"default": redis_layer(redis_url, flavor, prefix=f"stop-{flavor}")}
    hub, socket = get_hub(), IdleSocket()
    for step in range(150):  # stop at every point of the first 15 ms of reading
        await hub.join("stop-test", socket)
        tasks = list(hub.tasks)
        await asyncio.sleep(step / 10_000)
        await hub.leave(socket, ["stop-test"])
        _, running = await asyncio.wait(tasks, timeout=5)
        assert not running, f"stopped {step / 10:.1f} ms in, a hub task still runs"


class RoomListener(RealtimeConsumer):
    login_required = False

    async def connect(self):
        await self.join("restart-test")
        await self.accept()


@pytest.mark.asyncio
@pytest.mark.django_db
@pytest.mark.parametrize("flavor", ["core", "pubsub"])
@pytest.mark.parametrize("count", [1, 2], ids=["one Redis", "two shards"])
async def test_a_redis_restart_closes_the_sockets_so_they_resume(
    settings, own_shards, flavor, count
):
    """A restarted Redis has forgotten the groups: until the hub adds this process again,
    frames to its groups reach nobody, and nothing fails to say so (the layer reconnects
    by itself). However short the outage, the sockets close, so browsers resume. With
    the layer sharded, a restart of any shard does it (here the last one)."""
    servers = own_shards(count)
    urls = [server.url for server in servers]
    settings.CHANNEL_LAYERS = {"default": redis_layer(urls, flavor, prefix="restart")}
    settings.REALTIME = {**settings.REALTIME, "KEEPALIVE_SECONDS": 0.5}
    socket = WebsocketCommunicator(RoomListener.as_asgi(), "/")
    assert (await socket.connect())[0]
    await asyncio.sleep(1)  # the hub has had a look at each Redis
    # A restart within one keep-alive: these calls block the event loop, so no
    # keep-alive of the hub can fall into the outage and see Redis down.
    servers[-1].stop()
    servers[-1].start()
    closed = await socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": SERVICE_RESTART}
    await socket.wait()

    again = WebsocketCommunicator(RoomListener.as_asgi(), "/")  # the reconnect works
    assert (await again.connect())[0]
    await get_channel_layer().group_send("restart-test", frame_event("ping"))
    assert await again.receive_json_from(timeout=5) == {"type": "ping"}
    await again.disconnect()


class RecordingSocket(IdleSocket):
    """A socket that records what the hub writes to it and how often it closes it."""

    def __init__(self):
        self.frames, self.closes = [], []

    async def deliver(self, message):
        self.frames.append(message["text"])

    async def close(self, code=None):
        self.closes.append(code)


@pytest.mark.asyncio
@pytest.mark.django_db  # runs it before the browser tests (see above): no database used
async def test_after_a_redis_outage_the_hub_closes_its_sockets_once_and_watches_on(
    settings, own_redis
):
    """While Redis stays up the hub closes nothing. Redis goes down for a while and comes
    back (a new process): the hub closes its sockets once, not a second time when it sees
    the new Redis, and adds its groups again, so frames reach the sockets once more."""
    settings.CHANNEL_LAYERS = {"default": redis_layer(own_redis.url, "core", prefix="outage")}
    settings.REALTIME = {**settings.REALTIME, "KEEPALIVE_SECONDS": 0.25}
    hub, socket = get_hub(), RecordingSocket()
    await hub.join("outage-test", socket)
    try:
        await asyncio.sleep(1)  # a few keep-alives, each with a look at Redis
        assert socket.closes == []
        own_redis.stop()
        async with asyncio.timeout(10):
            while not socket.closes:
                await asyncio.sleep(0.05)
        own_redis.start()
        async with asyncio.timeout(10):  # until a keep-alive has added the group again
            while not socket.frames:
                with suppress(*LAYER_ERRORS):
                    await get_channel_layer().group_send("outage-test", frame_event("ping"))
                await asyncio.sleep(0.05)
        assert socket.closes == [SERVICE_RESTART]
    finally:
        await hub.leave(socket, ["outage-test"])


def new_layer(urls, flavor):
    """The layer a new process would make from these settings (its own client prefix)."""
    config = redis_layer(urls, flavor, prefix=f"send-{flavor}")
    return import_string(config["BACKEND"])(**config["CONFIG"])


@pytest.mark.asyncio
@pytest.mark.django_db  # runs it before the browser tests (see above): no database used
@pytest.mark.parametrize("flavor", ["core", "pubsub"])
@pytest.mark.parametrize("shards", [1, 2])
async def test_send_reaches_process_and_worker_channels_on_one_or_two_shards(
    own_shards, flavor, shards
):
    """channel_layer.send(), which group_send does not cover: to a consumer's own
    channel (a reply), and to a worker's channel from one process after another
    (each `manage.py notify` is a new process)."""
    urls = [server.url for server in own_shards(shards)]
    receiver = new_layer(urls, flavor)
    try:
        for number in range(8):  # channels whose names hash to either shard
            channel = await receiver.new_channel()
            await new_layer(urls, flavor).send(channel, {"type": "reply", "number": number})
            async with asyncio.timeout(3):
                assert (await receiver.receive(channel))["number"] == number
        listening = asyncio.create_task(receiver.receive("jobs"))  # a worker, waiting
        await asyncio.sleep(0.1)
        for number in range(4):
            await new_layer(urls, flavor).send("jobs", {"type": "job", "number": number})
            async with asyncio.timeout(3):
                assert (await listening)["number"] == number
            listening = asyncio.create_task(receiver.receive("jobs"))
        listening.cancel()
    finally:
        await receiver.flush()


async def reads_from_redis(url: str) -> int:
    """How many times Redis has been asked for a channel's messages so far."""
    client = redis.Redis.from_url(url)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    return sum(stats.get(f"cmdstat_{read}", {}).get("calls", 0) for read in ("zpopmin", "bzpopmin"))


@pytest.mark.asyncio
@pytest.mark.django_db  # runs it before the browser tests (see above): no database used
async def test_a_process_takes_its_backlog_from_redis_in_a_few_reads(own_redis):
    """A process busy with many sockets must take its messages faster than one per Redis
    round trip, or its backlog fills up to the capacity and group_send drops the rest
    (make bench, 1,000 sockets in 250 rooms). 250 messages waiting for 50 of its sockets
    and a group's 10 reach each socket in order, in a few reads."""
    receiver, sender = new_layer([own_redis.url], "core"), new_layer([own_redis.url], "core")
    channels = [await receiver.new_channel() for _ in range(50)]
    for channel in channels[:10]:
        await sender.group_add("backlog", channel)
    for number in range(250):
        await sender.send(channels[number % 50], {"type": "reply", "number": number})
    await sender.group_send("backlog", {"type": "to.group"})
    reads_before = await reads_from_redis(own_redis.url)
    async with asyncio.timeout(10):
        for index, channel in enumerate(channels):
            numbers = [(await receiver.receive(channel))["number"] for _ in range(5)]
            assert numbers == list(range(index, 250, 50))
        for channel in channels[:10]:
            assert (await receiver.receive(channel))["type"] == "to.group"
    assert await reads_from_redis(own_redis.url) - reads_before <= 5
    await receiver.flush()


@pytest.mark.asyncio
@pytest.mark.django_db  # runs it before the browser tests (see above): no database used
async def test_an_idle_process_waits_in_redis_instead_of_asking_again_and_again(own_redis):
    """With nothing waiting, a process's read blocks in Redis until a message comes: two
    reads (the batch that finds nothing, the blocking one), not a loop of them."""
    receiver, sender = new_layer([own_redis.url], "core"), new_layer([own_redis.url], "core")
    channel = await receiver.new_channel()
    reads_before = await reads_from_redis(own_redis.url)
    receiving = asyncio.create_task(receiver.receive(channel))
    await asyncio.sleep(0.5)
    assert await reads_from_redis(own_redis.url) - reads_before <= 2
    await sender.send(channel, {"type": "reply"})
    async with asyncio.timeout(5):
        assert (await receiving)["type"] == "reply"
    await receiver.flush()


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_a_read_from_a_redis_that_is_down_fails_its_receive_and_nothing_else(
    own_redis, caplog
):
    """The consumer's receive() gets the connection error (Channels then closes the socket
    and the browser reconnects); no second error is logged from inside the event loop."""
    receiver = new_layer([own_redis.url], "core")
    channel = await receiver.new_channel()
    own_redis.stop()
    with pytest.raises(redis.ConnectionError):
        await receiver.receive(channel)
    await asyncio.sleep(0.1)
    assert [record.getMessage() for record in caplog.records if record.name == "asyncio"] == []


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_messages_read_for_a_closing_socket_still_reach_the_others(own_redis, monkeypatch):
    """A socket that closes cancels its receive(); if that receive was reading a batch for
    the whole process, the batch still reaches the other sockets."""
    receiver, sender = new_layer([own_redis.url], "core"), new_layer([own_redis.url], "core")
    closing, staying = await receiver.new_channel(), await receiver.new_channel()
    for number in range(3):
        await sender.send(staying, {"type": "reply", "number": number})
    connection, read = receiver.connection(0), asyncio.Event()
    redis_zpopmin = connection.zpopmin

    async def reply_on_its_way(*args, **kwargs):
        reply = await redis_zpopmin(*args, **kwargs)
        read.set()
        await asyncio.sleep(0.2)  # the reply still travelling when the socket closes
        return reply

    monkeypatch.setattr(connection, "zpopmin", reply_on_its_way)
    receiving = asyncio.create_task(receiver.receive(closing))
    await read.wait()
    receiving.cancel()
    async with asyncio.timeout(10):
        assert [(await receiver.receive(staying))["number"] for _ in range(3)] == [0, 1, 2]
    await receiver.flush()


def test_an_unknown_layer_flavor_is_refused():
    with pytest.raises(ValueError, match="REDIS_CHANNEL_LAYER"):
        redis_layer("redis://localhost", "rabbit")
