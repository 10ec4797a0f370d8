from django.apps import apps
from django.conf import settings


def site(request):
    """The project name and one navigation entry per installed example app.

    An app appears in the navigation when its AppConfig defines `nav_label`
    and `nav_url`; removing the app removes its entry, with no template edit.
    """
    nav = [config for config in apps.get_app_configs() if getattr(config, "nav_label", None)]
    return {"project_name": settings.PROJECT_NAME, "example_apps": nav}
