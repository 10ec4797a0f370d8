"""The nginx site file proxies WebSockets correctly (read as text: no nginx needed)."""

import re
from pathlib import Path

CONF = (Path(__file__).parent / "nginx.conf").read_text()
LOCATION = re.search(r"location / \{(.*?)\n    \}", CONF, re.DOTALL).group(1)


def directive(name: str) -> list[str]:
    return [" ".join(m.split()) for m in re.findall(rf"^\s*{name}\s+([^;]+);", LOCATION, re.M)]


def test_upgrade_headers_are_passed_on_over_http_1_1():
    assert directive("proxy_http_version") == ["1.1"]
    headers = dict(value.split(" ", 1) for value in directive("proxy_set_header"))
    assert headers["Upgrade"] == "$http_upgrade"
    assert headers["Connection"] == "$connection_upgrade"
    assert re.search(r"map \$http_upgrade \$connection_upgrade \{\s*default upgrade;", CONF)


def test_forwarded_headers_let_daphne_see_the_client():
    headers = dict(value.split(" ", 1) for value in directive("proxy_set_header"))
    assert headers["Host"] == "$host"
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"


def test_a_client_that_stops_reading_is_cut_off():
    (value,) = directive("send_timeout")
    assert int(value.removesuffix("s")) <= 60  # bounds daphne's unbounded output queue


def test_timeouts_outlast_the_daphne_ping_interval():
    daphne_ping_seconds = 20
    for name in ("proxy_read_timeout", "proxy_send_timeout"):
        (value,) = directive(name)
        assert int(value.removesuffix("s")) > daphne_ping_seconds


def test_metrics_are_not_served_to_the_public():
    assert re.search(r"location = /metrics/ \{\s*return 404;\s*\}", CONF)


def test_a_failing_daphne_process_is_left_out_and_health_is_proxied():
    upstream = re.search(r"upstream \S+ \{(.*?)\n\}", CONF, re.DOTALL).group(1)
    servers = re.findall(r"^\s*server\s+([^;]+);", upstream, re.M)
    assert len(servers) >= 2
    assert all("max_fails=" in server and "fail_timeout=" in server for server in servers)
    health = re.search(r"location = /health/ \{(.*?)\n    \}", CONF, re.DOTALL).group(1)
    assert "proxy_pass http://" in health
