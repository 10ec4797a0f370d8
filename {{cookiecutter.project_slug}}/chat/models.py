from django.conf import settings
from django.db import models
from django.urls import reverse

MAX_MESSAGE_LENGTH = 2000
HISTORY_ON_LOAD = 50
ROOM_GROUP_PREFIX = "chat.room."


class Room(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Removed by a moderator (services.remove_member): they cannot open the room again.
    removed = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    # The highest DeletedMessage.newest_id of the room: a page whose cursor is past it
    # missed no deletion, and its resume costs no query for them.
    deletions_through = models.BigIntegerField(default=0, editable=False)
    # The highest one purged from the room's log: a page whose cursor is not past it
    # may have missed a deletion no longer known, and reloads.
    deletions_forgotten_through = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("chat:room", args=[self.slug])

    @property
    def group_name(self) -> str:
        """The channel-layer group every socket in this room joins."""
        return f"{ROOM_GROUP_PREFIX}{self.slug}"

    def recent_messages(self, count: int = HISTORY_ON_LOAD) -> list["Message"]:
        """The last `count` messages, oldest first."""
        newest = self.messages.select_related("author").order_by("-id")[:count]
        return list(reversed(newest))


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    # None for a system message, and for a person's once their account is deleted.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # Posted by the server (services.post_system_message). An explicit flag, not a
    # name: pages render these apart from every author, so no username can pass
    # for the server.
    system = models.BooleanField(default=False, editable=False)
    text = models.TextField(max_length=MAX_MESSAGE_LENGTH)
    # Chosen by the sending browser, which resends a message until it sees it
    # come back; the same nonce twice stores the message once.
    nonce = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]  # ids are the resume cursor: "everything after id N"
        indexes = [models.Index(fields=["room", "id"])]
        constraints = [
            models.UniqueConstraint(fields=["author", "nonce"], name="one_message_per_nonce"),
        ]

    def __str__(self) -> str:
        by = "the server" if self.system else self.author or "a deleted user"
        return f"{by} in {self.room}: {self.text[:40]}"

    def as_frame(self) -> dict:
        """The message as sent to browsers (they render every field as text)."""
        return {
            "id": self.id,
            "author": self.author.username if self.author else None,
            "system": self.system,
            "text": self.text,
            "nonce": str(self.nonce) if self.nonce else None,
            "created_at": self.created_at.isoformat(),
        }


class DeletedMessage(models.Model):
    """A message a moderator deleted, kept so a page that was away when it happened
    removes it when it resumes (services.deleted_since). At most DELETIONS_KEPT per room."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="deletions")
    message_id = models.BigIntegerField()
    # The room's newest message id at the time: a page that had seen a newer message
    # was in the room after it and got the deletion live.
    newest_id = models.BigIntegerField()
    deleted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["room", "newest_id"])]

    def __str__(self) -> str:
        return f"message {self.message_id} deleted from {self.room}"
