from django.apps import AppConfig


class GameConfig(AppConfig):
    """Server-authoritative turn-based games: a lobby, players, spectators, rematches."""

    name = "game"
    nav_label = "Games"
    nav_url = "game:lobby"
    nav_description = (
        "Connect Four and tic-tac-toe against another player: a live lobby, moves checked "
        "by the server, spectators, reload or reconnect at any point."
    )

    def ready(self):
        from realtime.signals import presence_expired

        from .services import announce_expired_presence

        presence_expired.connect(announce_expired_presence, dispatch_uid="game.presence_expired")
