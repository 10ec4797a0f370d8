"""Prometheus metrics of this server process, and the view that exposes them to operators.

Each daphne process counts its own sockets and frames (prometheus_client's
default registry is per process), so Prometheus scrapes every process on its own
port, as separate targets (README, "Monitoring"). prometheus_client's
multiprocess mode is for workers forked by one parent (gunicorn); daphne
processes are started independently, often on other machines, and a gauge of
open sockets from a dead process would linger in its files.

The instrumentation lives in three places only: RealtimeConsumer (sockets, frames,
error frames), EventStreamConsumer (streams, frames) and the hub (queue delay). Apps
add nothing.
"""

import hmac
import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .models import Presence

logger = logging.getLogger("realtime")

# Labels: `app` is the consumer's Django app (chat, notifications, game...), `consumer`
# its class. Both come from code, never from a client, so the label sets stay small.
SOCKETS_OPEN = Gauge(
    "realtime_sockets_open",
    "WebSocket connections accepted and not yet closed.",
    ["app", "consumer"],
)
STREAMS_OPEN = Gauge(
    "realtime_streams_open",
    "Server-Sent Event streams (the fallback of a tab whose WebSocket cannot connect) "
    "started and not yet ended.",
    ["app", "consumer"],
)
FRAMES_RECEIVED = Counter(
    "realtime_frames_received", "Frames received from browsers, refused ones included.", ["app"]
)
FRAMES_SENT = Counter(
    "realtime_frames_sent",
    "Frames sent to browsers, on sockets and streams: replies and group broadcasts.",
    ["app"],
)
# Every refusal is an error frame with a code (the README lists them); a rate-limited
# frame is one with code="rate_limited".
ERROR_FRAMES = Counter(
    "realtime_error_frames", "Error frames sent to browsers, by error code.", ["app", "code"]
)
HUB_QUEUE_DELAY = Histogram(
    "realtime_hub_queue_delay_seconds",
    "Time from a group message's arrival at this process's hub to its delivery pass.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def app_label(consumer: object) -> str:
    """The Django app a consumer class belongs to: the first part of its module."""
    return type(consumer).__module__.split(".", 1)[0]


class PresenceCollector(Collector):
    """Presence rows in the database, read at scrape time (one COUNT query).

    Shared by every process: each reports the same number. Expired rows are
    those of killed processes, waiting for a live one to purge them.
    """

    def describe(self):  # pragma: no mutate block (runs at import: REGISTRY.register)
        # Without it, registering the collector would call collect(): a query at import.
        yield GaugeMetricFamily("realtime_presence_rows", "", labels=["state"])

    def collect(self):
        cutoff = timezone.now() - timedelta(seconds=settings.REALTIME["PRESENCE_TTL_SECONDS"])
        try:
            rows = Presence.objects.aggregate(
                fresh=Count("id", filter=Q(last_seen__gte=cutoff)),
                expired=Count("id", filter=Q(last_seen__lt=cutoff)),
            )
        except DatabaseError as error:  # the other metrics are still worth a scrape
            logger.warning("metrics: presence rows not counted: %s", error)
            return
        family = GaugeMetricFamily(
            "realtime_presence_rows", "Presence rows in the database.", labels=["state"]
        )
        for state in ("fresh", "expired"):
            family.add_metric([state], rows[state])
        yield family


REGISTRY.register(PresenceCollector())


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics, for a scraper holding METRICS_TOKEN (Authorization: Bearer ...).

    Without METRICS_TOKEN the page does not exist (404). A token rather than a
    staff session: Prometheus cannot sign in, and a token in its scrape config
    is how it authenticates everywhere else.
    """
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not hmac.compare_digest(sent.encode(), token.encode()):
        response = HttpResponse("A valid bearer token is required.\n", status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
