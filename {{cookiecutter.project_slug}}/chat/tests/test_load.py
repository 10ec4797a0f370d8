"""1,000 WebSocket connections held on one daphne process for a minute, with traffic.

Twenty rooms, five users in each, ten tabs per user: 1,000 sockets. Every five
seconds each room gets a message; every socket must receive every message of
its room, and none may be dropped. The server's memory per connection is
printed (a figure to read, not a pass/fail threshold).
"""

import asyncio
import http.cookiejar
import json
import re
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import websockets

from realtime.testing.servers import DaphneServer, run_async

pytestmark = pytest.mark.load

ROOMS, USERS_PER_ROOM, TABS_PER_USER = 20, 5, 10
ROUNDS, ROUND_SECONDS = 12, 5.0


def guest_cookie(base_url: str) -> str:
    """Sign a new guest in over plain HTTP; return the Cookie header for its session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base_url}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token}).encode()
    opener.open(f"{base_url}/accounts/guest/", data=form)
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def open_room(base_url: str, cookie: str, slug: str) -> None:
    """Create the room with the rooms page's form (a POST with the CSRF token)."""
    token = re.search(r"csrftoken=([^;]+)", cookie).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "name": slug}).encode()
    request = urllib.request.Request(
        f"{base_url}/chat/open/", data=form, headers={"Cookie": cookie}
    )
    urllib.request.urlopen(request).read()


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


async def hold_and_talk(base_url: str, rooms: dict[str, list[str]], server_pid: int) -> dict:
    ws_url = base_url.replace("http://", "ws://")
    sockets: list[tuple[str, websockets.ClientConnection]] = []
    received: dict[int, list[str]] = {}
    before = rss_kb(server_pid)
    for slug, cookies in rooms.items():
        for cookie in cookies:
            for _ in range(TABS_PER_USER):
                socket = await websockets.connect(
                    f"{ws_url}/ws/chat/{slug}/?after=999999999",
                    additional_headers={"Cookie": cookie, "Origin": base_url},
                    max_queue=None,
                )
                sockets.append((slug, socket))
    connected = rss_kb(server_pid)

    async def listen(index: int, socket) -> None:
        received[index] = []
        async for raw in socket:
            frame = json.loads(raw)
            if frame["type"] == "chat.message":
                received[index].append(frame["message"]["text"])

    listeners = [asyncio.create_task(listen(i, s)) for i, (_, s) in enumerate(sockets)]
    senders = {slug: next(s for room, s in sockets if room == slug) for slug in rooms}
    started = time.monotonic()
    for round_number in range(ROUNDS):
        for slug, socket in senders.items():
            text = f"{slug} round {round_number}"
            await socket.send(json.dumps({"type": "chat.send", "text": text}))
        await asyncio.sleep(ROUND_SECONDS)
    held_for = time.monotonic() - started
    await asyncio.sleep(2)  # let the last round arrive
    dropped = sum(1 for _, socket in sockets if socket.close_code is not None)
    for _, socket in sockets:
        await socket.close()
    await asyncio.gather(*listeners, return_exceptions=True)
    return {
        "sockets": sockets,
        "received": received,
        "dropped": dropped,
        "held_for": held_for,
        "kb_per_connection": (connected - before) / len(sockets),
    }


def test_a_thousand_connections_for_a_minute(server_env, tmp_path, capsys):
    server = DaphneServer(server_env, tmp_path / "daphne.log")
    server.start()
    try:
        rooms = {}
        for number in range(ROOMS):
            slug = f"load-{number}-{time.monotonic_ns()}"
            rooms[slug] = [guest_cookie(server.url) for _ in range(USERS_PER_ROOM)]
            open_room(server.url, rooms[slug][0], slug)
        result = run_async(hold_and_talk(server.url, rooms, server.process.pid))
    finally:
        server.stop()

    sockets = result["sockets"]
    assert len(sockets) == ROOMS * USERS_PER_ROOM * TABS_PER_USER == 1000
    assert result["dropped"] == 0
    assert result["held_for"] >= 60
    for index, (slug, _) in enumerate(sockets):
        expected = [f"{slug} round {n}" for n in range(ROUNDS)]
        assert result["received"][index] == expected, f"socket {index} in {slug}"
    with capsys.disabled():
        print(
            f"\nload: 1000 sockets held {result['held_for']:.0f} s, 0 dropped, "
            f"{ROOMS * ROUNDS} messages to {ROOMS * USERS_PER_ROOM * TABS_PER_USER // ROOMS} "
            f"sockets each, all delivered; server memory "
            f"{result['kb_per_connection']:.1f} KB per connection"
        )
