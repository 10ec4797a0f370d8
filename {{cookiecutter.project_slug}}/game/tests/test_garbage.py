"""Generated garbage against the game consumer: no crash, and the game only changes by the rules."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game import services
from game.models import Game, Move
from realtime.testing.garbage import frames, run_example, throw

pytestmark = pytest.mark.django_db(transaction=True)  # consumers close connections

GARBAGE = st.lists(frames(["game.move", "game.rematch"]), min_size=1, max_size=12)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=GARBAGE)
def test_the_game_consumer_survives_garbage(ws_connect, alice, bob, batch):
    game = services.join_game(services.create_game(alice, "tictactoe").pk, bob)

    async def scenario():
        async with ws_connect(f"/ws/game/{game.pk}/", alice) as socket:
            await throw(socket, batch)
            await socket.send_json_to({"type": "game.rematch"})  # still answers
            while (await socket.receive_json_from(timeout=2))["type"] != "error":
                pass

    run_example(scenario)
    game.refresh_from_db()
    moves = list(Move.objects.filter(game=game).order_by("number"))
    assert game.version == len(moves) == game.state["moves"]  # the record and the state agree
    replay = game.rules.initial_state()
    for move in moves:
        replay = game.rules.apply(replay, game.seat_of(move.player), move.move)
    assert replay == game.state
    assert Game.objects.filter(status=Game.Status.FINISHED, winner__isnull=True).count() == (
        Game.objects.filter(status=Game.Status.FINISHED, state__draw=True).count()
    )
