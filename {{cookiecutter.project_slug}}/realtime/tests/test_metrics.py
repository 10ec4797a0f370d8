"""/metrics/: only for a scraper with METRICS_TOKEN, and counting what real traffic did."""

import time
from datetime import timedelta

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.test import AsyncClient, Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from realtime.broadcast import frame_event
from realtime.consumers import RealtimeConsumer, handles
from realtime.envelope import Inbound
from realtime.models import Presence

TOKEN = "a-metrics-test-token"
GROUP = "metrics-test"


class Say(Inbound):
    text: str


class Echo(RealtimeConsumer):
    login_required = False

    async def connect(self):
        await self.join(GROUP)
        await self.accept()

    @handles("echo.say", Say)
    async def on_say(self, message: Say):
        await self.send_frame("echo.said", text=message.text)


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape() -> dict[tuple[str, frozenset], float]:
    response = await AsyncClient().get("/metrics/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return parse(response.content.decode())


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.django_db
def test_only_a_scraper_with_the_token_reads_the_metrics(settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics/").status_code == 404  # no token set: no page

    settings.METRICS_TOKEN = TOKEN
    for header in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = Client().get("/metrics/", headers=header)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
    response = Client().get("/metrics/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert b"realtime_sockets_open" in response.content


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_metrics_count_sockets_frames_refusals_and_hub_delay(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.REALTIME = {**settings.REALTIME, "RATE_LIMIT": {"BURST": 3, "PER_SECOND": 0.001}}
    before = await scrape()
    sockets = []
    for _ in range(2):
        socket = WebsocketCommunicator(Echo.as_asgi(), "/ws/echo/")
        socket.scope["user"] = AnonymousUser()
        assert (await socket.connect())[0]
        sockets.append(socket)
    talker = sockets[0]  # the other one only listens

    await talker.send_json_to({"type": "echo.say", "text": "hi"})
    assert (await talker.receive_json_from())["type"] == "echo.said"
    await talker.send_json_to({"type": "echo.shout"})
    assert (await talker.receive_json_from())["code"] == "unknown_type"
    await talker.send_json_to({"type": "echo.say", "text": "again"})
    assert (await talker.receive_json_from())["type"] == "echo.said"
    await talker.send_json_to({"type": "echo.say", "text": "one too many"})  # the 4th: over BURST
    assert (await talker.receive_json_from())["code"] == "rate_limited"
    sent = time.monotonic()  # the event loop's clock, which the hub reads
    await get_channel_layer().group_send(GROUP, frame_event("echo.news"))
    for socket in sockets:  # one group message, through the hub to both sockets
        assert (await socket.receive_json_from())["type"] == "echo.news"
    waited = time.monotonic() - sent
    during = await scrape()
    for socket in sockets:
        await socket.disconnect()
    after = await scrape()

    def delta(samples, name, **labels):
        return value(samples, name, **labels) - value(before, name, **labels)

    opened = {"app": "realtime", "consumer": "Echo"}
    assert delta(during, "realtime_sockets_open", **opened) == 2
    assert delta(after, "realtime_sockets_open", **opened) == 0
    assert delta(during, "realtime_frames_received_total", app="realtime") == 4
    assert delta(during, "realtime_frames_sent_total", app="realtime") == 6
    errors = "realtime_error_frames_total"
    assert delta(during, errors, app="realtime", code="unknown_type") == 1
    assert delta(during, errors, app="realtime", code="rate_limited") == 1
    assert delta(during, "realtime_hub_queue_delay_seconds_count") == 1
    # the delay measured is part of the wait for the frame, not a clock reading
    assert 0 <= delta(during, "realtime_hub_queue_delay_seconds_sum") <= waited


@pytest.mark.django_db
def test_presence_rows_are_read_at_scrape_time(settings, alice):
    settings.METRICS_TOKEN = TOKEN
    ttl = settings.REALTIME["PRESENCE_TTL_SECONDS"]
    now = timezone.now()
    Presence.objects.create(group="g", socket_id="fresh", user=alice, last_seen=now)
    stale = now - timedelta(seconds=ttl + 1)
    Presence.objects.create(group="g", socket_id="dead", user=alice, last_seen=stale)

    response = Client().get("/metrics/", headers={"Authorization": f"Bearer {TOKEN}"})

    samples = parse(response.content.decode())
    assert value(samples, "realtime_presence_rows", state="fresh") == 1
    assert value(samples, "realtime_presence_rows", state="expired") == 1
    # Described like the other metrics, for whoever reads the scrape or builds a dashboard.
    assert b"# HELP realtime_presence_rows Presence rows in the database.\n" in response.content


@pytest.mark.django_db
def test_a_scrape_still_answers_when_presence_rows_cannot_be_counted(settings, monkeypatch, caplog):
    settings.METRICS_TOKEN = TOKEN

    def fail(**counts):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(Presence.objects, "aggregate", fail)
    response = Client().get("/metrics/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert b"realtime_sockets_open" in response.content
    assert b"realtime_presence_rows" not in response.content
    assert "metrics: presence rows not counted: database is locked" in caplog.messages
