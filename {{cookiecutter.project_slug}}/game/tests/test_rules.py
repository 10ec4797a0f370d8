"""The game rules on their own: plain data in, plain data out, no Django needed."""

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.rules import (
    RULESETS,
    ConnectFour,
    IllegalMove,
    Outcome,
    Ruleset,
    TicTacToe,
    get_ruleset,
)

connect4 = ConnectFour()
tictactoe = TicTacToe()


def play(rules: Ruleset, moves: list[int]) -> dict:
    """The state after `moves`, each played by whoever is to move."""
    state = rules.initial_state()
    for move in moves:
        state = rules.apply(state, rules.to_move(state), move)
    return state


def refusal(rules: Ruleset, state: dict, player: int, move) -> str:
    """The message a refused move shows the player (the whole of it)."""
    with pytest.raises(IllegalMove) as refused:
        rules.apply(state, player, move)
    return str(refused.value)


def picture(state: dict) -> list[str]:
    """The board as rows of X (player 0), O (player 1) and . (empty), top row first."""
    return [
        "".join(".XO"[0 if cell is None else cell + 1] for cell in row) for row in state["board"]
    ]


# Connect Four


def test_connect_four_starts_empty_with_the_first_player_to_move():
    state = connect4.initial_state()
    assert picture(state) == ["......."] * 6
    assert connect4.to_move(state) == 0
    assert connect4.legal_moves(state) == [0, 1, 2, 3, 4, 5, 6]
    assert connect4.outcome(state) is None


def test_pieces_drop_to_the_lowest_empty_row_and_turns_alternate():
    state = play(connect4, [3, 3, 4])
    assert picture(state)[-2:] == ["...O...", "...XX.."]
    assert state["moves"] == 3
    assert connect4.to_move(state) == 1


@pytest.mark.parametrize(
    ("moves", "winner", "line"),
    [
        pytest.param([0, 0, 1, 1, 2, 2, 3], 0, [(5, 0), (5, 1), (5, 2), (5, 3)], id="horizontal"),
        pytest.param([0, 1, 0, 1, 0, 1, 0], 0, [(2, 0), (3, 0), (4, 0), (5, 0)], id="vertical"),
        pytest.param(
            [0, 1, 1, 2, 2, 3, 2, 3, 3, 5, 3],
            0,
            [(2, 3), (3, 2), (4, 1), (5, 0)],
            id="rising-diagonal",
        ),
        pytest.param(
            [6, 5, 5, 4, 4, 3, 4, 3, 3, 1, 3],
            0,
            [(2, 3), (3, 4), (4, 5), (5, 6)],
            id="falling-diagonal",
        ),
        pytest.param(
            [6, 0, 1, 0, 1, 0, 6, 0], 1, [(2, 0), (3, 0), (4, 0), (5, 0)], id="second-player"
        ),
    ],
)
def test_connect_four_wins(moves, winner, line):
    state = play(connect4, moves)
    assert connect4.outcome(state) == Outcome(winner=winner, line=tuple(line))
    assert connect4.to_move(state) is None
    assert connect4.legal_moves(state) == []


def test_a_win_joining_two_halves_covers_the_whole_run():
    # X has columns 0, 1 and 3; dropping in 2 makes four with the new piece in the middle.
    state = play(connect4, [0, 0, 1, 1, 3, 3, 2])
    assert connect4.outcome(state).line == ((5, 0), (5, 1), (5, 2), (5, 3))


def test_connect_four_draws_on_a_full_board_without_a_line():
    state = play(connect4, [0, 1, 2, 4, 3, 5, 6] * 6)
    assert picture(state) == [
        "OXOOXXO",
        "XOXXOOX",
        "OXOOXXO",
        "XOXXOOX",
        "OXOOXXO",
        "XOXXOOX",
    ]
    assert connect4.outcome(state) == Outcome(winner=None, line=())
    assert state["draw"] is True
    assert connect4.to_move(state) is None


def test_the_result_survives_a_round_trip_through_json():
    state = json.loads(json.dumps(play(connect4, [0, 0, 1, 1, 2, 2, 3])))
    assert connect4.outcome(state) == Outcome(0, ((5, 0), (5, 1), (5, 2), (5, 3)))


def test_a_full_column_is_refused():
    state = play(connect4, [2] * 6)
    assert 2 not in connect4.legal_moves(state)
    assert refusal(connect4, state, 0, 2) == "That column is full."


def test_a_column_with_one_free_row_is_still_legal():
    state = play(connect4, [2] * 5)
    assert 2 in connect4.legal_moves(state)
    assert picture(connect4.apply(state, 1, 2))[0] == "..O...."


@pytest.mark.parametrize("move", [-1, 7, 100])
def test_connect_four_refuses_columns_off_the_board(move):
    assert refusal(connect4, connect4.initial_state(), 0, move) == f"There is no column {move}."


