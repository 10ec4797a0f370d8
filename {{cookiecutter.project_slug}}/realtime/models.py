from django.conf import settings
from django.db import models


class Presence(models.Model):
    """One open socket of one user in one group (a user with three tabs has three rows).

    Rows live in the database, not in a process, so every server process sees
    who is online; `last_seen` is refreshed while the socket is open, so rows
    of a process that died stop counting after REALTIME["PRESENCE_TTL_SECONDS"].
    """

    group = models.CharField(max_length=100)
    socket_id = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "socket_id"], name="presence_unique_socket"),
        ]
        indexes = [models.Index(fields=["group", "last_seen"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"
