"""The Procfile starts a working site as written (DEBUG off, a fresh copy of the project)."""

from realtime.testing.servers import free_port
from realtime.testing.starts import (
    assert_pages_and_static_files_are_served,
    bare_environment,
    fetch,
    fresh_copy,
    run_start,
    stop,
)


def procfile_commands(app_dir) -> dict[str, str]:
    lines = (app_dir / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_the_procfile_starts_a_working_site(tmp_path):
    """As a Heroku-style platform runs it: `release`, then `web` with $PORT and config vars."""
    app_dir = fresh_copy(tmp_path / "app")
    processes = procfile_commands(app_dir)
    port = free_port()
    env = {
        **bare_environment(app_dir),
        "PORT": str(port),
        "SECRET_KEY": "a-production-start-test-key",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{app_dir / 'db.sqlite3'}",
    }
    server = run_start([processes["release"], processes["web"]], env, app_dir, port)
    try:
        # The platform's router terminates TLS and says so; HTTPS stays on (the default).
        proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
        assert_pages_and_static_files_are_served(f"http://127.0.0.1:{port}", proxy)
        # A load balancer's probe: plain http straight to daphne, no proxy headers, no
        # cookie. It gets the answer, not the redirect to https that pages get.
        status, body = fetch(f"http://127.0.0.1:{port}/health/", {})
        assert (status, body.count(b": OK")) == (200, 2), body
    finally:
        stop(server)
