from django.conf import settings
from django.db import models
from django.urls import reverse

from .rules import RULESETS, Ruleset, get_ruleset


class Game(models.Model):
    """One game. Its whole state lives here, so any server process can serve any player."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a player"
        ACTIVE = "active", "In progress"
        FINISHED = "finished", "Finished"

    ruleset = models.CharField(
        max_length=20, choices=[(key, rules.label) for key, rules in RULESETS.items()]
    )
    # Seat 0 moves first. An open game has no second player yet.
    first_player = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    second_player = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    state = models.JSONField()
    # Bumped by every move: a move must name the version it was made against,
    # so of two moves racing for one turn exactly one wins.
    version = models.PositiveIntegerField(default=0)
    winner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rematch_of = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="rematch"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "-id"])]

    def __str__(self) -> str:
        return f"{self.rules.label} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("game:detail", args=[self.pk])

    @property
    def group_name(self) -> str:
        return f"game.{self.pk}"

    @property
    def rules(self) -> Ruleset:
        return get_ruleset(self.ruleset)

    @property
    def players(self) -> list:
        return [self.first_player, self.second_player]

    def seat_of(self, user) -> int | None:
        """0 or 1 for a player of this game, None for a spectator."""
        for seat, player in enumerate(self.players):
            if player is not None and player.pk == user.pk:
                return seat
        return None

    def as_frame(self) -> dict:
        """Everything a browser needs to draw the game; sent whole after every change."""
        rules, state = self.rules, self.state
        to_move = rules.to_move(state) if self.status == self.Status.ACTIVE else None
        names = [player.username if player else None for player in self.players]
        return {
            "id": self.pk,
            "url": self.get_absolute_url(),
            "ruleset": self.ruleset,
            "label": rules.label,
            "rows": rules.rows,
            "columns": rules.columns,
            "status": self.status,
            "version": self.version,
            "players": names,
            "board": state["board"],
            "to_move": names[to_move] if to_move is not None else None,
            "winner": self.winner.username if self.winner else None,
            "draw": state["draw"],
            "line": state["line"],
            "rematch": self.rematch.get_absolute_url() if hasattr(self, "rematch") else None,
            "moves": [
                {"number": m.number, "player": m.player.username, "move": m.move}
                for m in self.moves.select_related("player")
            ],
        }

    def as_listing(self) -> dict:
        """The game as the lobby lists it."""
        return {
            "id": self.pk,
            "url": self.get_absolute_url(),
            "label": self.rules.label,
            "status": self.status,
            "players": [player.username if player else None for player in self.players],
        }


class Move(models.Model):
    """The move list: every move of every game, in order (a record, and a replay)."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="moves")
    number = models.PositiveIntegerField()  # 1, 2, 3...
    player = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    move = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["game", "number"]
        constraints = [
            # A second write of move N, however it got here, fails.
            models.UniqueConstraint(fields=["game", "number"], name="one_move_per_turn"),
        ]

    def __str__(self) -> str:
        return f"{self.game} move {self.number}: {self.move}"
