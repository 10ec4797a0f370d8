"""`manage.py check_database`, which `make run` calls before migrating."""

import os
import socket
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def check_database(database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-only", "DEBUG": "true"}
    return subprocess.run(
        [sys.executable, "manage.py", "check_database"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_postgres_not_running_is_one_line_with_the_createdb_command():
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = check_database(f"postgres://postgres@127.0.0.1:{port}/shop")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("CommandError: Cannot open the database in DATABASE_URL: ")
    assert f"(createdb -h 127.0.0.1 -p {port} -U postgres shop)?" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_reachable_database_passes(tmp_path):
    result = check_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert result.returncode == 0, result.stderr
    assert "is reachable" in result.stdout
