"""The game's WebSocket consumers: the lobby, and one game (players and spectators).

Frames: each consumer's @handles methods take the browser's, its `sends` lists its own,
and docs/asyncapi.json (`make protocol`) documents both.

Presence, as in the chat: a game has any number of spectators, so after the state a
socket gets game.presence {online} (everyone looking at the game now, sorted) once,
then only changes, game.presence_changed {joined, left}: one small frame per change,
or per burst of changes. A game.presence may come again later, and replaces the list
(after a server process died, its users' rows expire).
"""

from typing import Annotated, Literal

from pydantic import Field

from realtime import presence
from realtime.broadcast import broadcast
from realtime.consumers import RealtimeConsumer, handles
from realtime.db import database_sync_to_async
from realtime.envelope import Inbound, Outbound, ProtocolError

from . import services
from .models import Game


async def announce_presence_changes(group: str, users: dict[int, str]) -> None:
    """Tell the game which of `users` (id -> username) are looking at it now and which
    left. Read in the database thread, pushed from the event loop: that thread, every
    consumer's, never waits for Redis."""
    joined, left = await database_sync_to_async(services.presence_changes)(group, users)
    await broadcast(group, "game.presence_changed", joined=joined, left=left)


# This process's announcer of who came and went, for every game (one burst, one frame).
presence_changes = presence.Changes(announce_presence_changes)


class MakeMove(Inbound):
    """A move by the player whose turn it is; refused unless it is legal now."""

    move: Annotated[int, Field(ge=0, le=1000)]
    version: Annotated[int, Field(ge=0)]  # the game version the move was made against


class AskRematch(Inbound):
    """A player of a finished game asks for a new one; both players go to it."""


Status = Literal[tuple(Game.Status.values)]


class PlayedMove(Outbound):
    number: int  # 1, 2, 3...
    player: str
    move: int


class GameView(Outbound):
    """Everything a browser needs to draw a game (Game.as_frame), sent whole after every change."""

    id: int
    url: str
    ruleset: str
    label: str
    rows: int
    columns: int
    status: Status
    version: int  # a move must name the version it was made against
    players: list[str | None]  # first and second player; None: a seat still free
    board: list[list[int | None]]  # rows, top first: the index of the player in a cell
    to_move: str | None
    winner: str | None
    draw: bool
    line: list[list[int]]  # the winning line's (row, column) cells
    rematch: str | None  # the URL of the rematch, once asked for
    moves: list[PlayedMove]


class GameListing(Outbound):
    """A game as the lobby lists it (Game.as_listing)."""

    id: int
    url: str
    label: str
    status: Status
    players: list[str | None]


class GameConsumer(RealtimeConsumer):
    """/ws/game/<id>/: the full state on connect and after every change; moves are checked."""

    sends = {
        "game.state": {"game": GameView},
        "game.presence": {"online": list[str]},
        "game.presence_changed": {"joined": list[str], "left": list[str]},
    }

    async def connect(self):
        self.game_id = self.scope["url_route"]["kwargs"]["game_id"]
        game = await Game.objects.filter(pk=self.game_id).afirst()
        if game is None:
            await self.close()
            return
        self.group = game.group_name
        # Join, then read: a move made in between arrives either way, never neither.
        await self.join(self.group)
        await self.accept()
        state = await database_sync_to_async(services.game_frame)(self.game_id)
        await self.send_frame("game.state", game=state)
        # Changes from the group wait until connect() is done (RealtimeConsumer holds
        # them), so the browser applies them to this list.
        first, online = await self.enter_presence_and_list(self.group)
        await self.send_frame("game.presence", online=online)
        if first:
            await self.presence_changed()

    async def disconnect(self, code):
        if await self.leave_presence():  # the user's last tab on this game closed
            await self.presence_changed()

    @handles("game.move", MakeMove)
    async def on_move(self, message: MakeMove):
        # The server checks seat, turn, version and rules; a refusal goes to this socket only.
        await self.run(services.play, self.game_id, self.user, message.move, message.version)

    @handles("game.rematch", AskRematch)
    async def on_rematch(self, message: AskRematch):
        await self.run(services.rematch, self.game_id, self.user)

    async def run(self, action, *args):
        """Run a game service; its GameError becomes an error frame for this player."""
        try:
            await database_sync_to_async(action)(*args)
        except services.GameError as error:
            raise ProtocolError("refused", str(error)) from None

    async def presence_changed(self):
        await presence_changes.changed(self.group, self.user.pk, self.user.username)


class LobbyConsumer(RealtimeConsumer):
    """/ws/game/: open and running games, updated as they are created, filled and finished."""

    sends = {
        "game.lobby": {"games": list[GameListing]},  # at most 30
        "game.listed": {"game": GameListing},  # a game created or changed
    }

    async def connect(self):
        await self.join(services.LOBBY_GROUP)
        await self.accept()
        games = await database_sync_to_async(services.lobby_games)()
        await self.send_frame("game.lobby", games=games)
