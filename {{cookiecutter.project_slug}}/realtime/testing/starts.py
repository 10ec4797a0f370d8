"""Start the project the documented production ways, for deploy/test_*_start.py.

A fresh copy of the project (no .env, no collected static files, no database),
the documented commands run in it by a shell with only the environment the
platform would give, and checks that pages and their static files are served.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

from .servers import wait_for_port

PROJECT = Path(settings.BASE_DIR)
NOT_IN_A_FRESH_BAKE = shutil.ignore_patterns(
    ".venv", ".env", "staticfiles", "db.sqlite3*", "__pycache__", ".*_cache", ".hypothesis", ".git"
)


def fresh_copy(target: Path) -> Path:
    """The project as a fresh bake (or a Docker build context) has it."""
    shutil.copytree(PROJECT, target, ignore=NOT_IN_A_FRESH_BAKE)
    return target


def bare_environment(home: Path) -> dict[str, str]:
    """No project settings from this machine: only what the start itself provides."""
    path = os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])
    return {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8"}


def run_start(commands: list[str], env: dict[str, str], cwd: Path, port: int):
    """Run each command but the last to completion, then the last one as the server."""
    for command in commands[:-1]:
        done = subprocess.run(  # noqa: S603
            ["/bin/sh", "-c", command], cwd=cwd, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise AssertionError(f"`{command}` failed:\n{done.stdout}{done.stderr}")
    log = (cwd / "server.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        ["/bin/sh", "-c", commands[-1]],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the shell and the daphne it starts, stopped together
    )
    try:
        wait_for_port(port, timeout=90, process=server)
    except (RuntimeError, TimeoutError):
        stop(server)
        raise RuntimeError(
            f"the server did not start:\n{(cwd / 'server.log').read_text()}"
        ) from None
    return server


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own server
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def assert_pages_and_static_files_are_served(base_url: str, headers: dict[str, str]) -> None:
    for path in ("/", "/accounts/login/"):
        status, body = fetch(base_url + path, headers)
        if status != 200:
            raise AssertionError(f"{path}: {status}\n{body[:2000].decode(errors='replace')}")
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', body.decode())
        if not any(re.search(r"\.[0-9a-f]{12}\.css$", asset) for asset in assets):
            raise AssertionError(f"{path} links no collected (hashed) stylesheet: {assets}")
        for asset in assets:
            status, content = fetch(base_url + asset, headers)
            if status != 200 or not content:
                raise AssertionError(f"{asset} from {path}: {status}")
