"""The benchmark's load client: one process's share of one scenario's sockets.

Run by bench/run.py with the generated project's Python (it has `websockets`).
Reads the scenario as JSON from argv[1]; opens its sockets; prints "ready";
waits for "go" on stdin; runs; prints one line of JSON results.

Every frame the load sends carries its sequence number and the wall-clock time
it was sent (all processes share this machine's clock), so each delivery is
timed where it arrives. Frames are only parsed as far as needed, to keep the
client's own cost low.
"""

import asyncio
import json
import sys
import time

import websockets

CONNECTS_IN_FLIGHT = 25
CONNECT_ATTEMPTS = 5  # a refused or timed-out handshake is retried, as browsers do


class Scenario:
    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.latencies: list[float] = []
        self.received = 0
        self.expected = 0
        self.first_send: float | None = None
        self.last_delivery = 0.0
        self.connect_seconds = 0.0
        self.connect_retries = 0
        self.sockets: list = []

    def record(self, sent_at: float) -> None:
        now = time.time()
        self.latencies.append(now - sent_at)
        self.received += 1
        self.last_delivery = now

    async def connect_all(self, path_for) -> None:
        """Open this process's sockets, CONNECTS_IN_FLIGHT at a time; time it."""
        spec, limit = self.spec, asyncio.Semaphore(CONNECTS_IN_FLIGHT)
        cookies = spec["cookies"]

        async def one(index: int):
            for attempt in range(1, CONNECT_ATTEMPTS + 1):
                try:
                    async with limit:
                        return await websockets.connect(
                            spec["url"] + path_for(index),
                            additional_headers={"Cookie": cookies[index % len(cookies)]},
                            origin=spec["origin"],
                            compression=None,
                            max_size=None,
                            ping_interval=None,
                            open_timeout=60,
                        )
                except (OSError, websockets.InvalidHandshake):
                    if attempt == CONNECT_ATTEMPTS:
                        raise
                    self.connect_retries += 1
                    await asyncio.sleep(attempt)

        started = time.monotonic()
        self.sockets = await asyncio.gather(*(one(i) for i in range(spec["sockets"])))
        self.connect_seconds = time.monotonic() - started

    def results(self) -> dict:
        return {
            "latencies": [round(value, 5) for value in self.latencies],
            "received": self.received,
            "expected": self.expected,
            "first_send": self.first_send,
            "last_delivery": self.last_delivery,
            "connect_seconds": self.connect_seconds,
            "connect_retries": self.connect_retries,
            "sockets": len(self.sockets),
        }


