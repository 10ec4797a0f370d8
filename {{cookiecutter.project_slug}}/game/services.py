"""Every change to a game goes through here: checked, stored, then broadcast.

The server decides everything: whose turn it is, whether a move is legal, who
won. Each change runs in a transaction that locks the game's row (a no-op on
SQLite, which serializes writers anyway) and checks the version the client
saw, so two moves racing for one turn cannot both land.
"""

from django.db import transaction

from realtime import presence
from realtime.broadcast import broadcast_from_sync
from realtime.signals import notify_user

from .models import Game, Move
from .rules import IllegalMove, get_ruleset

LOBBY_GROUP = "game.lobby"


class GameError(Exception):
    """A request the game refuses; the message is shown to that player only."""


def create_game(user, ruleset_key: str) -> Game:
    rules = get_ruleset(ruleset_key)
    game = Game.objects.create(ruleset=rules.key, first_player=user, state=rules.initial_state())
    transaction.on_commit(lambda: publish(game))
    return game


def join_game(game_id: int, user) -> Game:
    """Take the free seat of an open game (its creator just opens it again)."""
    with transaction.atomic():
        game = _locked(game_id)
        if game.seat_of(user) is not None:
            return game
        if game.status != Game.Status.OPEN:
            raise GameError("This game already has two players; you can watch it.")
        game.second_player = user
        game.status = Game.Status.ACTIVE
        game.save(update_fields=["second_player", "status", "updated_at"])
        _tell(game.first_player, f"{user.username} joined your game", game)
        transaction.on_commit(lambda: publish(game))
    return game


def play(game_id: int, user, move: int, version: int) -> Game:
    """Apply `user`'s move, made against `version` of the game, or raise GameError."""
    with transaction.atomic():
        game = _locked(game_id)
        seat = game.seat_of(user)
        if seat is None:
            raise GameError("Spectators cannot move.")
        if game.status != Game.Status.ACTIVE:
            waiting = game.status == Game.Status.OPEN
            raise GameError("Waiting for a second player." if waiting else "The game is over.")
        if version != game.version:
            raise GameError("The board changed before your move arrived; look again.")
        to_move = game.rules.to_move(game.state)
        if seat != to_move:
            raise GameError(f"It is {game.players[to_move].username}'s turn.")
        try:
            game.state = game.rules.apply(game.state, seat, move)
        except IllegalMove as error:
            raise GameError(str(error)) from None
        game.version += 1
        Move.objects.create(game=game, number=game.version, player=user, move=move)
        outcome = game.rules.outcome(game.state)
        if outcome is not None:
            game.status = Game.Status.FINISHED
            game.winner = game.players[outcome.winner] if outcome.winner is not None else None
        game.save()
        if outcome is None:
            _tell_if_away(game.players[game.rules.to_move(game.state)], game)
        transaction.on_commit(lambda: publish(game))
    return game


def rematch(game_id: int, user) -> Game:
    """A new game between the same players, seats swapped; one per finished game."""
    with transaction.atomic():
        game = _locked(game_id)
        if game.seat_of(user) is None or game.status != Game.Status.FINISHED:
            raise GameError("Only the players of a finished game can ask for a rematch.")
        if existing := Game.objects.filter(rematch_of=game).first():
            return existing
        new = Game.objects.create(
            ruleset=game.ruleset,
            first_player=game.second_player,
            second_player=game.first_player,
            status=Game.Status.ACTIVE,
            state=game.rules.initial_state(),
            rematch_of=game,
        )
        opponent = game.players[1 - game.seat_of(user)]
        _tell(opponent, f"{user.username} wants a rematch", new)
        transaction.on_commit(lambda: (publish(new), publish(game)))
    return new


def publish(game: Game) -> None:
    """Send the game's full state to its page, and its listing to the lobby."""
    game = Game.objects.select_related("first_player", "second_player", "winner").get(pk=game.pk)
    broadcast_from_sync(game.group_name, "game.state", game=game.as_frame())
    broadcast_from_sync(LOBBY_GROUP, "game.listed", game=game.as_listing())


def lobby_games(limit: int = 30) -> list[dict]:
    games = Game.objects.exclude(status=Game.Status.FINISHED).select_related(
        "first_player", "second_player"
    )[:limit]
    return [game.as_listing() for game in games]


def game_frame(game_id: int) -> dict | None:
    game = (
        Game.objects.select_related("first_player", "second_player", "winner")
        .filter(pk=game_id)
        .first()
    )
    return game.as_frame() if game else None


def _locked(game_id: int) -> Game:
    try:
        # of=("self",): lock the game's row only, not the joined (nullable) users.
        return (
            Game.objects.select_for_update(of=("self",))
            .select_related("first_player", "second_player", "winner")
            .get(pk=game_id)
        )
    except Game.DoesNotExist:
        raise GameError("No such game.") from None


def _tell(user, title: str, game: Game) -> None:
    """A notification through the signal: the notifications app, if installed, sends it."""
    notify_user.send(sender=Game, recipient=user, title=title, link=game.get_absolute_url())


def _tell_if_away(user, game: Game) -> None:
    """Tell the player whose turn it is, unless they are looking at the game right now."""
    if user.username not in presence.members(game.group_name):
        _tell(user, f"Your turn in {game.rules.label} #{game.pk}", game)


def presence_changes(group: str, users: dict[int, str]) -> tuple[list[str], list[str]]:
    """Which of `users` (id -> username) are looking at the game now and which left:
    what consumers.announce_presence_changes says."""
    present = presence.present_among(group, list(users))
    joined = sorted(name for user_id, name in users.items() if user_id in present)
    left = sorted(name for user_id, name in users.items() if user_id not in present)
    return joined, left


def announce_expired_presence(sender, groups: list[str], **kwargs) -> None:
    """Receiver of realtime.signals.presence_expired: tell the games among `groups`
    who is still online (the whole list: browsers replace theirs)."""
    ids = [int(pk) for group in groups if (pk := group.removeprefix("game.")).isdigit()]
    for game in Game.objects.filter(pk__in=ids):
        online = presence.members(game.group_name)
        broadcast_from_sync(game.group_name, "game.presence", online=online)
