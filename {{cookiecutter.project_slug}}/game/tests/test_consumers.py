import asyncio
import contextlib
import json

import pytest
from channels.db import database_sync_to_async

from game import services
from game.models import Game, Move
from realtime.testing.frames import drain
from realtime.testing.frames import next_frame as find_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def next_frame(communicator, frame_type: str):
    return find_frame(communicator, frame_type, within=10)


@pytest.fixture
def game(alice, bob):
    game = services.create_game(alice, "connect4")
    return services.join_game(game.pk, bob)


async def moves_stored() -> int:
    return await Move.objects.acount()


async def test_anonymous_and_unknown_games_are_refused(ws_connect, game, alice):
    async with ws_connect(f"/ws/game/{game.pk}/", user=None, expect_accept=False):
        pass
    async with ws_connect("/ws/game/999999/", alice, expect_accept=False):
        pass


async def test_a_move_reaches_both_players_and_spectators(
    ws_connect, game, alice, bob, django_user_model
):
    carol = await database_sync_to_async(django_user_model.objects.create_user)("carol")
    url = f"/ws/game/{game.pk}/"
    async with ws_connect(url, alice) as a, ws_connect(url, bob) as b, ws_connect(url, carol) as c:
        for socket in (a, b, c):
            assert (await next_frame(socket, "game.state"))["game"]["version"] == 0
        await a.send_json_to({"type": "game.move", "move": 3, "version": 0})
        for socket in (a, b, c):
            state = (await next_frame(socket, "game.state"))["game"]
            assert (state["version"], state["to_move"], state["board"][5][3]) == (1, "bob", 0)
            assert state["moves"] == [{"number": 1, "player": "alice", "move": 3}]


@pytest.mark.parametrize(
    ("who", "frame", "code"),
    [
        ("bob", {"type": "game.move", "move": 3, "version": 0}, "refused"),  # out of turn
        ("carol", {"type": "game.move", "move": 3, "version": 0}, "refused"),  # spectator
        ("alice", {"type": "game.move", "move": 7, "version": 0}, "refused"),  # illegal
        ("alice", {"type": "game.move", "move": "3", "version": 0}, "invalid_fields"),
        ("alice", {"type": "game.move", "move": 3}, "invalid_fields"),
        ("alice", {"type": "game.move", "move": -1, "version": 0}, "invalid_fields"),
        ("alice", {"type": "game.teleport"}, "unknown_type"),
    ],
)
async def test_refused_and_malformed_moves_go_to_the_sender_only(
    ws_connect, game, alice, django_user_model, who, frame, code
):
    user = await database_sync_to_async(django_user_model.objects.get_or_create)(username=who)
    url = f"/ws/game/{game.pk}/"
    async with ws_connect(url, user[0]) as sender, ws_connect(url, alice) as other:
        await next_frame(sender, "game.state")
        await next_frame(other, "game.state")
        await sender.send_json_to(frame)
        error = await next_frame(sender, "error")
        assert error["code"] == code and error["message"]
        assert [f for f in await drain(other) if f["type"] == "error"] == []
    assert await moves_stored() == 0
    assert (await Game.objects.aget(pk=game.pk)).version == 0


async def test_two_concurrent_moves_for_one_turn_leave_exactly_one(ws_connect, game, alice):
    url = f"/ws/game/{game.pk}/"
    async with ws_connect(url, alice) as tab1, ws_connect(url, alice) as tab2:
        await next_frame(tab1, "game.state")
        await next_frame(tab2, "game.state")
        await asyncio.gather(
            tab1.send_json_to({"type": "game.move", "move": 0, "version": 0}),
            tab2.send_json_to({"type": "game.move", "move": 6, "version": 0}),
        )
        frames = await drain(tab1) + await drain(tab2)
    errors = [f for f in frames if f["type"] == "error"]
    assert len(errors) == 1 and "changed" in errors[0]["message"]
    assert await moves_stored() == 1


