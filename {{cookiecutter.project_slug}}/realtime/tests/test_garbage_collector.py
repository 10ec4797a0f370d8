"""The server process's garbage collector settings (config/asgi.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def test_the_server_process_collects_rarely_and_never_scans_what_it_loaded():
    """Full passes over every object stopped every socket for 80 to 190 ms every few
    seconds under load (`make bench`). Run in a process of its own: the ASGI module
    as daphne imports it, and nothing this test process has done."""
    script = (
        "import gc, json, config.asgi; "
        "print(json.dumps([gc.get_threshold(), gc.get_freeze_count()]))"
    )
    env = {**os.environ, "SECRET_KEY": "test-only", "DEBUG": "true"}
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    threshold, frozen = json.loads(done.stdout.splitlines()[-1])
    assert threshold == [50_000, 10, 10]
    assert frozen > 10_000  # Django, the apps and their libraries, out of every pass
