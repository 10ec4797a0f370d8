from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import services
from .models import Game
from .rules import RULESETS


@login_required
def lobby(request):
    return render(
        request,
        "game/lobby.html",
        {"games": services.lobby_games(), "rulesets": RULESETS.values()},
    )


@require_POST
@login_required
def create(request):
    ruleset = request.POST.get("ruleset", "")
    if ruleset not in RULESETS:
        messages.error(request, "Pick a game to create.")
        return redirect("game:lobby")
    game = services.create_game(request.user, ruleset)
    return redirect(game)


@require_POST
@login_required
def join(request, game_id: int):
    try:
        game = services.join_game(game_id, request.user)
    except services.GameError as error:
        messages.info(request, str(error))
        game = get_object_or_404(Game, pk=game_id)
    return redirect(game)


@login_required
def detail(request, game_id: int):
    game = get_object_or_404(
        Game.objects.select_related("first_player", "second_player", "winner"), pk=game_id
    )
    can_join = game.status == Game.Status.OPEN and game.seat_of(request.user) is None
    return render(
        request,
        "game/detail.html",
        {"game": game, "can_join": can_join, "invite_url": request.build_absolute_uri()},
    )
