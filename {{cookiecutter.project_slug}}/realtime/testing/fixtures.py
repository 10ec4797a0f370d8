"""pytest fixtures shared by every app's tests (loaded by the project's conftest.py).

- daphne_server: the project served by a real daphne process (session-wide).
- flaky_proxy: a proxy in front of it whose connections a test can cut.
- redis_url, redis_server_env, redis_daphne_servers: the same on Redis, two processes.
- guest_page: a new browser context signed in as a fresh guest.
- browser_type_launch_args: Playwright's Chromium, else a system Chromium.
- ws_connect: a WebsocketCommunicator through the project's real ASGI stack.
- alice, bob: two users (the test's django_db mark gives them a database).
"""

import contextlib
import os
from http.cookies import SimpleCookie

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from . import browser
from .pages import sign_in_as_guest
from .servers import (
    DaphneServer,
    FlakyProxy,
    PostgresDatabase,
    RedisServer,
    manage,
    server_environment,
)


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets its own channel layer: a Redis layer binds locks to the event loop
    it was first used in, and each async test runs in a new one."""
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _unhashed_static_files(settings):
    """In-process tests render pages without collectstatic (the daphne servers run it)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, playwright):
    try:
        extra = browser.launch_options(playwright.chromium.executable_path)
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)  # never a silent skip
    return {**browser_type_launch_args, **extra}


@pytest.fixture(scope="session")
def server_env(tmp_path_factory):
    """Environment for daphne processes, with a migrated database and collected static files.

    The database is a SQLite file, or with DATABASE_URL=postgres://... a Postgres
    database of its own on that server (the in-process tests use pytest-django's).
    """
    work_dir = tmp_path_factory.mktemp("e2e")
    postgres = None
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        postgres = PostgresDatabase(os.environ["DATABASE_URL"])
        postgres.create()
    database_url = postgres.url if postgres else f"sqlite:///{work_dir / 'e2e.sqlite3'}"
    env = server_environment(work_dir, database_url)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    yield env
    if postgres:
        postgres.drop()


@pytest.fixture(scope="session")
def daphne_server(server_env, tmp_path_factory):
    server = DaphneServer(server_env, tmp_path_factory.mktemp("logs") / "daphne.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """REDIS_URL when it is set, else a throwaway redis-server started for this run.

    Without either, the Redis tests are skipped with the reason, except under
    CI=true, where a missing Redis fails the run.
    """
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    server = RedisServer(tmp_path_factory.mktemp("redis") / "redis.log")
    try:
        server.start()
    except (FileNotFoundError, RuntimeError, TimeoutError) as error:
        message = f"these tests need Redis: set REDIS_URL or install redis-server ({error})"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def redis_server_env(server_env, redis_url):
    """server_env on the Redis channel layer (same database), for cross-process tests."""
    return {**server_env, "REDIS_URL": redis_url}


@pytest.fixture(scope="session")
def redis_daphne_servers(redis_server_env, tmp_path_factory):
    """Two daphne processes sharing Redis and the database, as behind a load balancer."""
    logs = tmp_path_factory.mktemp("redis-logs")
    servers = [DaphneServer(redis_server_env, logs / f"daphne-{n}.log") for n in (1, 2)]
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def guest_page(browser):
    """guest_page(base_url) -> (page, username): a fresh browser context signed in as a guest."""
    contexts = []

    def open_page(base_url: str):
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        return page, sign_in_as_guest(page, base_url)

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def flaky_proxy(daphne_server):
    proxy = FlakyProxy(daphne_server.port)
    yield proxy
    proxy.close()


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob")


@pytest.fixture
def ws_connect():
    """Open WebSockets as a given user (or anonymous) through origin check and auth.

    async with ws_connect("/ws/chat/lobby/", user) as communicator: ...
    """

    application = AllowedHostsOriginValidator(
        AuthMiddlewareStack(URLRouter(_websocket_urlpatterns()))
    )

    @contextlib.asynccontextmanager
    async def connect(path, user=None, origin="http://testserver", expect_accept=True):
        headers = [(b"host", b"testserver")]  # what the origin check compares the Origin with
        if origin:
            headers.append((b"origin", origin.encode()))
        if user is not None:
            cookie = await database_sync_to_async(_session_cookie)(user)
            headers.append((b"cookie", cookie.encode()))
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect()
        if connected is not expect_accept:
            pytest.fail(f"connecting to {path}: accepted={connected}, expected {expect_accept}")
        try:
            yield communicator
        finally:
            await communicator.disconnect()

    return connect


def _websocket_urlpatterns():
    from importlib import import_module

    package = settings.ROOT_URLCONF.rsplit(".", 1)[0]
    return import_module(f"{package}.routing").websocket_urlpatterns


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    morsel = client.cookies[settings.SESSION_COOKIE_NAME]
    return SimpleCookie({morsel.key: morsel.value}).output(header="", sep=";").strip()
