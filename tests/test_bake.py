"""Bake the supported option combinations and check each generated project."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from baking import TEMPLATE, bake, run

# Every combination that changes which files are generated, or what they say
# (like cookiecutter-django's SUPPORTED_COMBINATIONS). Each one is rendered, checked
# for leftovers, linted, and checked by Django with its migrations.
COMBINATIONS = {
    "defaults": {},
    "postgresql": {"database": "postgresql"},
    "redis": {"channel_layer": "redis"},
    "postgres-redis": {"database": "postgresql", "channel_layer": "redis"},
    "pubsub-bare": {"channel_layer": "redis-pubsub", "use_docker": "n", "ci": "none"},
    "no-chat": {"use_chat": "n"},
    "no-notifications": {"use_notifications": "n"},
    "no-game": {"use_game": "n"},
    "core-only": {"use_chat": "n", "use_notifications": "n", "use_game": "n"},
    "unusual-name": {"project_name": "Zoë's <Live> Desk", "project_slug": "zoe"},
}
# Where the generated tests run, and which of them (a representative subset; the
# defaults run their own `make test`, every browser test included, further down).
# Each Redis layer (core with Postgres, pub/sub with SQLite): every unit and consumer
# test, which put every app's group traffic through that layer, and the browser tests
# written for Redis (across processes, restarts, the worker). Each app switched off,
# and all of them, without the browser and load tests: what stays must not lean on what
# went; but not the tests that start a Redis of their own (marked `redis`): they are all
# the core's (realtime/, accounts/; no app has one), which the defaults and both Redis
# bakes run. The unusual name through the pages that show it.
ON_REDIS = ["-m", "not load and (not e2e or redis)"]
# The core layer's bake runs its cross-process tests on a layer sharded over two Redis
# servers (the pub/sub bake and the defaults on one).
GENERATED_ENV = {"postgres-redis": {"REALTIME_TEST_REDIS_SHARDS": "2"}}
APP_OFF = ["-m", "not e2e and not load and not redis"]
GENERATED_TESTS = {
    "postgres-redis": ON_REDIS,
    "pubsub-bare": ON_REDIS,
    "no-chat": APP_OFF,
    "no-notifications": APP_OFF,
    "no-game": APP_OFF,
    "core-only": APP_OFF,
    "unusual-name": ["accounts", "chat/tests/test_views.py"],
}
JINJA = re.compile(r"\{\{|\{%|\{#")
# Markdown images, ![alt](target), and HTML <img src="target">.
IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<md>[^)\s]+)[^)]*\)|<img\b[^>]*\bsrc=\"(?P<html>[^\"]+)\"")
APP_SWITCHES = {"chat": "use_chat", "notifications": "use_notifications", "game": "use_game"}
PROTOCOL = "docs/asyncapi.json"  # written by the post-generation hook for the apps kept
ASYNCAPI_SCHEMA = Path(__file__).parent / "schemas" / "asyncapi-3.0.0.json"
BINARY_SUFFIXES = {".png", ".ico", ".sqlite3"}


def generated_files(project: Path) -> list[Path]:
    skip = {".venv", "__pycache__", "staticfiles"}
    return [
        path
        for path in project.rglob("*")
        if path.is_file() and not skip.intersection(path.parts) and path.suffix not in BINARY_SUFFIXES
    ]


def is_django_template(path: Path) -> bool:
    return "templates" in path.parts and path.suffix == ".html"


@pytest.fixture(scope="module", params=list(COMBINATIONS))
def baked(request, tmp_path_factory) -> Path:
    """One bake per combination, which the checks below share: none changes what they
    read (ruff runs without a cache; migrate writes only the SQLite file)."""
    return bake(tmp_path_factory.mktemp(request.param), **COMBINATIONS[request.param])


# A Django template shown in a README (```html fenced), which uses {% %} and {{ }} itself.
DJANGO_EXAMPLE = re.compile(r"^```html\n.*?^```$", re.M | re.S)


def test_no_template_leftovers(baked):
    for path in generated_files(baked):
        text = path.read_text()
        assert "cookiecutter" not in text, path
        if path.suffix == ".md":
            text = DJANGO_EXAMPLE.sub("", text)
        if not is_django_template(path):  # Django templates use {% %} and {{ }} themselves
            assert not JINJA.search(text), path


def test_readme_pictures_are_shipped_and_only_for_included_apps(baked, request):
    """Every picture the README shows is in the project; a switched-off app has none."""
    options = COMBINATIONS[request.node.callspec.params["baked"]]
    readme = (baked / "README.md").read_text()
    referenced = set()
    for match in IMAGE.finditer(readme):
        target = match["md"] or match["html"]
        assert not re.match(r"[a-z][a-z0-9+.-]*:|/", target), f"{target} is not a relative path"
        if match["md"] is not None:
            assert match["alt"].strip(), f"{target} has no alt text"
        assert (baked / target).is_file(), f"the README shows {target}, which is not shipped"
        assert (baked / target).read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), target
        referenced.add(target)
    for app, switch in APP_SWITCHES.items():
        picture = f"docs/{app}.png"
        if options.get(switch, "y") == "y":
            assert picture in referenced, f"the README does not show {picture}"
        else:
            assert picture not in referenced, f"the README shows {picture} of a switched-off app"
            assert not (baked / picture).exists(), f"{picture} of a switched-off app is shipped"
    shipped = {path.relative_to(baked).as_posix() for path in (baked / "docs").iterdir()}
    assert shipped == referenced | {PROTOCOL}, "docs/ holds the pictures the README shows, and the protocol"


def test_ruff_passes(baked, project_python):
    ruff = project_python.parent / "ruff"
    run([str(ruff), "check", "--no-cache", "."], cwd=baked)
    run([str(ruff), "format", "--no-cache", "--check", "."], cwd=baked)


def test_django_checks_and_migrations_are_complete(baked, project_python):
    run([str(project_python), "manage.py", "check", "--fail-level", "WARNING"], cwd=baked)
    production = {**os.environ, "DEBUG": "false", "ALLOWED_HOSTS": "chat.example.com"}
    run(
        [str(project_python), "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=baked,
        env=production,
    )
    run([str(project_python), "manage.py", "makemigrations", "--check", "--dry-run"], cwd=baked)
    if "\nDATABASE_URL=postgres" not in (baked / ".env").read_text():
        # (On Postgres, the generated tests migrate a test database of their own.)
        run([str(project_python), "manage.py", "migrate", "--noinput"], cwd=baked)


def test_the_protocol_document_is_the_commands_and_valid_asyncapi(baked, project_python):
    """The hook's docs/asyncapi.json is what `manage.py asyncapi` writes for the apps kept
    (the generated tests check the same where they run), and AsyncAPI 3.0 says it is valid."""
    run([str(project_python), "manage.py", "asyncapi", "--check"], cwd=baked)
    check = str(Path(sys.executable).parent / "check-jsonschema")
    run([check, "--schemafile", str(ASYNCAPI_SCHEMA), PROTOCOL], cwd=baked)


@pytest.mark.parametrize(("combination", "pytest_args"), GENERATED_TESTS.items(), ids=GENERATED_TESTS)
def test_the_generated_tests_pass(tmp_path, project_python, request, combination, pytest_args):
    project = bake(tmp_path, **COMBINATIONS[combination])
    env = {**os.environ, **GENERATED_ENV.get(combination, {})}
    dotenv = (project / ".env").read_text()
    if "\nREDIS_URL=" in dotenv:  # never the shared Redis on 6379: a throwaway one
        env["REDIS_URL"] = request.getfixturevalue("redis_url")
    if "\nDATABASE_URL=postgres" in dotenv:
        env["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    args = [str(project_python), "-m", "pytest", *pytest_args]
    result = run(args, cwd=project, env=env, timeout=900)
    summary = re.findall(r"^=+ (.+) in [\d.]+s", result.stdout, re.MULTILINE)[-1]
    assert re.fullmatch(r"\d+ passed(, \d+ deselected)?(, \d+ warnings?)?", summary), summary


@pytest.mark.parametrize(
    ("switch", "app", "nav_label"),
    [
        ("use_chat", "chat", "Chat"),
        ("use_notifications", "notifications", "Notifications"),
        ("use_game", "game", "Games"),
    ],
)
def test_a_switched_off_app_is_gone_everywhere(tmp_path, project_python, switch, app, nav_label):
    project = bake(tmp_path, **{switch: "n"})
    assert not (project / app).exists()
    script = (
        "from config import routing; "
        "print([p.pattern for p in routing.websocket_urlpatterns], routing.channel_routes); "
        "print([p.pattern for p in routing.http_urlpatterns]); "
        "from django.test import Client; "
        "print(Client(HTTP_HOST='localhost').get('/').content.decode())"
    )
    output = run([str(project_python), "manage.py", "shell", "-c", script], cwd=project).stdout
    assert "Realtime Django" in output
    assert f"ws/{app}/" not in output
    assert f"{app}/stream/" not in output  # its Server-Sent Events route too
    assert f">{nav_label}<" not in output


def test_the_default_project_passes_its_own_make_test(default_project):
    """The whole generated suite, browsers included, exactly as a user runs it."""
    result = run(["make", "test", "PYTEST_ARGS=-v"], cwd=default_project, timeout=900)
    summary = re.findall(r"^=+ (.+) in [\d.]+s", result.stdout, re.MULTILINE)[-1]
    # Warnings are allowed (a plugin's deprecation notice); skips and failures are not.
    assert re.fullmatch(r"\d+ passed(, \d+ warnings?)?", summary), summary
    assert "skipped" not in summary and "failed" not in summary
    e2e = "chat/tests/test_e2e.py::test_a_dropped_browser_gets_every_missed_message_once"
    assert f"{e2e}[chromium] PASSED" in result.stdout


POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/realtime_template"
)


def unavailable(message: str):
    """Fail under CI (a missing service must not pass silently), skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A throwaway redis-server on a free port (the shared one on 6379 is left alone)."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("redis") / "redis.log"
    server = subprocess.Popen(  # noqa: S603
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="session")
def postgres_url(project_python, default_project):
    probe = (
        "import environ, psycopg; c = environ.Env.db_url_config({url!r}); "
        "psycopg.connect(dbname='postgres', user=c['USER'], host=c['HOST'], port=c['PORT'] or None)"
    ).format(url=POSTGRES_URL)
    result = subprocess.run(  # noqa: S603
        [str(project_python), "-c", probe], cwd=default_project, capture_output=True, text=True
    )
    if result.returncode != 0:
        unavailable(f"no Postgres at {POSTGRES_URL}: {result.stderr.strip()[-300:]}")
    return POSTGRES_URL