async def wait_for_go() -> float:
    """Say "ready"; return the start time from the orchestrator's "go <time>" line."""
    print("ready", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return float(line.split()[1])


async def until_done(run: Scenario, tasks: list[asyncio.Task], drain_seconds: float) -> None:
    """Wait for every expected delivery, or drain_seconds after the last send."""
    deadline = time.time() + run.spec["send_seconds"] + drain_seconds
    while run.received < run.expected and time.time() < deadline:
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()


# -- chat: N sockets in one room; some of them also send, at a fixed total rate ----


def chat_frame(flavor: str, text: str) -> str:
    if flavor == "reference":
        return json.dumps({"message": text})
    return json.dumps({"type": "chat.send", "text": text})


def chat_text(flavor: str, raw: str) -> str | None:
    """The text of a chat message frame, or None for any other frame."""
    if flavor == "reference":
        return json.loads(raw)["message"]
    if raw.startswith('{"type":"chat.message"'):
        return json.loads(raw)["message"]["text"]
    return None


async def chat(run: Scenario) -> None:
    spec = run.spec
    flavor, total, rate = spec["flavor"], spec["messages"], spec["rate"]
    senders = spec["senders"]  # global sender numbers handled by this process
    await run.connect_all(lambda index: spec["path"])
    run.expected = total * len(run.sockets)

    async def listen(socket) -> None:
        async for raw in socket:
            text = chat_text(flavor, raw)
            if text and text.startswith("bench "):
                run.record(float(text.split()[2]))

    async def send(sender: int, socket, start: float) -> None:
        for seq in range(sender, total, spec["sender_count"]):
            await asyncio.sleep(max(0.0, start + seq / rate - time.time()))
            await socket.send(chat_frame(flavor, f"bench {seq} {time.time():.6f}"))

    listeners = [asyncio.create_task(listen(socket)) for socket in run.sockets]
    start = run.first_send = await wait_for_go()
    await asyncio.gather(*(send(sender, run.sockets[n], start) for n, sender in enumerate(senders)))
    await until_done(run, listeners, spec["drain_seconds"])


# -- notifications: N sockets; announcements made through the project's service ----


async def notifications(run: Scenario) -> None:
    spec = run.spec
    total, rate = spec["messages"], spec["rate"]
    await run.connect_all(lambda index: "/ws/notifications/")
    run.expected = total * len(run.sockets)

    async def listen(socket) -> None:
        async for raw in socket:
            if raw.startswith('{"type":"notifications.new"'):
                title = json.loads(raw)["notification"]["title"]
                if title.startswith("bench "):
                    run.record(float(title.split()[2]))

    listeners = [asyncio.create_task(listen(socket)) for socket in run.sockets]
    start = run.first_send = await wait_for_go()
    if spec["driver"]:
        import django

        django.setup()
        from notifications.services import announce

        for seq in range(total):
            await asyncio.sleep(max(0.0, start + seq / rate - time.time()))
            await asyncio.to_thread(announce, f"bench {seq} {time.time():.6f}")
    await until_done(run, listeners, spec["drain_seconds"])


# -- game: two players move in turn, spectators watch; one game after another -------


async def game(run: Scenario) -> None:
    for number, game_id in enumerate(run.spec["games"]):
        await play_one_game(run, game_id, first=number == 0)


async def play_one_game(run: Scenario, game_id: int, first: bool) -> None:
    spec = run.spec
    interval = 1 / spec["rate"]
    await run.connect_all(lambda index: f"/ws/game/{game_id}/")  # 0 and 1 are the players
    sent: dict[int, float] = {}  # version -> when the move that makes it was sent
    seen = [set() for _ in run.sockets]  # versions each spectator has seen
    finished = asyncio.Event()
    next_move_at = 0.0

    async def play(index: int, socket) -> None:
        nonlocal next_move_at
        name = spec["usernames"][index] if index < 2 else None
        async for raw in socket:
            if not raw.startswith('{"type":"game.state"'):
                continue
            state = json.loads(raw)["game"]
            version = state["version"]
            if index >= 2 and version in sent and version not in seen[index]:
                seen[index].add(version)
                run.record(sent[version])
            if state["status"] == "finished":
                finished.set()
            elif name is not None and state["to_move"] == name and version + 1 not in sent:
                column = next(c for c, cell in enumerate(state["board"][0]) if cell is None)
                await asyncio.sleep(max(0.0, next_move_at - time.time()))
                next_move_at = time.time() + interval
                sent[version + 1] = time.time()
                frame = {"type": "game.move", "move": column, "version": version}
                await socket.send(json.dumps(frame))

    if first:  # every socket of the first game is open: start
        run.first_send = await wait_for_go()
    tasks = [asyncio.create_task(play(i, s)) for i, s in enumerate(run.sockets)]
    await asyncio.wait_for(finished.wait(), timeout=spec["drain_seconds"])
    await asyncio.sleep(0.5)  # the last state reaches every spectator
    run.expected += len(sent) * (len(run.sockets) - 2)
    for task in tasks:
        task.cancel()
    for socket in run.sockets:
        await socket.close()


# -- idle: N open sockets held while bench/run.py reads the server's memory ----------


async def idle(run: Scenario) -> None:
    await run.connect_all(lambda index: run.spec["path"])
    await wait_for_go()  # the orchestrator measures, then says go
    for socket in run.sockets:
        await socket.close()


async def main(spec: dict) -> None:
    run = Scenario(spec)
    await {"chat": chat, "notifications": notifications, "game": game, "idle": idle}[spec["kind"]](
        run
    )
    print(json.dumps(run.results()), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
