from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("accounts/", include("accounts.urls")),
    # /chat/, /notifications/, /game/: each example app's own urls.py.
    *(path(f"{app}/", include(f"{app}.urls")) for app in settings.EXAMPLE_APPS),
    path("admin/", admin.site.urls),
]
