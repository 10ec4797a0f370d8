"""The Dockerfile and compose.yaml start a working site as written (no Docker engine needed).

The image's build steps after its source COPY run in a fresh copy of the project,
then compose's web command with compose's environment (its Postgres and Redis
swapped for a SQLite file and the in-memory layer: no containers here), then
compose's and the image's health checks.
"""

import json
import re
import shlex
import subprocess

import yaml

from realtime.testing.servers import free_port
from realtime.testing.starts import (
    PROJECT,
    assert_pages_and_static_files_are_served,
    bare_environment,
    fresh_copy,
    run_start,
    stop,
)

CONTAINER_PORT = "8000"


def dockerfile_lines(dockerfile: str) -> list[str]:
    return dockerfile.replace("\\\n", " ").splitlines()


def image_healthcheck(dockerfile: str) -> tuple[list[str], list[str]]:
    """(the HEALTHCHECK's options, its CMD as a list)."""
    (line,) = [line for line in dockerfile_lines(dockerfile) if line.startswith("HEALTHCHECK ")]
    options, command = line.removeprefix("HEALTHCHECK ").split(" CMD ", 1)
    return options.split(), json.loads(command)


def build_steps(dockerfile: str) -> tuple[list[str], list[str]]:
    """(RUN commands after the last COPY, the CMD as a list)."""
    lines = dockerfile_lines(dockerfile)
    last_copy = max(n for n, line in enumerate(lines) if line.startswith("COPY "))
    runs = [line.removeprefix("RUN ") for line in lines[last_copy:] if line.startswith("RUN ")]
    (cmd,) = [json.loads(line.removeprefix("CMD ")) for line in lines if line.startswith("CMD ")]
    return runs, cmd


def test_the_image_and_compose_web_service_serve_a_working_site(tmp_path):
    app_dir = fresh_copy(tmp_path / "app")
    runs, cmd = build_steps((PROJECT / "Dockerfile").read_text())
    assert any("collectstatic" in run for run in runs)
    assert cmd[0] == "daphne" and CONTAINER_PORT in cmd
    web = yaml.safe_load((PROJECT / "compose.yaml").read_text())["services"]["web"]
    port = str(free_port())

    environment = {**web["environment"], "SECRET_KEY": "a-production-start-test-key"}
    environment["DATABASE_URL"] = f"sqlite:///{app_dir / 'db.sqlite3'}"
    environment.pop("REDIS_URL")
    environment.pop("REDIS_CHANNEL_LAYER", None)
    written = web["command"] if isinstance(web["command"], str) else shlex.join(web["command"])
    command = re.sub(rf"--port {CONTAINER_PORT}\b", f"--port {port}", written)
    assert command != written

    build_env = bare_environment(app_dir)
    for run in runs:
        done = subprocess.run(  # noqa: S603
            ["/bin/sh", "-c", run], cwd=app_dir, env=build_env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"RUN {run}:\n{done.stdout}{done.stderr}"
    server = run_start([command], {**build_env, **environment}, app_dir, int(port))
    try:
        assert_pages_and_static_files_are_served(f"http://127.0.0.1:{port}", {})
        _, image_check = image_healthcheck((PROJECT / "Dockerfile").read_text())
        for check in (web["healthcheck"]["test"][1:], image_check):
            assert f"127.0.0.1:{CONTAINER_PORT}/health/" in " ".join(check)
            check = [part.replace(f":{CONTAINER_PORT}/", f":{port}/") for part in check]
            assert subprocess.run(check, cwd=app_dir, env=build_env).returncode == 0  # noqa: S603
    finally:
        stop(server)


def test_only_the_web_service_runs_the_images_health_check():
    """The image's HEALTHCHECK asks the web server: a service that runs none (the worker)
    must switch it off, or Docker marks it unhealthy for ever."""
    options, _ = image_healthcheck((PROJECT / "Dockerfile").read_text())
    assert any(option.startswith("--start-period=") for option in options)  # migrations first
    services = yaml.safe_load((PROJECT / "compose.yaml").read_text())["services"]
    for name, service in services.items():
        if "build" not in service:
            assert "test" in service["healthcheck"], name  # redis and postgres: their own
        elif "daphne" in str(service["command"]):
            assert "/health/" in " ".join(service["healthcheck"]["test"]), name
        else:
            assert service["healthcheck"] == {"disable": True}, name
