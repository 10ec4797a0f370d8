from django.contrib import admin

from . import services
from .models import Message, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["slug", "created_at"]
    search_fields = ["slug"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "room", "author", "short_text", "created_at"]
    list_filter = ["room"]
    search_fields = ["text", "author__username"]
    list_select_related = ["room", "author"]

    @admin.display(description="text")
    def short_text(self, message: Message) -> str:
        return message.text[:80]

    # Through the service, as a moderator's Delete button: open pages remove the
    # message at once, and pages that were away when they resume.
    def delete_model(self, request, obj: Message) -> None:
        services.delete_message(obj.room, obj.pk, request.user)

    def delete_queryset(self, request, queryset) -> None:
        for message in queryset.select_related("room"):
            services.delete_message(message.room, message.pk, request.user)