def test_production_files_validate(default_project):
    """No Docker engine here: the files are checked against their schemas and linters."""
    bin_dir = Path(sys.executable).parent  # the template's venv: check-jsonschema, hadolint
    check = [str(bin_dir / "check-jsonschema"), "--builtin-schema"]
    run([*check, "vendor.compose-spec", "compose.yaml"], cwd=default_project)
    run([*check, "vendor.github-workflows", ".github/workflows/ci.yml"], cwd=default_project)
    run([str(bin_dir / "hadolint"), "Dockerfile"], cwd=default_project)
    procfile = (default_project / "Procfile").read_text()
    assert (
        "web: python manage.py collectstatic --noinput && "
        "exec daphne --proxy-headers --bind 0.0.0.0 --port $PORT"
    ) in procfile
    assert (
        "worker: python manage.py deliver_announcements && "
        "python manage.py runworker notifications-fanout"
    ) in procfile
    assert "release: python manage.py migrate --noinput" in procfile


def test_make_run_serves_pages_and_static_files_with_debug_off(default_project, tmp_path):
    """`make run` on a production-like environment: DEBUG off, nothing collected yet."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DEBUG": "false",
        "HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    log = (tmp_path / "run.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        ["make", "run", f"PORT={port}"],  # noqa: S607
        cwd=default_project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # make and the daphne it starts, stopped together
    )
    try:
        base = f"http://127.0.0.1:{port}"
        page = fetch_when_up(base + "/", server, tmp_path / "run.log")
        stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', page)
        assert stylesheets, page[:2000]
        for stylesheet in stylesheets:
            with urllib.request.urlopen(base + stylesheet, timeout=30) as response:  # noqa: S310
                assert response.status == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def fetch_when_up(url: str, server: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"make run exited:\n{log.read_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
                return response.read().decode()
        except urllib.error.HTTPError as error:
            pytest.fail(f"{url}: {error.code}\n{log.read_text()[-3000:]}", pytrace=False)
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"nothing served {url}:\n{log.read_text()}", pytrace=False)


# The fixed subset `make mutate` runs here (the whole set takes hours): the envelope,
# against its own tests. The floor is below the kills measured (README, "Tests").
MUTATE_SUBSET = ("realtime/envelope.py", "realtime/tests/test_envelope.py", 110)


def test_make_mutate_runs_and_kills_mutants(default_project, tmp_path):
    """`make mutate` on one small module: mutmut still mutates this project, its tests still
    kill the mutants, and the mutants/ copy it leaves is ignored by ruff and pytest."""
    module, tests, floor = MUTATE_SUBSET
    project = tmp_path / "project"
    shutil.copytree(default_project, project, ignore=shutil.ignore_patterns(".venv", "mutants"))
    (project / ".venv").symlink_to(default_project / ".venv")
    pyproject = project / "pyproject.toml"
    config = pyproject.read_text()
    config, found = re.subn(r"(?ms)^only_mutate = \[.*?\]$", f'only_mutate = ["{module}"]', config)
    assert found == 1, "no only_mutate list in [tool.mutmut]"
    pyproject.write_text(config + f'pytest_add_cli_args_test_selection = ["{tests}"]\n')
    # -o install: the copy's newer pyproject.toml must not reinstall the shared .venv.
    result = run(["make", "-o", "install", "mutate"], cwd=project, timeout=600)
    row = re.search(r"^realtime\.envelope +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) ", result.stdout, re.M)
    assert row, result.stdout[-3000:]
    killed, _timeout, _survived, _no_tests, not_run = map(int, row.groups())
    assert killed >= floor, result.stdout[-3000:]
    assert not_run == 0
    assert (project / "mutants" / module).exists()
    python = str(project / ".venv" / "bin" / "python")
    run([python, "-m", "ruff", "check", "."], cwd=project)
    collected = run([python, "-m", "pytest", "--collect-only", "-q"], cwd=project)
    assert "mutants/" not in collected.stdout


@pytest.mark.parametrize(
    ("options", "absent"),
    [
        (
            {"use_docker": "n"},
            ["Dockerfile", "compose.yaml", ".dockerignore", "deploy/test_docker_start.py"],
        ),
        ({"ci": "none"}, [".github"]),
    ],
)
def test_switched_off_production_files_are_not_generated(tmp_path, options, absent):
    project = bake(tmp_path, **options)
    for name in absent:
        assert not (project / name).exists()


def test_replay_regenerates_the_same_choices(tmp_path):
    """`cookiecutter --replay` works (the replay file is written by any bake)."""
    home = tmp_path / "home"
    config = tmp_path / "config.yaml"
    config.write_text(f"replay_dir: {home}\ncookiecutters_dir: {tmp_path / 'cc'}\n")
    cli = str(Path(sys.executable).parent / "cookiecutter")
    first = tmp_path / "first"
    run([cli, "--no-input", "--config-file", str(config), "-o", str(first), str(TEMPLATE),
         "database=postgresql", "use_game=n"], cwd=tmp_path)
    second = tmp_path / "second"
    run([cli, "--replay", "--config-file", str(config), "-o", str(second), str(TEMPLATE)], cwd=tmp_path)
    replayed = second / "realtime_django"
    assert not (replayed / "game").exists()
    assert "\nDATABASE_URL=postgres" in (replayed / ".env.example").read_text()
