"""Every inbound frame the game documents (docs/asyncapi.json) is accepted by its consumer."""

import pytest
from channels.db import database_sync_to_async

from game import services
from realtime.testing.contract import assert_accepted, protocol

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def games(alice, bob):
    """A game where alice is to move, and a finished one (alice won)."""
    playing = services.join_game(services.create_game(alice, "connect4").pk, bob)
    finished = services.join_game(services.create_game(alice, "tictactoe").pk, bob)
    moves = [(alice, 0), (bob, 3), (alice, 1), (bob, 4), (alice, 2)]  # the top row: alice wins
    for version, (player, move) in enumerate(moves):
        services.play(finished.pk, player, move, version)
    return playing, finished


async def test_every_documented_inbound_frame_is_accepted(ws_connect, alice, bob):
    playing, finished = await database_sync_to_async(games)(alice, bob)
    examples = {
        playing: [{"type": "game.move", "move": 3, "version": 0}],
        finished: [{"type": "game.rematch"}],
    }
    # A frame type documented later needs its example here.
    documented = {frame["type"] for frames in examples.values() for frame in frames}
    assert documented == protocol().inbound_types("game")
    for game, frames in examples.items():
        async with ws_connect(f"/ws/game/{game.pk}/", alice) as socket:
            await assert_accepted(socket, frames)
