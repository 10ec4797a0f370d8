from django.conf import settings
from django.db import models


class AccessToken(models.Model):
    """A personal access token: how a program without a browser (a bot, a mobile app)
    signs in to the WebSockets as its user (accounts/tokens.py).

    Only the SHA-256 of the token is stored: the token is shown once, when it is
    created, and a copy of the database lets nobody use it. Revoking deletes the row.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"
