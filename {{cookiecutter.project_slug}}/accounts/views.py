import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited
from redis.exceptions import RedisError

from .forms import SignupForm, TokenForm
from .guests import create_guest
from .tokens import TooManyTokens, create_token, revoke

logger = logging.getLogger("accounts")


def _safe_next(request, fallback: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def over_guest_limit(request) -> bool:
    """Count this guest sign-in against GUEST_RATE_LIMIT per client address (django-ratelimit).

    The count lives in the cache, Redis when REDIS_URL is set. A Redis that is down
    fails open, with a warning: the limit stops floods, it must not turn every
    visitor away while Redis restarts (the sockets' budgets do the same).
    """
    try:
        return is_ratelimited(
            request,
            group="accounts.guest_login",
            key="ip",
            rate=settings.GUEST_RATE_LIMIT,  # read per request: tests and deployments set it
            method="POST",
            increment=True,
        )
    except (RedisError, OSError) as error:
        logger.warning("guest limit not checked, cache unreachable: %s", error)
        return False


@require_POST
def guest_login(request):
    """One click: a fresh guest account, logged in, back to where the visitor was going."""
    if over_guest_limit(request):
        raise Ratelimited  # RATELIMIT_VIEW answers it: 429
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


@login_required
def tokens(request):
    """The user's access tokens (at most MAX_TOKENS_PER_USER): create one, revoke any.

    A new token is in this response only: it is stored hashed, never shown again."""
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _row, new_token = create_token(request.user, form.cleaned_data["name"])
        except TooManyTokens as error:
            form.add_error("name", str(error))
    context = {
        "form": TokenForm() if new_token else form,
        "tokens": request.user.access_tokens.all(),
        "new_token": new_token,
        "new_token_name": form.cleaned_data["name"] if new_token else None,
    }
    response = render(request, "accounts/tokens.html", context)
    if new_token:
        add_never_cache_headers(response)  # no cache keeps the one copy of the token
    return response


@login_required
@require_POST
def revoke_token(request, token_id: int):
    """Revoke one of the user's tokens: the sockets it opened close at once."""
    revoked = revoke(request.user, token_id)
    if revoked is None:
        raise Http404("No such token.")
    messages.success(request, f"Token “{revoked.name}” revoked: its programs are disconnected.")
    return redirect("tokens")
