"""A real daphne process counts its traffic and shows it at /metrics/ (and answers /health/)."""

import asyncio
import json
import time
import urllib.request
import uuid

import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from chat.tests.test_load import guest_cookie
from realtime.testing.contract import protocol
from realtime.testing.servers import DaphneServer, run_async

TOKEN = "a-daphne-metrics-token"
LOBBY = {"app": "chat", "consumer": "LobbyConsumer"}


@pytest.fixture
def server(server_env, tmp_path):
    # A budget of 2 frames per user: the 3rd is refused, however fast the test runs. On
    # Redis, budgets of a prefix of its own: no other test's user can have spent this one.
    env = {
        **server_env,
        "METRICS_TOKEN": TOKEN,
        "REALTIME_USER_RATE_LIMIT": "2 per 1 hour",
        "REDIS_PREFIX": f"e2e-{uuid.uuid4().hex}",
    }
    server = DaphneServer(env, tmp_path / "daphne.log")
    server.start()
    yield server
    server.stop()


def scrape(base_url: str) -> dict[tuple[str, frozenset], float]:
    request = urllib.request.Request(
        f"{base_url}/metrics/", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def talk(base_url: str, cookie: str) -> tuple[list[dict], dict]:
    """Open the lobby's socket, send 3 frames it does not accept; the frames back, and
    the metrics read while the socket is still open."""
    url = base_url.replace("http://", "ws://") + "/ws/chat/"
    headers = {"Cookie": cookie, "Origin": base_url}
    async with websockets.connect(url, additional_headers=headers) as socket:
        received = [json.loads(await socket.recv())]  # chat.rooms
        for _ in range(3):
            await socket.send(json.dumps({"type": "chat.nonsense"}))
            received.append(json.loads(await socket.recv()))
        return received, await asyncio.to_thread(scrape, base_url)


def test_a_daphne_process_counts_its_sockets_and_frames(server):
    with urllib.request.urlopen(f"{server.url}/health/", timeout=30) as response:
        assert response.status == 200
    cookie = guest_cookie(server.url)

    received, during = run_async(talk(server.url, cookie))

    for frame in received:
        protocol().check("/ws/chat/", "send", frame)

    assert [frame.get("code") for frame in received] == [
        None,
        "unknown_type",
        "unknown_type",
        "rate_limited",
    ]
    assert value(during, "realtime_sockets_open", **LOBBY) == 1
    assert value(during, "realtime_frames_received_total", app="chat") == 3
    assert value(during, "realtime_frames_sent_total", app="chat") == 4
    errors = "realtime_error_frames_total"
    assert value(during, errors, app="chat", code="unknown_type") == 2
    assert value(during, errors, app="chat", code="rate_limited") == 1
    # The server sees the close a moment after the client; wait for it, no timing asserted.
    deadline = time.monotonic() + 30
    while value(scrape(server.url), "realtime_sockets_open", **LOBBY) != 0:
        assert time.monotonic() < deadline, "the closed socket is still counted as open"
        time.sleep(0.1)
