from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from .models import Room
from .services import post_system_message, room_member_counts

ROOMS_PER_PAGE = 50
SLUG_LENGTH = Room._meta.get_field("slug").max_length


def _rooms_page(request, *, error: str = "", name: str = "", status: int = 200):
    page = Paginator(Room.objects.all(), ROOMS_PER_PAGE).get_page(request.GET.get("page"))
    counts = room_member_counts(list(page))
    return render(
        request,
        "chat/rooms.html",
        {
            "page": page,
            "rooms": [(room, counts[room.slug]) for room in page],
            "error": error,
            "name": name,
        },
        status=status,
    )


@login_required
def room_list(request):
    return _rooms_page(request)


@require_POST
@login_required
def open_room(request):
    """The "open a room" form, and the only way a room is created: a POST, so that
    no link or prefetch (a GET, which another site can trigger) creates anything."""
    name = request.POST.get("name", "")
    slug = slugify(name)[:SLUG_LENGTH].strip("-_")  # slugify also lower-cases
    if not slug:
        error = "A room name needs at least one letter or digit."
        return _rooms_page(request, error=error, name=name[:SLUG_LENGTH], status=400)
    room, created = Room.objects.get_or_create(slug=slug)
    if room.removed.filter(pk=request.user.pk).exists():
        raise PermissionDenied("A moderator removed you from this room.")
    if created:
        # A system message from sync code: stored, then pushed to the room's group.
        post_system_message(room, f"{request.user.username} opened #{room.slug}.")
    return redirect(room)


@login_required
def room_detail(request, slug: str):
    if len(slug) > SLUG_LENGTH:
        raise Http404("Room names are at most 50 characters.")
    if slug != slug.lower():  # one room per name: /chat/Team/ is /chat/team/
        return redirect("chat:room", slug=slug.lower(), permanent=True)
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        # 404: there is no such room; the page offers a button that creates it (a POST).
        return render(request, "chat/room_missing.html", {"slug": slug}, status=404)
    if room.removed.filter(pk=request.user.pk).exists():
        raise PermissionDenied("A moderator removed you from this room.")
    return render(
        request,
        "chat/room.html",
        {"room": room, "messages_on_load": room.recent_messages()},
    )
