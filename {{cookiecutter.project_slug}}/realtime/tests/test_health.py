"""GET /health/: 200 with the database and the channel layer up, 503 once its Redis stops."""

import asyncio

import pytest
from django.test import AsyncClient

from config.layers import redis_layer


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_ok_with_the_database_and_the_in_memory_layer(settings):
    # As in production (HTTPS on): a probe over plain http gets the answer, not a redirect.
    settings.SECURE_SSL_REDIRECT = True
    client = AsyncClient()
    assert (await client.get("/")).status_code == 301  # the redirect is on for pages

    response = await client.get("/health/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "QuickDatabase(alias='default'): OK" in body
    assert "ChannelLayerRoundTrip(alias='default'): OK" in body
    assert not response.cookies  # no session, no CSRF cookie: nothing to keep per probe
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.asyncio
@pytest.mark.django_db
@pytest.mark.redis
@pytest.mark.parametrize("flavor", ["core", "pubsub"])
async def test_503_once_the_layers_redis_is_stopped(settings, own_redis, flavor):
    settings.CHANNEL_LAYERS = {"default": redis_layer(own_redis.url, flavor, prefix="health")}
    client = AsyncClient()
    for _ in range(2):  # the second probe reuses the first one's channel
        response = await client.get("/health/")
        assert response.status_code == 200, response.content

    own_redis.stop()
    response = await client.get("/health/")

    assert response.status_code == 503
    body = response.content.decode()
    assert "ChannelLayerRoundTrip(alias='default'): Unavailable: channel layer" in body
    assert "QuickDatabase(alias='default'): OK" in body  # says which part is down


async def healthy_again(client) -> bool:
    for _ in range(50):
        if (await client.get("/health/")).status_code == 200:
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.asyncio
@pytest.mark.django_db
@pytest.mark.parametrize("flavor", ["core", "pubsub"])
async def test_503_once_any_shard_of_the_layer_is_stopped(settings, own_shards, flavor):
    """The round trip goes through one shard; the groups live on all of them. Each
    shard stops in turn, so one of them is not the round trip's."""
    servers = own_shards(2)
    urls = [server.url for server in servers]
    settings.CHANNEL_LAYERS = {"default": redis_layer(urls, flavor, prefix="health")}
    client = AsyncClient()
    assert await healthy_again(client)
    for server in servers:
        server.stop()
        response = await client.get("/health/")
        assert response.status_code == 503, f"shard on port {server.port} stopped"
        assert "ConnectionError" in response.content.decode()
        server.start()
        assert await healthy_again(client)
