"""Finish the generated project: drop switched-off apps, write .env, say what to run next."""

import secrets
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
    docs = PROJECT / "docs"
    for app, switch in APPS.items():
        if switch != "y":
            shutil.rmtree(PROJECT / app)
            (docs / f"{app}.png").unlink(missing_ok=True)
    if docs.is_dir() and not any(docs.iterdir()):
        docs.rmdir()


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


if __name__ == "__main__":
    remove_switched_off_apps()
    remove_switched_off_files()
    write_dotenv()
    print(
        "\nYour project is ready. Next:\n"
        f"  cd {PROJECT.name} && make run    # install, migrate, serve at http://127.0.0.1:8000\n"
        f"  cd {PROJECT.name} && make test   # unit, consumer and browser tests\n"
    )