@pytest.mark.parametrize("move", ["3", 3.0, True, None, [3]])
def test_a_move_must_be_an_int(move):
    message = refusal(connect4, connect4.initial_state(), 0, move)
    assert message == f"A move must be a whole number, not {move!r}."


def test_only_the_player_to_move_may_move():
    assert refusal(connect4, connect4.initial_state(), 1, 3) == "It is player 1's turn."
    assert refusal(connect4, play(connect4, [3]), 0, 3) == "It is player 2's turn."


@pytest.mark.parametrize("player", [0, 1])
def test_no_move_after_the_game_is_over(player):
    state = play(connect4, [0, 0, 1, 1, 2, 2, 3])
    assert refusal(connect4, state, player, 4) == "The game is over."


def test_apply_never_changes_the_state_it_is_given():
    state = play(connect4, [3, 3])
    before = copy.deepcopy(state)
    after = connect4.apply(state, 0, 3)
    with pytest.raises(IllegalMove):
        connect4.apply(state, 1, 3)
    assert state == before
    assert after["board"] is not state["board"]
    assert all(new is not old for new, old in zip(after["board"], state["board"], strict=True))


# Tic-tac-toe


def test_tic_tac_toe_moves_are_squares_numbered_across_then_down():
    state = play(tictactoe, [4, 0, 8])
    assert picture(state) == ["O..", ".X.", "..X"]
    assert tictactoe.legal_moves(state) == [1, 2, 3, 5, 6, 7]


@pytest.mark.parametrize(
    ("moves", "line"),
    [
        pytest.param([0, 3, 1, 4, 2], [(0, 0), (0, 1), (0, 2)], id="row"),
        pytest.param([1, 0, 4, 2, 7], [(0, 1), (1, 1), (2, 1)], id="column"),
        pytest.param([0, 1, 4, 2, 8], [(0, 0), (1, 1), (2, 2)], id="diagonal"),
        pytest.param([2, 0, 4, 1, 6], [(0, 2), (1, 1), (2, 0)], id="anti-diagonal"),
    ],
)
def test_tic_tac_toe_wins(moves, line):
    state = play(tictactoe, moves)
    assert tictactoe.outcome(state) == Outcome(winner=0, line=tuple(line))
    assert tictactoe.to_move(state) is None


def test_a_line_on_the_last_square_is_a_win_not_a_draw():
    state = play(tictactoe, [0, 1, 2, 3, 4, 5, 7, 6, 8])
    assert picture(state) == ["XOX", "OXO", "OXX"]
    assert tictactoe.outcome(state) == Outcome(0, ((0, 0), (1, 1), (2, 2)))


def test_tic_tac_toe_draw():
    state = play(tictactoe, [0, 4, 8, 1, 7, 6, 2, 5, 3])
    assert picture(state) == ["XOX", "XOO", "OXX"]
    assert tictactoe.outcome(state) == Outcome(winner=None)
    assert tictactoe.legal_moves(state) == []


def test_a_taken_square_is_refused():
    assert refusal(tictactoe, play(tictactoe, [4]), 1, 4) == "That square is taken."


@pytest.mark.parametrize("move", [-1, 9])
def test_tic_tac_toe_refuses_squares_off_the_board(move):
    assert refusal(tictactoe, tictactoe.initial_state(), 0, move) == f"There is no square {move}."


# The registry


def test_rulesets_are_found_by_key():
    assert set(RULESETS) == {"connect4", "tictactoe"}
    assert isinstance(get_ruleset("connect4"), ConnectFour)
    with pytest.raises(ValueError) as unknown:
        get_ruleset("chess")
    assert str(unknown.value) == "Unknown game 'chess'; choose one of: connect4, tictactoe."


# Any game, played at random


@pytest.mark.parametrize("rules", list(RULESETS.values()), ids=list(RULESETS))
@settings(deadline=None)
@given(data=st.data())
def test_random_games_always_end_in_a_win_or_a_draw(rules, data):
    state = rules.initial_state()
    for moves_made in range(rules.rows * rules.columns):
        player = rules.to_move(state)
        if player is None:
            break
        assert player == moves_made % 2
        move = data.draw(st.sampled_from(rules.legal_moves(state)))
        state = rules.apply(state, player, move)

        pieces = [cell for row in state["board"] for cell in row if cell is not None]
        assert len(pieces) == state["moves"] == moves_made + 1
        assert abs(pieces.count(0) - pieces.count(1)) <= 1
        assert json.loads(json.dumps(state)) == state  # fit for a JSONField

    outcome = rules.outcome(state)
    assert outcome is not None
    assert rules.to_move(state) is None
    assert rules.legal_moves(state) == []
    if outcome.winner is None:
        assert outcome.line == ()
        assert state["moves"] == rules.rows * rules.columns
    else:
        assert all(state["board"][r][c] == outcome.winner for r, c in outcome.line)
    for player in (0, 1):
        for move in range(-1, rules.rows * rules.columns + 1):
            with pytest.raises(IllegalMove):
                rules.apply(state, player, move)
