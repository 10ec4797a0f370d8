"""Finish the generated project: drop switched-off apps, write .env, say what to run next."""

import json
import os
import secrets
import shlex
import shutil
from pathlib import Path

PROJECT = Path.cwd()
APPS = {
    "chat": "{{ cookiecutter.use_chat }}",
    "notifications": "{{ cookiecutter.use_notifications }}",
    "game": "{{ cookiecutter.use_game }}",
}


def remove_switched_off_apps() -> None:
    """Remove each switched-off app's folder and its README picture (docs/<app>.png)."""
    for app, switch in APPS.items():
        if switch != "y":
            shutil.rmtree(PROJECT / app)
            (PROJECT / "docs" / f"{app}.png").unlink(missing_ok=True)


def write_protocol_document() -> None:
    """docs/asyncapi.json for the apps kept, as `manage.py asyncapi` writes it.

    The template ships the document of every app; each app's channels, operations and
    schemas are keyed "<app>.…", so removing an app is removing its keys. (This hook
    cannot run the command: the project's packages are not installed yet.) The
    project's tests check the result equals the command's output.
    """
    path = PROJECT / "docs" / "asyncapi.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["info"]["title"] = "{{ cookiecutter.project_name }} WebSocket protocol"
    off = tuple(f"{app}." for app, switch in APPS.items() if switch != "y")
    for section in (document["channels"], document["operations"], document["components"]["schemas"]):
        for key in [key for key in section if key.startswith(off)]:
            del section[key]
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def remove_switched_off_files() -> None:
    if "{{ cookiecutter.use_docker }}" != "y":
        docker_files = ("Dockerfile", "compose.yaml", ".dockerignore", "deploy/test_docker_start.py")
        for name in docker_files:
            (PROJECT / name).unlink()
    if "{{ cookiecutter.ci }}" != "github":
        shutil.rmtree(PROJECT / ".github")


def write_dotenv() -> None:
    """Copy .env.example to .env with a fresh SECRET_KEY (the .env file is git-ignored)."""
    example = (PROJECT / ".env.example").read_text()
    key = secrets.token_urlsafe(50)
    lines = [f"SECRET_KEY={key}" if line.startswith("SECRET_KEY=") else line for line in example.splitlines()]
    (PROJECT / ".env").write_text("\n".join(lines) + "\n")


def shown_path() -> str:
    """The project's folder as the person who ran cookiecutter reaches it with `cd`.

    Hooks run inside the new project; $PWD is still the shell's folder. The path is
    relative when the project is below it (`.demo/realtime_django` in the template's
    `make demo`), else absolute.
    """
    here = os.environ.get("PWD")
    if here and Path(here).is_dir():
        relative = os.path.relpath(PROJECT, Path(here).resolve())
        if not relative.startswith(".."):
            return relative
    return str(PROJECT)


def next_steps() -> str:
    """The commands to run first, for the options chosen (the README's top says the same)."""
    path = shlex.quote(shown_path())
    notifications = "{{ cookiecutter.use_notifications }}" == "y"
    redis = "{{ cookiecutter.channel_layer }}" != "in-memory-dev-redis-prod"
    steps = []  # (command, why)
    if "{{ cookiecutter.database }}" == "postgresql":
        createdb = "createdb -h 127.0.0.1 -U postgres {{ cookiecutter.project_slug }}"
        steps.append((createdb, "the database in .env's DATABASE_URL"))
    if redis:
        steps.append((f"cd {path} && make redis", "in its own terminal: Redis for .env's REDIS_URL"))
        if notifications:
            steps.append((f"cd {path} && make worker", "in its own terminal: sends announcements"))
    steps.append((f"cd {path} && make run", "install, migrate, serve at http://127.0.0.1:8000"))
    steps.append((f"cd {path} && make test", "unit, consumer and browser tests"))
    width = max(len(command) for command, _ in steps)
    lines = ["", "Your project is ready. Next:"]
    lines += [f"  {command.ljust(width)}   # {why}" for command, why in steps]
    if notifications and not redis:
        lines.append("Once you set REDIS_URL, announcements also need `make worker` running.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    remove_switched_off_apps()
    write_protocol_document()
    remove_switched_off_files()
    write_dotenv()
    print(next_steps())
