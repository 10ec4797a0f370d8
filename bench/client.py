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
import contextlib
import json
import random
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
        self.frames = 0  # frames and bytes received (the join scenario counts them)
        self.bytes = 0

    def record(self, sent_at: float) -> None:
        now = time.time()
        self.latencies.append(now - sent_at)
        self.received += 1
        self.last_delivery = now

    async def connect_all(self, path_for, on_open=None) -> None:
        """Open this process's sockets, CONNECTS_IN_FLIGHT at a time; time it.
        `on_open(socket)`, if given, is called as each one opens."""
        spec, limit = self.spec, asyncio.Semaphore(CONNECTS_IN_FLIGHT)
        cookies = spec["cookies"]

        async def one(index: int):
            for attempt in range(1, CONNECT_ATTEMPTS + 1):
                try:
                    async with limit:
                        socket = await websockets.connect(
                            spec["url"] + path_for(index),
                            additional_headers={"Cookie": cookies[index % len(cookies)]},
                            origin=spec["origin"],
                            compression=None,
                            max_size=None,
                            ping_interval=None,
                            open_timeout=60,
                        )
                    if on_open:
                        on_open(socket)
                    return socket
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
            "frames": self.frames,
            "bytes": self.bytes,
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


# -- join: a presence join storm: N people open one room, as fast as they can ------


async def join(run: Scenario) -> None:
    """Every socket's list of who is here, kept from the frames it gets, until it names
    everyone. Counts the bytes and frames that costs. The tutorial consumer has no
    presence: its sockets are done once open."""
    spec = run.spec
    everyone = set(spec["usernames"])
    run.expected = spec["sockets"]
    run.first_send = await wait_for_go()
    start = time.time()
    done = asyncio.Event()

    async def listen(socket) -> None:
        here: set[str] = set()
        complete = False
        async for raw in socket:
            run.frames += 1
            run.bytes += len(raw)
            if complete or not raw.startswith('{"type":"chat.presence'):
                continue
            frame = json.loads(raw)
            if frame["type"] == "chat.presence":
                here = set(frame["members"])
            else:
                here.difference_update(frame["left"])
                here.update(frame["joined"])
            if here >= everyone:
                complete = True
                arrived()

    def arrived() -> None:
        run.record(start)
        if run.received == run.expected:
            done.set()

    def opened(socket) -> None:
        listeners.append(asyncio.create_task(listen(socket)))
        if spec["flavor"] == "reference":
            arrived()

    listeners: list[asyncio.Task] = []
    await run.connect_all(lambda index: spec["path"], on_open=opened)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), spec["drain_seconds"])
    await asyncio.sleep(0.5)  # frames still on their way are counted too
    for task in listeners:
        task.cancel()


# -- rooms: many small rooms, each chatting slowly -----------------------------------


async def rooms(run: Scenario) -> None:
    """spec["rooms"]: this process's rooms, each [path, sockets]; the first socket of
    each room sends one message every 1/rate seconds."""
    spec = run.spec
    flavor, total, rate = spec["flavor"], spec["messages"], spec["rate"]
    paths = [path for path, size in spec["rooms"] for _ in range(size)]
    await run.connect_all(lambda index: paths[index])
    run.expected = sum(size * total for _, size in spec["rooms"])

    async def listen(socket) -> None:
        async for raw in socket:
            text = chat_text(flavor, raw)
            if text and text.startswith("bench "):
                run.record(float(text.split()[2]))

    async def send(socket, start: float, offset: float) -> None:
        for seq in range(total):
            await asyncio.sleep(max(0.0, start + offset + seq / rate - time.time()))
            await socket.send(chat_frame(flavor, f"bench {seq} {time.time():.6f}"))

    listeners = [asyncio.create_task(listen(socket)) for socket in run.sockets]
    start = run.first_send = await wait_for_go()
    first_sockets, index = [], 0
    for _, size in spec["rooms"]:
        first_sockets.append(run.sockets[index])
        index += size
    # Spread the rooms over the second, as people do: not every room at the same instant.
    count = len(first_sockets)
    await asyncio.gather(*(send(s, start, n / (count * rate)) for n, s in enumerate(first_sockets)))
    await until_done(run, listeners, spec["drain_seconds"])


