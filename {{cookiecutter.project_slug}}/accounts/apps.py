from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Log in, log out, sign up, and the one-click guest login."""

    name = "accounts"
