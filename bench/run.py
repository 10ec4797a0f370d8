"""`make bench`: the generated apps against the Channels tutorial consumer, under load.

Generates a project with the defaults (or uses --project), starts a throwaway
redis-server (or uses REDIS_URL), serves the project with daphne on the Redis
core layer, and drives it with load-client processes (bench/client.py):

- idle:    sockets held open, to read the server's memory per connection;
- chat:    N sockets in one room, messages sent at a fixed rate by some of them;
- notifications: N sockets, announcements made through the project's service
           and fanned out by its background worker;
- game:    two players moving in turn, watched by spectators;
- small rooms: many rooms of 4, each chatting at 1 message/s (the common shape);
- light load: 20 sockets in one room, 20 messages 50 ms apart;
- presence join storm: N people (one socket each) open one room at once; every
           socket's "here now" list must end up naming everyone; counts the bytes;
- reconnect storm: N open sockets, daphne killed (SIGKILL) and started again,
           messages posted while it was down; time until every socket is back
           and, for the apps, has resumed every missed message.

Every scenario but notifications and game also runs against bench/reference.py,
the tutorial's ChatConsumer, on the same daphne, settings and Redis (it has no
presence and no history: there it measures connecting and delivering only).
Prints a markdown table and writes it with a plot (PNG) to --out.
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = BENCH_DIR.parent
# The generated project's process helpers, straight from the template (no Jinja, no Django).
sys.path.insert(0, str(TEMPLATE_DIR / "{{cookiecutter.project_slug}}"))
from realtime.testing.processes import free_port, stop_process, wait_for_port  # noqa: E402

DAPHNE_LIMITS = ["--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536"]


SCENARIOS = {"idle", "chat", "light", "small", "join", "notifications", "game", "reconnect"}


@dataclass
class Size:
    clients: int = 500  # sockets in the room / on the notifications page
    idle: int = 1000  # sockets held open for the memory reading
    # The clients sign in as this many users (tabs share a user). Enough that no
    # user goes past the project's per-user limits (REALTIME["MAX_SOCKETS_PER_USER"],
    # 20 sockets per process; "USER_RATE_LIMIT"): 1,000 sockets are 10 per user.
    users: int = 100
    processes: int = 2  # load-client processes
    fast: tuple[int, int] = (100, 200)  # chat: messages/s, messages
    steady: tuple[int, int] = (20, 100)
    announcements: tuple[float, int] = (2, 20)  # announcements/s, announcements
    spectators: int = 200
    games: int = 3
    moves_per_second: float = 10
    light: tuple[int, int, int] = (20, 20, 20)  # sockets, messages/s, messages
    small_rooms: tuple[int, int] = (250, 4)  # rooms, sockets per room
    small_messages: int = 20  # per room, at 1 a second
    joiners: int = 1000  # presence join storm: sockets, one user each
    storm: tuple[int, int] = (1000, 5)  # reconnect storm: sockets, messages missed
    drain_seconds: float = 90


TINY = Size(
    clients=12,
    idle=20,
    users=4,
    processes=2,
    fast=(20, 10),
    steady=(10, 5),
    announcements=(2, 2),
    spectators=4,
    games=1,
    light=(6, 20, 5),
    small_rooms=(3, 4),
    small_messages=3,
    joiners=12,
    storm=(12, 2),
    drain_seconds=30,
)


@dataclass
class Result:
    target: str  # "reference" or "apps"
    scenario: str
    load: str
    latencies: list[float] = field(default_factory=list)
    received: int = 0
    expected: int = 0
    seconds: float = 0.0
    connects_per_second: float = 0.0
    connect_retries: int = 0
    kb_per_connection: float | None = None
    frames: int = 0  # frames and bytes the load clients received (join storm)
    bytes: int = 0
    sockets: int = 0

    @property
    def lost(self) -> int:
        return self.expected - self.received

    def percentile(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]

    @property
    def deliveries_per_second(self) -> float:
        return self.received / self.seconds if self.seconds else 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


class Bench:
    def __init__(self, project: Path, work: Path, size: Size) -> None:
        self.project, self.work, self.size = project, work, size
        self.python = str(project / ".venv" / "bin" / "python")
        self.results: list[Result] = []
        self.redis: subprocess.Popen | None = None
        self.daphne: subprocess.Popen | None = None  # the server under test now
        redis_url = os.environ.get("REDIS_URL") or self.start_redis()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "REDIS_URL": redis_url,
            "REDIS_CHANNEL_LAYER": "core",
            "REDIS_PREFIX": "bench",
            "DEBUG": "false",
            "HTTPS": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONPATH": os.pathsep.join([str(project), str(BENCH_DIR)]),
            "PYTHONUNBUFFERED": "1",
        }

    def start_redis(self) -> str:
        if not shutil.which("redis-server"):
            sys.exit("The benchmark needs Redis: set REDIS_URL or install redis-server.")
        port = free_port()
        log = (self.work / "redis.log").open("w")
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(port, timeout=60, process=self.redis)
        return f"redis://127.0.0.1:{port}/0"

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [self.python, *args],
            check=False,
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            sys.exit(f"{' '.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def prepare(self) -> dict:
        self.manage("manage.py", "migrate", "--noinput")
        size = self.size
        counts = (size.users, size.games, size.joiners, size.small_rooms[0])
        return json.loads(self.manage(str(BENCH_DIR / "prepare.py"), *map(str, counts)))

    def serve(self, target: str, port: int | None = None) -> tuple[subprocess.Popen, int]:
        port = port or free_port()
        app = "reference:application" if target == "reference" else "config.asgi:application"
        log = (self.work / f"daphne-{target}.log").open("a")
        daphne = subprocess.Popen(
            [
                str(self.project / ".venv" / "bin" / "daphne"),
                *DAPHNE_LIMITS,
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                app,
            ],
            cwd=self.project,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(port, timeout=60, process=daphne)
        return daphne, port

    def settle(self) -> None:
        """Wait (at most 30 s) until daphne is idle, under 5 % of a core for half a
        second: each scenario starts on a quiet server, not amid the last one's
        disconnects (the apps' 500 presence leaves held up the light load's connects)."""
        started = time.monotonic()
        while (waited := time.monotonic() - started) < 30:
            before = cpu_seconds(self.daphne.pid)
            time.sleep(0.5)
            if cpu_seconds(self.daphne.pid) - before < 0.025:
                break
        if waited >= 1:
            print(f"  (daphne was busy for {waited:.1f} s before the next clients)", flush=True)

    def drive(self, specs: list[dict], between=None) -> list[dict]:
        """Start one client per spec; when all are ready, call `between`, then say go."""
        self.settle()
        clients = [
            subprocess.Popen(
                [self.python, str(BENCH_DIR / "client.py"), json.dumps(spec)],
                cwd=self.project,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for spec in specs
        ]
        for client in clients:
            line = client.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"a load client failed before starting: {line!r}")
        # `between` may name the start time itself (the reconnect storm: the restart).
        start_at = (between() if between else None) or time.time() + 0.5
        for client in clients:
            client.stdin.write(f"go {start_at}\n")
            client.stdin.flush()
        outputs = []
        for client in clients:
            out, _ = client.communicate(timeout=self.size.drain_seconds * 3 + 120)
            if client.returncode:
                raise RuntimeError(f"a load client exited with {client.returncode}")
            outputs.append(json.loads(out.strip().splitlines()[-1]))
        return outputs

    def split(self, total: int) -> list[int]:
        """`total` sockets spread over the load-client processes."""
        share, extra = divmod(total, self.size.processes)
        return [share + (1 if n < extra else 0) for n in range(self.size.processes)]

    def base_spec(self, port: int, data: dict, process: int = 0, **fields) -> dict:
        """One load-client process's spec; `process` rotates the users, so that each
        process's first sockets (the chat senders) belong to different users."""
        shift = process * len(data["cookies"]) // self.size.processes
        return {
            "url": f"ws://127.0.0.1:{port}",
            "origin": f"http://127.0.0.1:{port}",
            "cookies": data["cookies"][shift:] + data["cookies"][:shift],
            "usernames": data["usernames"][shift:] + data["usernames"][:shift],
            "drain_seconds": self.size.drain_seconds,
            **fields,
        }

    def collect(self, target: str, scenario: str, load: str, outputs: list[dict]) -> Result:
        result = Result(target, scenario, load)
        for output in outputs:
            result.latencies += output["latencies"]
            result.received += output["received"]
            result.expected += output["expected"]
            result.connect_retries += output["connect_retries"]
            result.frames += output["frames"]
            result.bytes += output["bytes"]
        sends = [o["first_send"] for o in outputs if o["first_send"]]
        ends = [o["last_delivery"] for o in outputs if o["last_delivery"]]
        if sends and ends:
            result.seconds = max(ends) - min(sends)
        sockets = result.sockets = sum(o["sockets"] for o in outputs)
        slowest = max(o["connect_seconds"] for o in outputs)
        result.connects_per_second = sockets / slowest if slowest else 0.0
        self.results.append(result)
        print(f"  {target:9} {scenario:13} {load:34} {summary(result)}", flush=True)
        return result

    # -- scenarios -----------------------------------------------------------

    def idle(self, target: str, daphne: subprocess.Popen, port: int, data: dict) -> None:
        path = "/ws/chat/bench/" if target == "reference" else "/ws/chat/bench/?after=999999999"
        warm_up = self.base_spec(port, data, kind="idle", path=path, sockets=1, send_seconds=0)
        self.drive([warm_up])  # the first connection imports the consumers' code
        before = rss_kb(daphne.pid)
        readings = {}

        def measure():
            time.sleep(3)  # let the server settle
            readings["after"] = rss_kb(daphne.pid)

        specs = [
            self.base_spec(port, data, process, kind="idle", path=path, sockets=n, send_seconds=0)
            for process, n in enumerate(self.split(self.size.idle))
        ]
        outputs = self.drive(specs, between=measure)
        result = self.collect(target, "idle", f"{self.size.idle} open sockets", outputs)
        result.kb_per_connection = (readings["after"] - before) / self.size.idle

    def chat(
        self,
        target: str,
        port: int,
        data: dict,
        rate: int,
        messages: int,
        clients: int | None = None,
        scenario: str = "chat room",
    ) -> None:
        clients = clients or self.size.clients
        sender_count = max(1, math.ceil(rate / 4))  # 4 a second each: under the rate limit
        path = "/ws/chat/bench/" if target == "reference" else "/ws/chat/bench/?after=999999999"
        specs, next_sender = [], 0
        for process, share in enumerate(self.split(clients)):
            mine = min(share, math.ceil(sender_count / self.size.processes))
            senders = list(range(next_sender, min(sender_count, next_sender + mine)))
            next_sender += len(senders)
            specs.append(
                self.base_spec(
                    port,
                    data,
                    process,
                    kind="chat",
                    flavor=target,
                    path=path,
                    sockets=share,
                    senders=senders,
                    sender_count=sender_count,
                    messages=messages,
                    rate=rate,
                    send_seconds=messages / rate,
                )
            )
        load = f"{clients} sockets, {messages} msgs at {rate}/s"
        self.collect(target, scenario, load, self.drive(specs))

    def small_rooms(self, target: str, port: int, data: dict) -> None:
        count, size = self.size.small_rooms
        messages = self.size.small_messages
        query = "" if target == "reference" else "?after=999999999"
        rooms = [[f"/ws/chat/{slug}/{query}", size] for slug in data["small_rooms"]]
        shares = self.split(count)
        specs = []
        for process, share in enumerate(shares):
            mine, rooms = rooms[:share], rooms[share:]
            specs.append(
                self.base_spec(
                    port,
                    data,
                    process,
                    kind="rooms",
                    flavor=target,
                    rooms=mine,
                    sockets=share * size,
                    messages=messages,
                    rate=1,
                    send_seconds=messages,
                )
            )
        load = f"{count * size} sockets in {count} rooms of {size}, 1 msg/s each"
        self.collect(target, "small rooms", load, self.drive(specs))

    def join_storm(self, target: str, port: int, data: dict) -> None:
        """N users open one room at once, one socket each (presence counts users)."""
        joiners = self.size.joiners
        query = "" if target == "reference" else "?after=999999999"
        specs = [
            {
                **self.base_spec(port, data, process),
                "kind": "join",
                "flavor": target,
                "path": f"/ws/chat/presence/{query}",
                "cookies": data["join_cookies"][sum(self.split(joiners)[:process]) :],
                "usernames": data["join_usernames"],
                "sockets": share,
                "send_seconds": 0,
            }
            for process, share in enumerate(self.split(joiners))
        ]
        load = f"{joiners} sockets of {joiners} users join one room"
        self.collect(target, "join storm", load, self.drive(specs))

    def reconnect_storm(self, target: str, port: int, data: dict) -> None:
        """Kill daphne (self.daphne) under N open sockets, post while it is down, and
        start it again on the same port (self.daphne again)."""
        sockets, missed = self.size.storm

        def restart() -> float:
            self.daphne.kill()  # no goodbye: as a crash or an OOM kill
            self.daphne.wait()
            if target == "apps":
                self.manage(str(BENCH_DIR / "post.py"), "storm", str(missed))
            restarted_at = time.time()
            self.daphne, _ = self.serve(target, port)
            return restarted_at

        specs = [
            self.base_spec(
                port,
                data,
                process,
                kind="reconnect",
                flavor=target,
                path="/ws/chat/storm/",
                sockets=share,
                missed=missed,
                send_seconds=0,
                # Browsers back off up to 15 s between attempts (client.js): after a
                # slow restart the last one may come back that long after the server.
                drain_seconds=max(self.size.drain_seconds, 60),
            )
            for process, share in enumerate(self.split(sockets))
        ]
        load = f"{sockets} sockets, daphne killed and restarted"
        self.collect(target, "reconnect storm", load, self.drive(specs, between=restart))

    def notifications(self, port: int, data: dict) -> None:
        rate, total = self.size.announcements
        log = self.work / "worker.log"
        log.unlink(missing_ok=True)
        worker = subprocess.Popen(
            [self.python, "manage.py", "runworker", "notifications-fanout"],
            cwd=self.project,
            env=self.env,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
        )
        try:
            # Announce only once the worker reads its channel: on a busy machine it can
            # take longer to start than the scenario waits for deliveries.
            deadline = time.monotonic() + 120
            while "Running worker for channels" not in log.read_text():
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the worker did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.2)
            specs = [
                self.base_spec(
                    port,
                    data,
                    kind="notifications",
                    sockets=share,
                    messages=total,
                    rate=rate,
                    driver=(n == 0),
                    send_seconds=total / rate,
                )
                for n, share in enumerate(self.split(self.size.clients))
            ]
            load = f"{self.size.clients} sockets, {total} announcements at {rate:g}/s"
            self.collect("apps", "announcements", load, self.drive(specs))
        finally:
            stop_process(worker)

    def game(self, port: int, data: dict) -> None:
        size = self.size
        spec = self.base_spec(
            port,
            data,
            kind="game",
            games=data["games"],
            sockets=size.spectators + 2,
            rate=size.moves_per_second,
            send_seconds=0,
        )
        load = (
            f"{size.spectators} spectators, {size.games} games, {size.moves_per_second:g} moves/s"
        )
        self.collect("apps", "game", load, self.drive([spec]))

    def run(self, targets: list[str], scenarios: set[str] = SCENARIOS) -> None:
        data = self.prepare()
        size = self.size
        for target in targets:
            self.daphne, port = self.serve(target)
            try:
                if "idle" in scenarios:
                    self.idle(target, self.daphne, port, data)
                if "chat" in scenarios:
                    for rate, messages in (size.fast, size.steady):
                        self.chat(target, port, data, rate, messages)
                if "light" in scenarios:
                    clients, rate, messages = size.light
                    self.chat(target, port, data, rate, messages, clients, "light load")
                if "small" in scenarios:
                    self.small_rooms(target, port, data)
                if "join" in scenarios:
                    self.join_storm(target, port, data)
                if target == "apps" and "notifications" in scenarios:
                    self.notifications(port, data)
                if target == "apps" and "game" in scenarios:
                    self.game(port, data)
                if "reconnect" in scenarios:
                    self.reconnect_storm(target, port, data)
            finally:
                stop_process(self.daphne)

    def close(self) -> None:
        if self.redis:
            stop_process(self.redis)


