from django.contrib import admin

from .models import Presence


@admin.register(Presence)
class PresenceAdmin(admin.ModelAdmin):
    """Who is connected where, right now (rows are written by the consumers)."""

    list_display = ["user", "group", "socket_id", "last_seen"]
    list_filter = ["group"]
    search_fields = ["user__username", "group"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
