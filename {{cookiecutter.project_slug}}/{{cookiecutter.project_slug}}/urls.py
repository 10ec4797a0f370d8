from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("accounts/", include("accounts.urls")),
{%- if cookiecutter.use_chat == "y" %}
    path("chat/", include("chat.urls")),
{%- endif %}
{%- if cookiecutter.use_notifications == "y" %}
    path("notifications/", include("notifications.urls")),
{%- endif %}
{%- if cookiecutter.use_game == "y" %}
    path("game/", include("game.urls")),
{%- endif %}
    path("admin/", admin.site.urls),
]
