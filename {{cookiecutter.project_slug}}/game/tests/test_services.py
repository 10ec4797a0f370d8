import pytest
from django.urls import reverse

from game import services
from game.models import Game, Move
from realtime import presence
from realtime.signals import notify_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def game(alice, bob):
    game = services.create_game(alice, "connect4")
    return services.join_game(game.pk, bob)


@pytest.fixture
def told():
    """Notifications the game asked for, through the notify_user signal."""
    received = []

    def receiver(sender, recipient, title, **kwargs):
        received.append((recipient.username, title))

    notify_user.connect(receiver)
    yield received
    notify_user.disconnect(receiver)


def test_joining_fills_the_second_seat_and_tells_the_creator(alice, bob, told):
    game = services.create_game(alice, "tictactoe")
    assert game.status == Game.Status.OPEN
    game = services.join_game(game.pk, bob)
    assert (game.second_player, game.status) == (bob, Game.Status.ACTIVE)
    assert told == [("alice", "bob joined your game")]


def test_a_third_user_cannot_join(game, django_user_model):
    carol = django_user_model.objects.create_user("carol")
    with pytest.raises(services.GameError) as refused:
        services.join_game(game.pk, carol)
    assert str(refused.value) == "This game already has two players; you can watch it."


@pytest.mark.parametrize(
    "action",
    [
        lambda pk, user: services.join_game(pk, user),
        lambda pk, user: services.play(pk, user, 3, version=0),
        lambda pk, user: services.rematch(pk, user),
    ],
    ids=["join", "play", "rematch"],
)
def test_a_game_that_is_not_there_is_refused_with_a_message(alice, action):
    with pytest.raises(services.GameError) as refused:
        action(999_999, alice)
    assert str(refused.value) == "No such game."


def test_a_move_is_applied_recorded_and_versioned(game, alice):
    game = services.play(game.pk, alice, 3, version=0)
    assert game.version == 1
    assert game.state["board"][5][3] == 0
    assert list(Move.objects.values_list("number", "move")) == [(1, 3)]


@pytest.mark.parametrize(
    ("who", "move", "version", "message"),
    [
        ("bob", 3, 0, "It is alice's turn."),
        ("carol", 3, 0, "Spectators cannot move."),
        ("alice", 9, 0, "There is no column 9."),
        ("alice", 3, 5, "The board changed before your move arrived; look again."),
    ],
)
def test_refused_moves_change_nothing(game, django_user_model, who, move, version, message):
    """Each refusal says why, in the words the player sees (the whole message)."""
    user = django_user_model.objects.get_or_create(username=who)[0]
    with pytest.raises(services.GameError) as refused:
        services.play(game.pk, user, move, version)
    assert str(refused.value) == message
    game.refresh_from_db()
    assert (game.version, Move.objects.count()) == (0, 0)
    assert game.state == game.rules.initial_state()


def test_no_move_before_the_second_player_joins(alice):
    game = services.create_game(alice, "connect4")
    with pytest.raises(services.GameError) as refused:
        services.play(game.pk, alice, 3, version=0)
    assert str(refused.value) == "Waiting for a second player."


def test_two_moves_for_the_same_turn_exactly_one_lands(game, alice):
    services.play(game.pk, alice, 0, version=0)
    with pytest.raises(services.GameError):
        services.play(game.pk, alice, 1, version=0)  # the same turn, again
    assert Move.objects.count() == 1


def test_a_win_finishes_the_game_and_records_the_winner(game, alice, bob):
    for number, (player, column) in enumerate([(alice, 0), (bob, 1)] * 3 + [(alice, 0)]):
        game = services.play(game.pk, player, column, version=number)
    assert (game.status, game.winner) == (Game.Status.FINISHED, alice)
    with pytest.raises(services.GameError) as refused:
        services.play(game.pk, bob, 1, version=game.version)
    assert str(refused.value) == "The game is over."


def test_rematch_swaps_seats_once(game, alice, bob):
    for number, (player, column) in enumerate([(alice, 0), (bob, 1)] * 3 + [(alice, 0)]):
        game = services.play(game.pk, player, column, version=number)
    rematch = services.rematch(game.pk, bob)
    assert (rematch.first_player, rematch.second_player) == (bob, alice)
    assert rematch.status == Game.Status.ACTIVE
    assert services.rematch(game.pk, alice) == rematch  # asking again gives the same one


