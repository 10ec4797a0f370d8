from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import services
from .models import Notification

PER_PAGE = 20


def _done(request):
    """204 for the page's own fetch() calls, a redirect back for plain form posts."""
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    return redirect("notifications:list")


@login_required
def notification_list(request):
    notifications = Notification.objects.filter(recipient=request.user)
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@require_POST
@login_required
def send_test(request):
    """The worked example of notifying from a view: the push reaches every open tab."""
    services.notify(
        request.user,
        "Test notification",
        body="Sent from the notifications page. Every open tab got it at once.",
        link="/notifications/",
        level="success",
    )
    return _done(request)


@require_POST
@login_required
def mark_read(request, pk: int):
    services.mark_read(request.user, [pk])
    return _done(request)


@require_POST
@login_required
def mark_all_read(request):
    services.mark_read(request.user)
    return _done(request)


@require_POST
@staff_member_required
def announce(request):
    title = request.POST.get("title", "").strip()[:200]
    if not title:
        messages.error(request, "An announcement needs a title.")
        return redirect("notifications:list")
    if services.announce(title, body=request.POST.get("body", "").strip()):
        messages.success(request, "Announcement queued: the background worker is sending it.")
    else:
        messages.info(
            request,
            "Announcement sent by this server: the in-memory channel layer has no "
            "background worker. With REDIS_URL set, `make worker` sends it instead.",
        )
    return redirect("notifications:list")
