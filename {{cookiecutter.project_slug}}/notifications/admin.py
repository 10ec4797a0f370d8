from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.template.response import TemplateResponse

from . import services
from .models import Announcement, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "level", "created_at", "read_at"]
    list_filter = ["level", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "body", "recipient__username"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    """Read-only: announce from the notifications page or `manage.py notify --all`.
    An empty "delivered at" means pending: `manage.py deliver_announcements` sends it."""

    list_display = ["title", "level", "created_at", "delivered_at"]
    list_filter = ["level", ("delivered_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "body"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NotifyForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    level = forms.ChoiceField(choices=Notification.Level.choices, initial="info")


@admin.action(description="Send a notification to the selected users")
def send_notification(modeladmin, request, queryset):
    """An admin action with a form: the first POST shows it, the second sends."""
    form = NotifyForm(request.POST if "send" in request.POST else None)
    if form.is_valid():
        for user in queryset:
            services.notify(user, **form.cleaned_data)
        modeladmin.message_user(request, f"Sent to {queryset.count()} user(s).", messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Send a notification",
        "form": form,
        "users": queryset,
        "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "notifications/admin_send.html", context)


# The project's user admin, plus the action above.
User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class NotifyingUserAdmin(UserAdmin):
    actions = [send_notification]