# -- reporting ---------------------------------------------------------------


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def byte_size(count: float) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 1e6 else f"{count / 1e3:,.1f} KB"


def summary(result: Result) -> str:
    if result.kb_per_connection is not None:
        return f"{result.kb_per_connection:.1f} KB/connection, {result.connects_per_second:,.0f} connects/s"
    return (
        f"{result.deliveries_per_second:,.0f} deliveries/s, p50 {ms(result.percentile(0.5))}, "
        f"p99 {ms(result.percentile(0.99))}, lost {result.lost}"
    )


# Their p50 and p99 are the time until each socket was done (see client.py), and
# they deliver nothing per second: the table shows "-" there and the plot leaves them out.
STORMS = ("join storm", "reconnect storm")


def table(results: list[Result]) -> str:
    lines = [
        "| consumer | scenario | load | deliveries/s | p50 | p99 | max | lost | connects/s | memory/connection |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        idle = r.kb_per_connection is not None
        rate = "-" if idle or r.scenario in STORMS else f"{r.deliveries_per_second:,.0f}"
        lines.append(
            f"| {'tutorial ChatConsumer' if r.target == 'reference' else 'generated apps'} "
            f"| {r.scenario} | {r.load} "
            f"| {rate} "
            f"| {'-' if idle else ms(r.percentile(0.5))} | {'-' if idle else ms(r.percentile(0.99))} "
            f"| {'-' if idle else ms(max(r.latencies, default=None))} | {'-' if idle else r.lost} "
            f"| {r.connects_per_second:,.0f}{f' ({r.connect_retries} retried)' if r.connect_retries else ''} "
            f"| {f'{r.kb_per_connection:.1f} KB' if idle else '-'} |"
        )
    return "\n".join(lines)


def ratios(results: list[Result]) -> list[str]:
    """One line per scenario measured on both sides, comparing them."""
    found = {(r.target, r.scenario, r.load): r for r in results}
    lines = []
    for (target, scenario, load), apps in found.items():
        reference = found.get(("reference", scenario, load))
        if target != "apps" or reference is None:
            continue
        if apps.kb_per_connection is not None:
            lines.append(
                f"- {load}: {apps.kb_per_connection:.1f} KB per idle connection for the apps, "
                f"{reference.kb_per_connection:.1f} KB for the tutorial consumer."
            )
        elif scenario == "join storm":
            lines.append(
                f"- {scenario}, {load}: every socket's list named everyone after "
                f"{ms(max(apps.latencies, default=None))} (p50 {ms(apps.percentile(0.5))}); "
                f"the sockets received {byte_size(apps.bytes)} in {apps.frames:,} frames, "
                f"{byte_size(apps.bytes / max(1, apps.sockets))} per socket; "
                f"connects/s {apps.connects_per_second:,.0f} against the tutorial "
                f"consumer's {reference.connects_per_second:,.0f} (it has no presence)."
            )
        elif scenario == "reconnect storm":
            lines.append(
                f"- {scenario}, {apps.sockets:,} sockets: every socket back and resumed (all "
                f"{apps.expected // max(1, apps.sockets)} messages posted while it was down) "
                f"{ms(max(apps.latencies, default=None))} after the restart began "
                f"(p50 {ms(apps.percentile(0.5))}, lost {apps.lost}); the tutorial consumer's "
                f"back after {ms(max(reference.latencies, default=None))} "
                f"(p50 {ms(reference.percentile(0.5))}; it has nothing to resume)."
            )
        elif scenario == "light load":
            lines.append(
                f"- {scenario}, {load}: p50 {ms(apps.percentile(0.5))} and p99 "
                f"{ms(apps.percentile(0.99))} for the apps, p50 {ms(reference.percentile(0.5))} "
                f"and p99 {ms(reference.percentile(0.99))} for the tutorial consumer."
            )
        elif reference.deliveries_per_second:
            ratio = apps.deliveries_per_second / reference.deliveries_per_second
            lines.append(
                f"- {scenario}, {load}: the apps deliver {ratio:.1f}x as many messages per second"
                f" (p99 {ms(apps.percentile(0.99))} against {ms(reference.percentile(0.99))})."
            )
    return lines


def plot(results: list[Result], path: Path) -> None:
    """Two bar charts (deliveries/s, p99), one pair of bars per scenario and load."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timed = [r for r in results if r.kb_per_connection is None and r.scenario not in STORMS]
    cases = list(dict.fromkeys((r.scenario, r.load) for r in timed))
    by_case = {(r.target, r.scenario, r.load): r for r in timed}
    labels = [textwrap.fill(f"{scenario}: {load}", 22) for scenario, load in cases]
    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 6))
    width = 0.4
    for offset, target, name, color in (
        (-width / 2, "reference", "tutorial consumer", "#b8b8b8"),
        (width / 2, "apps", "generated apps", "#2f6f9f"),
    ):
        rows = [by_case.get((target, *case)) for case in cases]
        xs = [n + offset for n in range(len(cases))]
        left.bar(
            xs, [r.deliveries_per_second if r else 0 for r in rows], width, color=color, label=name
        )
        right.bar(
            xs,
            [((r.percentile(0.99) or 0) * 1000) if r else 0 for r in rows],
            width,
            color=color,
            label=name,
        )
    left.set_title("Deliveries per second (higher is better)")
    right.set_yscale("log")
    right.set_title("p99 latency, ms, log scale (lower is better)")
    for axis in (left, right):
        axis.set_xticks(range(len(cases)), labels, fontsize=7, rotation=35, ha="right")
        axis.grid(axis="y", alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle("Generated apps vs the Channels tutorial consumer, daphne + Redis")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}"


def bake(work: Path) -> Path:
    from cookiecutter.main import cookiecutter

    project = Path(
        cookiecutter(
            str(TEMPLATE_DIR), no_input=True, output_dir=str(work), overwrite_if_exists=True
        )
    )
    subprocess.run(["make", "-C", str(project), "install"], check=True)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="a few sockets: proves it works")
    parser.add_argument("--project", type=Path, help="a generated project (default: bake one)")
    parser.add_argument("--work", type=Path, default=TEMPLATE_DIR / ".bench")
    parser.add_argument("--out", type=Path, default=TEMPLATE_DIR / "docs")
    parser.add_argument("--clients", type=int, help="sockets in the room (default 500)")
    parser.add_argument(
        "--sockets",
        type=int,
        help="sockets of the idle, small rooms, join and reconnect storm scenarios (default 1000)",
    )
    parser.add_argument("--steady", help="RATE,MESSAGES of the steady chat load (default 20,100)")
    parser.add_argument(
        "--scenarios",
        help=f"comma-separated, some of: {', '.join(sorted(SCENARIOS))} (default: all)",
    )
    parser.add_argument(
        "--only", choices=["reference", "apps"], help="measure one side only (for profiling)"
    )
    args = parser.parse_args()
    size = TINY if args.tiny else Size()
    if args.clients:
        size.clients = args.clients
    if args.sockets:
        size.idle = size.joiners = args.sockets
        size.storm = (args.sockets, size.storm[1])
        size.small_rooms = (args.sockets // size.small_rooms[1], size.small_rooms[1])
    if args.steady:
        rate, messages = (int(part) for part in args.steady.split(","))
        size.steady = (rate, messages)
    args.work.mkdir(parents=True, exist_ok=True)
    for stale in ("bench.sqlite3", "daphne-apps.log", "daphne-reference.log"):
        (args.work / stale).unlink(missing_ok=True)
    project = args.project.resolve() if args.project else bake(args.work)
    print(f"Benchmark on {machine()}; project {project}", flush=True)
    bench = Bench(project, args.work.resolve(), size)
    try:
        scenarios = set(args.scenarios.split(",")) if args.scenarios else SCENARIOS
        if scenarios - SCENARIOS:
            parser.error(f"unknown scenarios: {', '.join(sorted(scenarios - SCENARIOS))}")
        bench.run([args.only] if args.only else ["reference", "apps"], scenarios)
    finally:
        bench.close()
    report = "\n".join(
        [
            (
                f"Measured on {machine()}, {time.strftime('%Y-%m-%d')}, with "
                f"`make bench{' ARGS=--tiny' if args.tiny else ''}`: daphne (one process), "
                f"channels_redis core layer, SQLite, {size.processes} load-client processes."
            ),
            "",
            table(bench.results),
            "",
            *ratios(bench.results),
        ]
    )
    print("\n" + report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmark.md").write_text(report + "\n")
    plot(bench.results, args.out / "benchmark.png")
    print(f"\nWrote {args.out / 'benchmark.md'} and {args.out / 'benchmark.png'}")


if __name__ == "__main__":
    main()