async def test_presence_is_a_list_after_the_state_then_only_changes(ws_connect, game, alice, bob):
    url = f"/ws/game/{game.pk}/"
    async with ws_connect(url, alice) as a:
        assert (await a.receive_json_from())["type"] == "game.state"
        assert await a.receive_json_from() == {"type": "game.presence", "online": ["alice"]}
        assert (await next_frame(a, "game.presence_changed"))["joined"] == ["alice"]
        async with ws_connect(url, bob) as b:
            assert (await b.receive_json_from())["type"] == "game.state"
            assert await b.receive_json_from() == {
                "type": "game.presence",
                "online": ["alice", "bob"],
            }
            assert await a.receive_json_from() == {
                "type": "game.presence_changed",
                "joined": ["bob"],
                "left": [],
            }
            async with ws_connect(url, bob):  # a second tab of bob's: no change
                pass
        # The next frame is bob leaving: his second tab came and went unannounced.
        assert await a.receive_json_from() == {
            "type": "game.presence_changed",
            "joined": [],
            "left": ["bob"],
        }


async def test_each_spectator_costs_the_others_the_same_small_frame_however_many_watch(
    ws_connect, game, alice, django_user_model
):
    """A game has any number of spectators: N joins cost a player N small frames
    (linear), not N lists of up to N names."""
    spectators = await database_sync_to_async(
        lambda: [django_user_model.objects.create_user(f"fan-{n:02d}") for n in range(20)]
    )()
    url = f"/ws/game/{game.pk}/"
    cost = []  # bytes the player receives for each join
    async with contextlib.AsyncExitStack() as sockets:
        player = await sockets.enter_async_context(ws_connect(url, alice))
        await drain(player)
        for spectator in spectators:
            await sockets.enter_async_context(ws_connect(url, spectator))
            frames = [await player.receive_from()]
            while await player.receive_nothing(timeout=0.2) is False:
                frames.append(await player.receive_from())
            assert [json.loads(frame) for frame in frames] == [
                {"type": "game.presence_changed", "joined": [spectator.username], "left": []}
            ]
            cost.append(sum(len(frame.encode()) for frame in frames))
    assert len(set(cost)) == 1, cost  # the 20th join costs what the first did


async def test_the_lobby_lists_games_live(ws_connect, alice, bob):
    async with ws_connect("/ws/game/", bob) as lobby:
        assert (await next_frame(lobby, "game.lobby"))["games"] == []
        game = await database_sync_to_async(services.create_game)(alice, "tictactoe")
        listed = (await next_frame(lobby, "game.listed"))["game"]
        assert (listed["id"], listed["status"], listed["players"]) == (
            game.pk,
            "open",
            ["alice", None],
        )
        await database_sync_to_async(services.join_game)(game.pk, bob)
        assert (await next_frame(lobby, "game.listed"))["game"]["status"] == "active"


def expire(socket_id: str) -> None:
    """Age a presence row past the TTL, as when its server process was killed."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from realtime.models import Presence

    stale = timezone.now() - timedelta(seconds=settings.REALTIME["PRESENCE_TTL_SECONDS"] + 1)
    Presence.objects.filter(socket_id=socket_id).update(last_seen=stale)


async def test_players_of_a_dead_process_go_offline_when_purged(ws_connect, game, alice, bob):
    from realtime import presence

    await database_sync_to_async(presence.enter)(game.group_name, bob, "on-a-killed-process")
    async with ws_connect(f"/ws/game/{game.pk}/", alice) as a:
        assert (await next_frame(a, "game.presence"))["online"] == ["alice", "bob"]
        await database_sync_to_async(expire)("on-a-killed-process")
        await database_sync_to_async(presence.purge_expired)()  # what a live process does
        assert (await next_frame(a, "game.presence"))["online"] == ["alice"]


async def test_a_rematch_is_refused_until_the_game_ends_then_takes_both_players_to_it(
    ws_connect, game, alice, bob
):
    url = f"/ws/game/{game.pk}/"
    async with ws_connect(url, alice) as a, ws_connect(url, bob) as b:
        for socket in (a, b):
            await next_frame(socket, "game.state")
        await b.send_json_to({"type": "game.rematch"})
        refused = await next_frame(b, "error")
        assert (refused["code"], refused["message"]) == (
            "refused",
            "Only the players of a finished game can ask for a rematch.",
        )
        play = database_sync_to_async(services.play)
        for number, column in enumerate([0, 1] * 3 + [0]):  # alice wins
            await play(game.pk, alice if number % 2 == 0 else bob, column, number)
        await b.send_json_to({"type": "game.rematch"})
        shown = []
        for socket in (a, b):  # the finished game's page now links to the rematch
            while (frame := await next_frame(socket, "game.state"))["game"]["rematch"] is None:
                pass
            shown.append(frame["game"]["rematch"])
    rematch = await Game.objects.aget(rematch_of=game)
    assert shown == [rematch.get_absolute_url()] * 2
