from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Per-user live notifications: stored, then pushed to every open tab of that user."""

    name = "notifications"
    nav_label = "Notifications"
    nav_url = "notifications:list"
    nav_description = (
        "Notifications sent from views, signals, commands and the admin, with a live "
        "unread badge and toasts on every page, in sync across tabs."
    )
    # Loaded on every page (base.html): the unread badge and the toasts.
    page_script = "notifications/notifications.js"
    page_stylesheet = "notifications/notifications.css"

    def ready(self):
        from realtime.signals import notify_user

        from .receivers import notify_from_signal

        notify_user.connect(notify_from_signal, dispatch_uid="notifications.notify_user")
