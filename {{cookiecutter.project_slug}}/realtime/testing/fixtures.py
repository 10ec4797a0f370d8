"""pytest fixtures shared by every app's tests (loaded by the project's conftest.py).

- daphne_server: the project served by a real daphne process (session-wide).
- flaky_proxy: a proxy in front of it whose connections a test can cut.
- redis_url, redis_server_env, redis_daphne_servers: the same on Redis, two processes;
  on one Redis, or with REALTIME_TEST_REDIS_SHARDS=2 the channel layer over two shards.
- guest_page: a new browser context signed in as a fresh guest.
- staff_user: (username, password) of a superuser in the servers' database.
- browser_type_launch_args: Playwright's Chromium, else a system Chromium.
- browser, csp_violations, frame_violations: every browser context a test opens is
  watched; a Content-Security-Policy violation (realtime/testing/csp.py), or a
  WebSocket frame either way that the protocol document does not allow
  (realtime/testing/contract.py), fails the test.
- ws_connect: a WebsocketCommunicator through the project's own ASGI application
  (config/asgi.py: its origin check, session auth and routing, exactly as served);
  every frame and close code it receives is checked against the protocol document
  (realtime/testing/contract.py).
- alice, bob: two users (the test's django_db mark gives them a database).
"""

import contextlib
import os
import uuid
from http.cookies import SimpleCookie

import pytest
from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.conf import settings
from django.db import connections
from django.test import Client

from .browser import launch_options
from .csp import GUARD
from .pages import sign_in_as_guest
from .servers import (
    DaphneServer,
    FlakyProxy,
    PostgresDatabase,
    RedisServer,
    daphne_servers,
    manage,
    server_environment,
)

REDIS_FIXTURES = {
    "redis_url",
    "own_redis",
    "own_shards",
    "redis_shards",
    "redis_server_env",
    "redis_daphne_servers",
}


def pytest_collection_modifyitems(items):
    """A test that uses a Redis fixture is marked `redis`: `pytest -m redis` runs them."""
    for item in items:
        if REDIS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.redis)


@pytest.fixture(autouse=True, scope="session")
def _asgi_application_loaded():
    """config.asgi sets Django up again, which applies settings.LOGGING again and drops the
    root logger's handlers: imported inside a test, it would take that test's caplog away."""
    import config.asgi  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets its own channel layer: a Redis layer binds locks to the event loop
    it was first used in, and each async test runs in a new one."""
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _consumer_connection_closed():
    """After each test, close the connection the consumers' database thread keeps open
    (realtime/db.py): else PostgreSQL cannot drop the test database at the end."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture(autouse=True)
def _fresh_user_budget(settings):
    """Each test spends from a message budget of its own (the same users recur)."""
    settings.REALTIME = {**settings.REALTIME, "USER_RATE_LIMIT_PREFIX": f"test-{uuid.uuid4()}"}


@pytest.fixture(autouse=True)
def _fresh_cache(settings, request):
    """Each test counts its rate limits from zero in a cache of its own (never a shared Redis)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


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
        extra = launch_options(playwright.chromium.executable_path)
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)  # never a silent skip
    return {**browser_type_launch_args, **extra}


@pytest.fixture(scope="session")
def browser(browser):
    """pytest-playwright's browser; each context it opens, the tests' or its own, is watched."""
    from .contract import WATCHER, protocol

    protocol()  # built now, not inside Playwright's first frame event
    new_context, new_page = browser.new_context, browser.new_page

    def watched_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        GUARD.watch(context)
        WATCHER.watch(context)
        return context

    def watched_page(*args, **kwargs):
        page = new_page(*args, **kwargs)  # still on about:blank: the guards see its first page
        GUARD.watch(page.context)
        WATCHER.watch(page.context)
        return page

    browser.new_context, browser.new_page = watched_context, watched_page
    return browser


@pytest.fixture(autouse=True)
def csp_violations():
    """Fails the test on a CSP violation in any watched browser context."""
    GUARD.violations.clear()
    yield GUARD.violations
    found, GUARD.violations[:] = list(GUARD.violations), []
    if found:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(found), pytrace=False)


@pytest.fixture(autouse=True)
def frame_violations():
    """Fails the test on a WebSocket frame, either way, that docs/asyncapi.json does not
    allow at its URL, in any watched browser context."""
    from .contract import WATCHER

    WATCHER.violations.clear()
    yield WATCHER.violations
    found, WATCHER.violations[:] = list(WATCHER.violations), []
    if found:
        shown = "\n".join(found[:10]) + (f"\n(and {len(found) - 10} more)" if found[10:] else "")
        message = f"WebSocket frames the protocol document does not allow:\n{shown}"
        pytest.fail(message, pytrace=False)


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


def start_redis(log_path) -> RedisServer:
    """A throwaway redis-server; without one the test is skipped with the reason,
    except under CI=true, where a missing Redis fails the run."""
    server = RedisServer(log_path)
    try:
        server.start()
    except (FileNotFoundError, RuntimeError, TimeoutError) as error:
        message = f"these tests need Redis: set REDIS_URL or install redis-server ({error})"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return server


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """REDIS_URL when it is set, else a throwaway redis-server started for this run."""
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    server = start_redis(tmp_path_factory.mktemp("redis") / "redis.log")
    yield server.url
    server.stop()


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, which the test may stop and start (never a
    shared one)."""
    server = start_redis(tmp_path / "redis.log")
    yield server
    server.stop()


