"""What config/settings.py makes of REDIS_URL and CHANNEL_LAYER_REDIS_URLS (read at start-up,
so each case loads the settings in a process of its own)."""

import json
import os
import subprocess
import sys

from django.conf import settings

READ = """
import json
from django.conf import settings
print(json.dumps({
    "layer": [host["address"] for host in settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]],
    "cache": settings.CACHES["default"]["LOCATION"],
    "budgets": settings.REALTIME["USER_RATE_LIMIT_STORAGE"],
}))
"""


def load_settings(**variables: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "CHANNEL_LAYER_REDIS_URLS"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **variables)
    return subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", f"import django; django.setup()\n{READ}"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


def test_the_channel_layer_shards_over_every_url_in_order_and_the_rest_stays_on_redis_url():
    shards = "redis://one:6379/0,redis://two:6380/0,redis://three:6381/0"
    loaded = load_settings(REDIS_URL="redis://one:6379/0", CHANNEL_LAYER_REDIS_URLS=shards)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout) == {
        "layer": shards.split(","),  # the same order in every process: the hash depends on it
        "cache": "redis://one:6379/0",
        "budgets": "async+redis://one:6379/0",
    }


def test_without_shards_the_layer_is_on_redis_url():
    loaded = load_settings(REDIS_URL="redis://one:6379/0")
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout)["layer"] == ["redis://one:6379/0"]


def test_a_list_in_redis_url_is_refused():
    """Django's RedisCache would take the second URL for a read replica."""
    loaded = load_settings(REDIS_URL="redis://one:6379/0,redis://two:6379/0")
    assert loaded.returncode != 0
    assert "CHANNEL_LAYER_REDIS_URLS" in loaded.stderr


def test_shards_without_redis_url_are_refused():
    loaded = load_settings(REDIS_URL="", CHANNEL_LAYER_REDIS_URLS="redis://one:6379/0")
    assert loaded.returncode != 0
    assert "needs REDIS_URL" in loaded.stderr
