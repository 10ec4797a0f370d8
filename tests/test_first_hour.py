"""What a person sees in the first hour: the next steps printed after generation and at
the top of the README, `make demo`, a busy port, a missing database, the ways to run
cookiecutter that the README documents."""

import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from baking import TEMPLATE, cookiecutter_cli

PYTHON_VENV = Path(sys.executable).parent.parent


def readme_top(project: Path) -> str:
    """The generated README above its first section: what to do before the first run."""
    return (project / "README.md").read_text().split("\n## ", 1)[0]


def database_name(project: Path) -> str:
    url = next(
        line
        for line in (project / ".env").read_text().splitlines()
        if line.startswith("DATABASE_URL=")
    )
    return url.rsplit("/", 1)[1]


@pytest.fixture
def busy_port():
    """A port something listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_default_next_steps_are_run_and_test_and_the_worker_note(tmp_path):
    result = cookiecutter_cli(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "cd realtime_django && make run" in result.stdout
    assert "createdb" not in result.stdout and "make redis" not in result.stdout
    assert "Once you set REDIS_URL, announcements also need `make worker` running." in result.stdout
    top = readme_top(tmp_path / "realtime_django")
    assert "createdb" not in top and "make redis" not in top
    assert "Once you set `REDIS_URL`, announcements also need `make worker`" in top


def test_postgres_and_redis_next_steps_name_the_database_redis_and_the_worker(tmp_path):
    result = cookiecutter_cli(
        tmp_path, "project_name=Acme Live!", "database=postgresql", "channel_layer=redis"
    )
    assert result.returncode == 0, result.stderr
    project = tmp_path / "acme_live"
    createdb = f"createdb -h 127.0.0.1 -U postgres {database_name(project)}"
    assert database_name(project) == "acme_live"
    steps = [
        line.split("#")[0].strip() for line in result.stdout.splitlines() if line.startswith("  ")
    ]
    assert steps == [
        createdb,
        "cd acme_live && make redis",
        "cd acme_live && make worker",
        "cd acme_live && make run",
        "cd acme_live && make test",
    ]
    top = readme_top(project)
    assert f"`{createdb}`" in top
    assert "`make redis` in its own terminal" in top
    assert "`make worker` in another terminal" in top


def test_redis_without_notifications_has_no_worker_step(tmp_path):
    result = cookiecutter_cli(tmp_path, "channel_layer=redis-pubsub", "use_notifications=n")
    assert result.returncode == 0, result.stderr
    assert "make redis" in result.stdout
    assert "worker" not in result.stdout
    top = readme_top(tmp_path / "realtime_django")
    assert "make redis" in top and "worker" not in top


def test_next_steps_cd_into_the_project_from_where_cookiecutter_ran(tmp_path):
    result = cookiecutter_cli(tmp_path, options=("--no-input", "--output-dir", ".demo"))
    assert result.returncode == 0, result.stderr
    assert "cd .demo/realtime_django && make run" in result.stdout


def test_make_demo_says_where_the_demo_project_is():
    """The template's `make demo` up to the point where it serves (its last step, the
    generated project's `make demo`, is replaced by `true`)."""
    demo_dir = f".demo/test-{uuid.uuid4().hex[:8]}"
    try:
        result = subprocess.run(  # noqa: S603
            [
                "make",
                "-o",
                f"{PYTHON_VENV}/.installed",
                "demo",
                f"VENV={PYTHON_VENV}",
                f"DEMO_DIR={demo_dir}",
                "MAKE=true",
            ],
            cwd=TEMPLATE,
            env={**os.environ, "PWD": str(TEMPLATE)},
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        shutil.rmtree(TEMPLATE / demo_dir, ignore_errors=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"cd {demo_dir}/realtime_django && make run" in result.stdout


def make_refuses(args: list[str], cwd: Path) -> list[str]:
    """Run `make -s *args`, which must fail; return what it said besides make's own lines."""
    result = subprocess.run(  # noqa: S603
        ["make", "-s", *args],  # noqa: S607
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    return [line for line in result.stderr.splitlines() if not line.startswith("make")]


def test_make_demo_on_a_busy_port_fails_at_once_in_one_line(tmp_path, busy_port):
    args = ["demo", f"PORT={busy_port}", f"VENV={tmp_path / 'venv'}"]
    said = make_refuses([*args, f"DEMO_DIR={tmp_path / 'demo'}"], cwd=TEMPLATE)
    assert said == [
        f"Port {busy_port} is in use: stop what runs there, or pick another port: make demo PORT=8001"
    ]
    assert not (tmp_path / "venv").exists() and not (tmp_path / "demo").exists(), (
        "nothing set up first"
    )


@pytest.mark.parametrize("target", ["run", "demo"])
def test_the_projects_make_run_on_a_busy_port_fails_before_installing(tmp_path, busy_port, target):
    assert cookiecutter_cli(tmp_path).returncode == 0
    project = tmp_path / "realtime_django"
    said = make_refuses([target, f"PORT={busy_port}"], cwd=project)
    assert said == [
        f"Port {busy_port} is in use: stop what runs there, or pick another port: make {target} PORT=8001"
    ]
    assert not (project / ".venv").exists()


def test_make_migrate_without_the_database_says_what_to_do_in_one_line(tmp_path, project_python):
    """Postgres not running (nothing listens on the port): one line with the createdb
    command, not the driver's traceback. `make -o install` uses the installed stack."""
    assert cookiecutter_cli(tmp_path, "database=postgresql").returncode == 0
    project = tmp_path / "realtime_django"
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = subprocess.run(  # noqa: S603
        ["make", "-s", "-o", "install", "migrate", f"PY={project_python}"],  # noqa: S607
        cwd=project,
        env={**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/realtime_django"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    said = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert len(said) == 1, result.stderr
    assert said[0].startswith("CommandError: Cannot open the database in DATABASE_URL:")
    assert f"createdb -h 127.0.0.1 -p {port} -U postgres realtime_django" in said[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_a_git_url_at_a_tag_with_checkout(tmp_path):
    """`cookiecutter --checkout TAG GIT_URL`, as the README shows: a copy of this template
    in a git repository, tagged, then changed after the tag."""
    repo = tmp_path / "repo"
    shutil.copytree(
        TEMPLATE,
        repo,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", ".demo", ".bench", ".build", "__pycache__", "*_cache"
        ),
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(repo)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "template"], ["tag", "v-test"]):
        subprocess.run([*git, *args], check=True, capture_output=True)  # noqa: S603
    config = repo / "cookiecutter.json"
    config.write_text(config.read_text().replace('"Realtime Django"', '"Changed After The Tag"'))
    subprocess.run([*git, "commit", "-qam", "after the tag"], check=True, capture_output=True)  # noqa: S603
    home = tmp_path / "home"
    home.mkdir()
    result = cookiecutter_cli(
        tmp_path,
        options=("--no-input", "--checkout", "v-test"),
        template=f"file://{repo}",
        HOME=str(home),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "realtime_django" / "manage.py").is_file()
    assert (home / ".cookiecutters" / "repo").is_dir(), "cloned where the README says"


def test_no_input_with_answers_then_replay_gives_the_same_project(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    first = cookiecutter_cli(
        tmp_path, "project_name=Acme Live", "database=postgresql", HOME=str(home)
    )
    assert first.returncode == 0, first.stderr
    replays = list((home / ".cookiecutter_replay").glob("*.json"))
    assert len(replays) == 1, "the answers file the README names"
    again = cookiecutter_cli(tmp_path, options=("--replay", "-o", "again"), HOME=str(home))
    assert again.returncode == 0, again.stdout + again.stderr
    env = (tmp_path / "again" / "acme_live" / ".env").read_text()
    assert re.search(r"^DATABASE_URL=postgres://postgres@127.0.0.1:5432/acme_live$", env, re.M)
    assert "cd again/acme_live && make run" in again.stdout


def test_make_demo_users_creates_alice_bob_and_the_staff_user_admin(tmp_path, project_python):
    """What `make demo` signs people in with, as both READMEs list it."""
    assert cookiecutter_cli(tmp_path).returncode == 0
    project = tmp_path / "realtime_django"
    result = subprocess.run(  # noqa: S603
        ["make", "-s", "-o", "install", "demo-users", f"PY={project_python}"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "staff user admin" in result.stdout
    accounts = subprocess.run(  # noqa: S603
        [
            str(project_python),
            "manage.py",
            "shell",
            "-v",
            "0",
            "-c",
            "from django.contrib.auth.models import User\n"
            "for u in User.objects.order_by('username'):\n"
            "    print(u.username, u.is_staff, u.check_password('demo-password'))",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    assert accounts.stdout.split("\n")[:3] == [
        "admin True True",
        "alice False True",
        "bob False True",
    ]
