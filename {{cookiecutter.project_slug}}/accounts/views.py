from django.conf import settings
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from .forms import SignupForm
from .guests import create_guest


def _safe_next(request, fallback: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _guest_rate(group, request) -> str:
    return settings.GUEST_RATE_LIMIT  # read per request, so tests and deployments can set it


@require_POST
@ratelimit(key="ip", rate=_guest_rate, method="POST")
def guest_login(request):
    """One click: a fresh guest account, logged in, back to where the visitor was going."""
    user = create_guest()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(_safe_next(request))


def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(_safe_next(request))
    return render(request, "registration/signup.html", {"form": form})


def rate_limited(request, exception):
    """A request over a django-ratelimit limit (RATELIMIT_VIEW): 429, not a 403."""
    return render(request, "429.html", status=429)
