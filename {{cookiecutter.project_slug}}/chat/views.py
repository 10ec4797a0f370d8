from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from .models import Room
from .services import post_system_message, room_member_counts


@login_required
def room_list(request):
    rooms = list(Room.objects.all())
    counts = room_member_counts(rooms)
    return render(
        request,
        "chat/rooms.html",
        {"rooms": [(room, counts[room.slug]) for room in rooms]},
    )


@require_POST
@login_required
def open_room(request):
    """The "open a room" form: any name becomes a slug URL."""
    slug = slugify(request.POST.get("name", ""))[:50] or "lobby"
    return redirect("chat:room", slug=slug)


@login_required
def room_detail(request, slug: str):
    if len(slug) > Room._meta.get_field("slug").max_length:
        raise Http404("Room names are at most 50 characters.")
    room, created = Room.objects.get_or_create(slug=slug)
    if room.removed.filter(pk=request.user.pk).exists():
        raise PermissionDenied("A moderator removed you from this room.")
    if created:
        # A system message from sync code: stored, then pushed to the room's group.
        post_system_message(room, f"{request.user.username} opened #{room.slug}.")
    return render(
        request,
        "chat/room.html",
        {"room": room, "messages_on_load": room.recent_messages()},
    )
