from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from realtime.health import HealthView
from realtime.metrics import metrics_view

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("accounts/", include("accounts.urls")),
    # /chat/, /notifications/, /game/: each example app's own urls.py.
    *(path(f"{app}/", include(f"{app}.urls")) for app in settings.EXAMPLE_APPS),
    path("admin/", admin.site.urls),
    # For operators' machines, not people (README, "Monitoring"): load balancers and
    # container probes read /health/, Prometheus reads /metrics/ of each process.
    path("health/", HealthView.as_view(), name="health"),
    path("metrics/", metrics_view, name="metrics"),
]