# -- reconnect: the server is killed and restarted under N open sockets --------------

BASE_DELAY = 0.5  # the browser's backoff (realtime/static/realtime/client.js)
MAX_DELAY = 15.0


async def reconnect(run: Scenario) -> None:
    """Each socket reconnects as the browser does (exponential backoff, full jitter)
    and resumes from the last message id it saw (?after=N). Done when every socket
    is back and, for the apps, has every message posted while the server was down
    (spec["missed"]). Latency: from the restart to that socket being done."""
    spec = run.spec
    flavor, missed = spec["flavor"], spec["missed"]
    await run.connect_all(lambda index: spec["path"])
    last_id = [None] * len(run.sockets)
    run.expected = len(run.sockets) * (missed if flavor == "apps" else 1)
    done = asyncio.Event()
    restarted = asyncio.get_running_loop().create_future()

    async def first_frames(index: int, socket) -> None:
        """Read the history the first connection sent: it sets the resume cursor."""
        async for raw in socket:
            if flavor == "apps" and raw.startswith('{"type":"chat.history"'):
                ids = [m["id"] for m in json.loads(raw)["messages"]]
                last_id[index] = max(ids, default=last_id[index])

    async def resume(index: int, socket) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await first_frames(index, socket)
        attempt = 0
        while True:
            await asyncio.sleep(random.random() * min(MAX_DELAY, BASE_DELAY * 2**attempt))
            attempt += 1
            path = spec["path"]
            if flavor == "apps" and last_id[index] is not None:
                path = path.split("?")[0] + f"?after={last_id[index]}"
            try:
                socket = await websockets.connect(
                    spec["url"] + path,
                    additional_headers={"Cookie": spec["cookies"][index % len(spec["cookies"])]},
                    origin=spec["origin"],
                    compression=None,
                    max_size=None,
                    ping_interval=None,
                    open_timeout=30,
                )
            except (OSError, websockets.InvalidHandshake, TimeoutError):
                continue
            run.sockets[index] = socket
            break
        restart = await restarted
        if flavor != "apps":
            run.record(restart)
        else:
            got = 0
            async for raw in socket:
                if raw.startswith(('{"type":"chat.history"', '{"type":"chat.message"')):
                    frame = json.loads(raw)
                    messages = frame.get("messages") or [frame.get("message")]
                    for message in messages:
                        if message and message["text"].startswith("missed "):
                            got += 1
                            run.received += 1
                            if got == missed:
                                run.latencies.append(time.time() - restart)
                                run.last_delivery = time.time()
                    if got >= missed:
                        break
        if run.received >= run.expected:
            done.set()

    tasks = [asyncio.create_task(resume(i, s)) for i, s in enumerate(run.sockets)]
    restart = await wait_for_go()  # sent once the server has been killed and started again
    run.first_send = restart
    restarted.set_result(restart)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), spec["drain_seconds"])
    for task in tasks:
        task.cancel()


# -- idle: N open sockets held while bench/run.py reads the server's memory ----------


async def idle(run: Scenario) -> None:
    await run.connect_all(lambda index: run.spec["path"])
    await wait_for_go()  # the orchestrator measures, then says go
    for socket in run.sockets:
        await socket.close()


async def main(spec: dict) -> None:
    run = Scenario(spec)
    kinds = {
        "chat": chat,
        "notifications": notifications,
        "game": game,
        "idle": idle,
        "join": join,
        "rooms": rooms,
        "reconnect": reconnect,
    }
    await kinds[spec["kind"]](run)
    print(json.dumps(run.results()), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