def test_a_notification_links_to_its_game(game, alice):
    links = []

    def receiver(sender, recipient, title, link="", **kwargs):
        links.append(link)

    notify_user.connect(receiver)
    try:
        services.play(game.pk, alice, 3, version=0)  # bob is away: he is told
    finally:
        notify_user.disconnect(receiver)
    assert links == [game.get_absolute_url()]


def test_the_player_to_move_is_told_only_when_away(game, alice, bob, told):
    told.clear()
    services.play(game.pk, alice, 3, version=0)
    assert told == [("bob", f"Your turn in Connect Four #{game.pk}")]

    presence.enter(game.group_name, bob, "bobs-tab")  # bob is looking at the game now
    services.play(game.pk, bob, 3, version=1)
    assert told[1:] == [("alice", f"Your turn in Connect Four #{game.pk}")]  # alice is away
    services.play(game.pk, alice, 4, version=2)
    assert told[2:] == []  # bob is here: no notification


def test_the_lobby_lists_open_and_running_games_but_not_finished_ones(game, alice, bob):
    waiting = services.create_game(alice, "tictactoe")
    for number, (player, move) in enumerate([(alice, 0), (bob, 3), (alice, 1), (bob, 4)]):
        services.play(game.pk, player, move, version=number)  # still running
    finished = services.join_game(services.create_game(bob, "tictactoe").pk, alice)
    for number, (player, move) in enumerate([(bob, 0), (alice, 3), (bob, 1), (alice, 4), (bob, 2)]):
        services.play(finished.pk, player, move, version=number)
    assert Game.objects.get(pk=finished.pk).status == Game.Status.FINISHED
    assert {listed["id"] for listed in services.lobby_games()} == {game.pk, waiting.pk}


def test_lobby_and_pages(client, alice, bob, game):
    client.force_login(alice)
    lobby = client.get(reverse("game:lobby")).content.decode()
    assert f"Connect Four #{game.pk}" in lobby
    response = client.post(reverse("game:create"), {"ruleset": "tictactoe"})
    created = Game.objects.get(ruleset="tictactoe")
    assert response["Location"] == created.get_absolute_url()
    assert client.post(reverse("game:create"), {"ruleset": "chess"}).status_code == 302
    assert Game.objects.count() == 2
    assert client.get(created.get_absolute_url()).status_code == 200


def test_an_id_beyond_the_database_range_is_a_404_not_a_500(client, alice):
    client.force_login(alice)
    assert client.get(f"/game/{2**76}/").status_code == 404
    assert client.post(f"/game/{2**76}/join/").status_code == 404


def test_the_lobby_lists_the_30_newest_games_in_one_query(
    alice, bob, django_user_model, django_assert_num_queries
):
    """However many games are open, the lobby's first frame is 30 of them, newest
    first, read in one query (the players' names come with the games)."""
    games = [services.create_game(alice, "tictactoe") for _ in range(31)]
    services.join_game(games[-1].pk, bob)
    with django_assert_num_queries(1):
        listed = services.lobby_games()
    assert [game["id"] for game in listed] == [game.pk for game in reversed(games[1:])]
    assert listed[0]["players"] == ["alice", "bob"]


def test_a_draw_finishes_the_game_without_a_winner(alice, bob):
    game = services.join_game(services.create_game(alice, "tictactoe").pk, bob)
    for number, move in enumerate([0, 4, 8, 1, 7, 6, 2, 5, 3]):  # a full board, no line
        game = services.play(game.pk, alice if number % 2 == 0 else bob, move, version=number)
    assert (game.status, game.winner) == (Game.Status.FINISHED, None)
    frame = services.game_frame(game.pk)
    assert (frame["draw"], frame["winner"], frame["to_move"]) == (True, None, None)


def test_the_game_frame_and_its_push_take_three_queries_however_many_moves(
    game, alice, bob, django_assert_num_queries
):
    """It is read again after every move: the game with its players, its rematch, its moves."""
    for number, (player, column) in enumerate([(alice, 0), (bob, 1)] * 3 + [(alice, 0)]):
        services.play(game.pk, player, column, version=number)
    with django_assert_num_queries(3):
        frame = services.game_frame(game.pk)
    assert (frame["players"], frame["winner"]) == (["alice", "bob"], "alice")
    assert [move["player"] for move in frame["moves"]] == ["alice", "bob"] * 3 + ["alice"]
    with django_assert_num_queries(3):  # the same, and the lobby's listing from it
        services.publish(game)
    assert services.game_frame(game.pk + 1) is None  # a game deleted meanwhile
