"""GET /health/: 200 with the database and the channel layer up, 503 once its Redis stops."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.test import AsyncClient

from config.layers import redis_layer
from realtime import health
from realtime.testing.servers import layer_with_hosts, silent_redis


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
async def test_503_without_a_channel_layer_and_the_probe_says_so(settings):
    settings.CHANNEL_LAYERS = {}
    response = await AsyncClient().get("/health/")
    assert response.status_code == 503
    unavailable = "ChannelLayerRoundTrip(alias='default'): Unavailable: "
    assert unavailable + "No channel layer is configured." in response.content.decode()


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_a_layer_that_does_not_answer_fails_within_the_probes_budget(monkeypatch):
    """The probe gives up on its own (not the library's longer timeout), says so, and
    the next probe starts on a new channel."""
    monkeypatch.setattr(health, "PROBE_SECONDS", 0.1)
    layer = get_channel_layer()
    answer = layer.receive

    async def no_answer(channel):
        await asyncio.Event().wait()

    monkeypatch.setattr(layer, "receive", no_answer)
    client = AsyncClient()
    response = await client.get("/health/")
    assert response.status_code == 503
    assert "Unavailable: channel layer: TimeoutError" in response.content.decode()
    monkeypatch.setattr(layer, "receive", answer)  # it answers again
    assert (await client.get("/health/")).status_code == 200


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_a_redis_that_never_answers_fails_the_probe_within_its_budget(settings, monkeypatch):
    """A Redis that takes connections but never replies (overloaded, or a network dropping
    packets) must not hold the load balancer's probe until its own timeout."""
    monkeypatch.setattr(health, "PROBE_SECONDS", 0.1)
    with silent_redis() as url:
        settings.CHANNEL_LAYERS = {"default": layer_with_hosts(url)}
        response = await AsyncClient().get("/health/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "Unavailable: channel layer shard 1: TimeoutError" in body


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
    for number, server in enumerate(servers, start=1):
        server.stop()
        response = await client.get("/health/")
        assert response.status_code == 503, f"shard on port {server.port} stopped"
        body = response.content.decode()
        # The shard the round trip goes through fails it; another is named by its place.
        said = [f"channel layer shard {number}: ConnectionError", "channel layer: ConnectionError"]
        assert any(line in body for line in said), body
        server.start()
        assert await healthy_again(client)