@pytest.fixture
def own_shards(own_redis, tmp_path):
    """own_shards(n): n redis-servers of this test's own (own_redis the first), for a
    channel layer sharded over them."""
    more = []

    def start(count):
        while len(more) < count - 1:
            more.append(start_redis(tmp_path / f"redis-{len(more) + 2}.log"))
        return [own_redis, *more[: count - 1]]

    yield start
    for server in more:
        server.stop()


@pytest.fixture(scope="session")
def redis_shards(tmp_path_factory):
    """Two throwaway redis-servers for a channel layer sharded over both."""
    servers = []
    try:
        for _ in range(2):
            servers.append(start_redis(tmp_path_factory.mktemp("shard") / "redis.log"))
        yield servers
    finally:
        for server in servers:
            server.stop()


# The cross-process tests run on one Redis; with REALTIME_TEST_REDIS_SHARDS=2, on a
# channel layer sharded over two instead (the template's own run does that for one of
# its bakes). chat/tests/test_redis_shards.py runs on two shards either way.
CROSS_PROCESS_REDIS = (
    "two Redis shards" if os.environ.get("REALTIME_TEST_REDIS_SHARDS") == "2" else "one Redis"
)


@pytest.fixture(scope="session", params=[CROSS_PROCESS_REDIS])
def redis_server_env(request, server_env):
    """server_env on the Redis channel layer (same database), for cross-process tests:
    on one Redis, or sharded over two (CHANNEL_LAYER_REDIS_URLS; the cache and budgets
    on the first), as CROSS_PROCESS_REDIS says."""
    if request.param == "one Redis":
        return {**server_env, "REDIS_URL": request.getfixturevalue("redis_url")}
    shards = request.getfixturevalue("redis_shards")
    return {
        **server_env,
        "REDIS_URL": shards[0].url,
        "CHANNEL_LAYER_REDIS_URLS": ",".join(shard.url for shard in shards),
    }


@pytest.fixture(scope="session")
def redis_daphne_servers(redis_server_env, tmp_path_factory):
    """Two daphne processes sharing Redis and the database, as behind a load balancer."""
    with daphne_servers(redis_server_env, tmp_path_factory.mktemp("redis-logs")) as servers:
        yield servers


@pytest.fixture(scope="session")
def staff_user(server_env):
    """(username, password) of a superuser in the servers' database (every server shares it)."""
    username, password = f"staff-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    env = {**server_env, "DJANGO_SUPERUSER_PASSWORD": password}
    manage(env, "createsuperuser", "--noinput", "--username", username, "--email", "s@example.com")
    return username, password


@pytest.fixture
def guest_page(browser):
    """guest_page(base_url) -> (page, username): a fresh browser context signed in as a guest.

    Keyword arguments go to browser.new_context(), e.g. guest_page(url, **PHONE).
    """
    contexts = []

    def open_page(base_url: str, **context_options):
        context = browser.new_context(**context_options)
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
    """Open WebSockets as a given user (or anonymous) through the project's application.

    async with ws_connect("/ws/chat/lobby/", user) as communicator: ...

    It is config.asgi.application itself, not a copy: remove the origin check or
    the session middleware there, and the tests that rely on them fail. A frame or
    close code that docs/asyncapi.json does not document there fails the test.
    """
    from config.asgi import application

    from .contract import ContractCommunicator

    @contextlib.asynccontextmanager
    async def connect(path, user=None, origin="http://testserver", expect_accept=True):
        headers = [(b"host", b"testserver")]  # what the origin check compares the Origin with
        if origin:
            headers.append((b"origin", origin.encode()))
        if user is not None:
            cookie = await database_sync_to_async(session_cookie)(user)
            headers.append((b"cookie", cookie.encode()))
        communicator = ContractCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect()
        if connected is not expect_accept:
            pytest.fail(f"connecting to {path}: accepted={connected}, expected {expect_accept}")
        try:
            yield communicator
        finally:
            await communicator.disconnect()

    return connect


def session_cookie(user) -> str:
    """A Cookie header value with a fresh session of `user`."""
    client = Client()
    client.force_login(user)
    morsel = client.cookies[settings.SESSION_COOKIE_NAME]
    return SimpleCookie({morsel.key: morsel.value}).output(header="", sep=";").strip()
