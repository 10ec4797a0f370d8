from django.conf import settings
from django.db import models


class Notification(models.Model):
    class Level(models.TextChoices):
        INFO = "info"
        SUCCESS = "success"
        WARNING = "warning"
        ERROR = "error"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    # Set on every user's copy of one announcement, so a browser that gets it
    # live and again on resume shows it once.
    announcement = models.ForeignKey(
        "Announcement", on_delete=models.CASCADE, null=True, blank=True, related_name="copies"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.title} -> {self.recipient}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def as_frame(self) -> dict:
        """The notification as sent to the browser (rendered there as text)."""
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "link": self.link,
            "level": self.level,
            "announcement": str(self.announcement_id) if self.announcement_id else None,
            "created_at": self.created_at.isoformat(),
            "read": self.is_read,
        }


class Announcement(models.Model):
    """A notification for every user, stored before anything is sent (a transactional outbox).

    announce() stores it; services.deliver_pending() then stores one Notification
    per active user, pushes it once to every open socket and sets delivered_at.
    Until then it is pending, whatever happened to the job that asked for it.
    """

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    level = models.CharField(
        max_length=10, choices=Notification.Level.choices, default=Notification.Level.INFO
    )
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)  # empty: pending
    # The channel of the socket that announced it (its consumer's self.channel_name):
    # the worker tells that one socket how many users got it. Empty from a view or command.
    reply_channel = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title

    def as_frame(self) -> dict:
        """Pushed once to every socket; each user's stored copy has its own id."""
        return {
            "id": None,  # the browser dedups copies by `announcement`
            "title": self.title,
            "body": self.body,
            "link": self.link,
            "level": self.level,
            "announcement": str(self.id),
            "created_at": (self.delivered_at or self.created_at).isoformat(),
            "read": False,
        }
