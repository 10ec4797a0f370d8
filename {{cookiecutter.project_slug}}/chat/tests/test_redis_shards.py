"""The channel layer sharded over two Redis servers, with two daphne processes.

Every cross-process test also runs on two shards (the `redis_server_env` fixture);
this one proves that both shards carry groups, which those tests cannot see: had the
settings used only the first URL, everything would still work, on one Redis.
"""

import asyncio
import json
import uuid

import pytest
import websockets
from channels_redis.utils import _consistent_hash
from redis.asyncio import Redis

from chat.models import ROOM_GROUP_PREFIX
from chat.tests.test_load import guest_cookie, open_room
from realtime.testing.servers import run_async

PREFIX = "e2e"  # REDIS_PREFIX of the test servers (realtime/testing/servers.py)
SHARDS = 2


def room_slugs(count: int = 6) -> list[str]:
    """New room names whose groups land on both shards, on either layer: the core
    layer hashes a group's name, the pub/sub layer the name of its Redis channel."""
    while True:
        slugs = [f"shard-{uuid.uuid4().hex[:8]}" for _ in range(count)]
        groups = [ROOM_GROUP_PREFIX + slug for slug in slugs]
        core = {_consistent_hash(group, SHARDS) for group in groups}
        pubsub = {_consistent_hash(f"{PREFIX}__group__{group}", SHARDS) for group in groups}
        if core == pubsub == set(range(SHARDS)):
            return slugs


async def groups_on(url: str) -> set[str]:
    """The channel-layer groups a Redis holds: core layer keys, pub/sub subscriptions."""
    client = Redis.from_url(url)
    try:
        keys = await client.keys(f"{PREFIX}:group:*")
        channels = await client.pubsub_channels(f"{PREFIX}__group__*")
    finally:
        await client.aclose()
    names = [name.decode() for name in keys + channels]
    return {
        name.removeprefix(f"{PREFIX}:group:").removeprefix(f"{PREFIX}__group__") for name in names
    }


async def heard(socket, text: str) -> bool:
    """Whether `text` comes as a chat message on `socket` (its own echoes come too)."""
    try:
        async with asyncio.timeout(5):
            while True:
                frame = json.loads(await socket.recv())
                if frame["type"] == "chat.message" and frame["message"]["text"] == text:
                    return True
    except TimeoutError:
        return False


async def talk_across(servers, cookies, slugs, shard_urls):
    """One socket per room on each process; each says hello to the other. Returns
    what arrived, and which groups each shard held while the sockets were open."""
    sockets = {}
    try:
        for slug in slugs:
            for server, cookie in zip(servers, cookies, strict=True):
                url = server.url.replace("http://", "ws://") + f"/ws/chat/{slug}/"
                headers = {"Cookie": cookie, "Origin": server.url}
                socket = await websockets.connect(url, additional_headers=headers)
                sockets[slug, server.port] = socket
        await asyncio.sleep(0.5)  # every socket has joined its room and sent its presence
        arrived = {}
        for slug in slugs:
            one, two = (sockets[slug, server.port] for server in servers)
            for sender, receiver, text in ((one, two, f"1->2 {slug}"), (two, one, f"2->1 {slug}")):
                await sender.send(json.dumps({"type": "chat.send", "text": text}))
                arrived[text] = await heard(receiver, text)
        held = [await groups_on(url) for url in shard_urls]
        return arrived, held
    finally:
        for socket in sockets.values():
            await socket.close()


@pytest.mark.parametrize("redis_server_env", ["two Redis shards"], indirect=True)
def test_rooms_spread_over_both_shards_and_reach_both_processes(redis_daphne_servers, redis_shards):
    cookies = [guest_cookie(server.url) for server in redis_daphne_servers]
    slugs = room_slugs()
    for slug in slugs:
        open_room(redis_daphne_servers[0].url, cookies[0], slug)

    arrived, held = run_async(
        talk_across(redis_daphne_servers, cookies, slugs, [shard.url for shard in redis_shards])
    )

    assert arrived == {text: True for slug in slugs for text in (f"1->2 {slug}", f"2->1 {slug}")}
    rooms = {ROOM_GROUP_PREFIX + slug for slug in slugs}
    on_shards = [groups & rooms for groups in held]
    assert all(on_shards), f"rooms per shard: {[len(groups) for groups in on_shards]}"
    assert sorted(room for groups in on_shards for room in groups) == sorted(rooms)
