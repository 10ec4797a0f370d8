"""Real servers for end-to-end tests: daphne in a child process, and a TCP proxy to cut it off.

The tests talk to daphne exactly as browsers do in production (a separate
process, a file database, collected static files), not to an in-process server.
Also a Redis that never answers, and an in-memory channel layer that names it.
"""

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from channels.layers import InMemoryChannelLayer
from django.conf import settings

from .processes import free_port, stop_process, wait_for_port


def run_async(coroutine):
    """asyncio.run(coroutine) in a thread of its own, and its result: a sync test that
    talks to a server with an async client. Once a Playwright test has run, the test
    thread's event loop is Playwright's, and asyncio.run() refuses to run there."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


PROJECT_DIR = Path(settings.BASE_DIR)
# As in production (Makefile, Procfile): daphne's own cap on one WebSocket message.
DAPHNE_LIMITS = ["--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536"]


def server_environment(work_dir: Path, database_url: str, **overrides: str) -> dict[str, str]:
    """Environment for a production-like server: DEBUG off, its own database and static root."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_PREFIX="e2e",  # apart from the in-process tests, should they share a Redis
        DEBUG="false",
        HTTPS="false",  # plain http on 127.0.0.1; everything else as in production
        ALLOWED_HOSTS="127.0.0.1,localhost",
        STATIC_ROOT=str(work_dir / "static"),
        PYTHONUNBUFFERED="1",
        # The browser and load tests sign in hundreds of guests from 127.0.0.1; the
        # default limit is proved by accounts/tests/test_limits.py.
        GUEST_RATE_LIMIT="100000/h",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run `manage.py *args` with `env`; its output is in .stdout (text)."""
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


class PostgresDatabase:
    """A database of its own for the servers, beside the one DATABASE_URL names, dropped after."""

    def __init__(self, database_url: str) -> None:
        import environ

        self.config = environ.Env.db_url_config(database_url)
        self.name = f"{self.config['NAME']}_e2e_{os.getpid()}"
        self.url = database_url.rsplit("/", 1)[0] + f"/{self.name}"

    def _run(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            dbname="postgres",
            user=self.config["USER"],
            password=self.config["PASSWORD"] or None,
            host=self.config["HOST"] or None,
            port=self.config["PORT"] or None,
            autocommit=True,
        ) as connection:
            connection.execute(sql)

    def create(self) -> None:
        self._run(f'DROP DATABASE IF EXISTS "{self.name}"')
        self._run(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._run(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class DaphneServer:
    """`daphne <project>.asgi:application` on a free port; start(), stop(), restart()."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.env = env
        self.log_path = log_path
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("a")
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "daphne",
                *DAPHNE_LIMITS,
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "config.asgi:application",
            ],
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(self.port, timeout=30, process=self.process)
        except (RuntimeError, TimeoutError) as error:
            self.stop()
            raise RuntimeError(f"daphne did not start: {error}\n{self.log_tail()}") from None

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def daphne_servers(env: dict[str, str], log_dir: Path, count: int = 2):
    """`count` daphne processes on `env`, as behind a load balancer; stopped afterwards."""
    servers = [DaphneServer(env, log_dir / f"daphne-{n}.log") for n in range(1, count + 1)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


class RedisServer:
    """A throwaway `redis-server` on a free port (no persistence), for tests that need Redis."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed")
        self.process = subprocess.Popen(  # noqa: S603
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=self.log_path.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, timeout=10, process=self.process)

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


class Worker:
    """`manage.py runworker <channels>` in a child process."""

    def __init__(self, env: dict[str, str], channels: list[str], log_path: Path) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runworker", *channels],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log_path.open("a"),
            stderr=subprocess.STDOUT,
        )
        self.env = env
        self.channels = channels

    def wait_until_listening(self, timeout: float = 30) -> None:
        """Return once a job sent now reaches this worker.

        The core Redis layer keeps a job in Redis until a worker takes it, so
        there is nothing to wait for; the pub/sub layer drops a job published
        before the worker has subscribed, so wait for its subscriptions.
        """
        if self.env.get("REDIS_CHANNEL_LAYER") != "pubsub":
            return
        import redis  # only the Redis tests get here

        # A channel's subscription is on one shard of the layer's, whichever its name hashes to.
        shards = self.env.get("CHANNEL_LAYER_REDIS_URLS") or self.env["REDIS_URL"]
        clients = [redis.Redis.from_url(url) for url in shards.split(",")]

        def listening(name: str) -> bool:
            return any(client.pubsub_channels(f"*{name}") for client in clients)

        deadline = time.monotonic() + timeout
        try:
            while not all(listening(name) for name in self.channels):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the worker is not listening on {self.channels}")
                time.sleep(0.1)
        finally:
            for client in clients:
                client.close()

    def stop(self) -> None:
        stop_process(self.process)


class FlakyProxy:
    """A TCP proxy in front of a server, to simulate a network drop.

    cut() closes every proxied connection and refuses new ones (they are
    accepted and closed at once) until restore().
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.is_cut = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        with self.lock:
            self.is_cut = True
            for connection in self.connections:
                self._close(connection)
            self.connections.clear()

    def restore(self) -> None:
        with self.lock:
            self.is_cut = False

    def close(self) -> None:
        self.cut()
        self._close(self.listener)

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # listener closed
            with self.lock:
                if self.is_cut:
                    self._close(client)
                    continue
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.target_port))
                except OSError:
                    self._close(client)
                    continue
                self.connections.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            self._close(source)
            self._close(target)

    @staticmethod
    def _close(connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
        connection.close()


@contextlib.contextmanager
def silent_redis():
    """The URL of a "Redis" that takes connections but never reads or answers (one
    overloaded, or a network dropping packets)."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        yield f"redis://127.0.0.1:{silent.getsockname()[1]}/0"


class InMemoryLayerWithHosts(InMemoryChannelLayer):
    """The in-memory layer configured like a Redis one: messages stay in memory, and
    what looks at the layer's Redis servers itself (the hub, the health check) finds
    its hosts."""

    def __init__(self, hosts=(), **kwargs):
        super().__init__(**kwargs)


def layer_with_hosts(*urls: str) -> dict:
    """A CHANNEL_LAYERS entry: an InMemoryLayerWithHosts naming `urls` as its Redis servers."""
    return {
        "BACKEND": f"{__name__}.InMemoryLayerWithHosts",
        "CONFIG": {"hosts": list(urls)},
    }
