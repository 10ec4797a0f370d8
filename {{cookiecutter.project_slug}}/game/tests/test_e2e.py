"""Whole games in real browsers: lobby, players, a spectator, reloads, two server processes."""

import re

import pytest
from playwright.sync_api import Page, expect

from realtime.testing.accessibility import assert_accessible
from realtime.testing.pages import PHONE, VIEWPORTS, connection_status, page_width_overflow

pytestmark = pytest.mark.e2e


def open_connected(page: Page, url: str) -> None:
    page.goto(url)
    expect(connection_status(page)).to_have_text("Live")


def game_status(page: Page):
    return page.get_by_role("status", name="Game status")


def moves(page: Page):
    return page.get_by_role("list", name="Moves").get_by_role("listitem")


def board_button(page: Page, name: str):
    """A column or square by its number; its full name also says what is in it."""
    return page.get_by_role("group", name="Board").get_by_role(
        "button", name=re.compile(rf"^{name}\b[:,]")
    )


def board_buttons(page: Page):
    return page.get_by_role("group", name="Board").get_by_role("button")


def expect_board_disabled(page: Page, disabled: bool = True) -> None:
    buttons = board_buttons(page)
    expect(buttons.first).to_be_visible()
    for button in buttons.all():
        if disabled:
            expect(button).to_be_disabled()
        else:
            expect(button).to_be_enabled()


def rematch_button(page: Page):
    return page.get_by_role("button", name="Rematch")


def rematch_link(page: Page):
    return page.get_by_role("link", name="Play the rematch")


def play(page: Page, button: str) -> None:
    board_button(page, button).click()


def create_game(page: Page, base_url: str, label: str) -> str:
    open_connected(page, f"{base_url}/game/")
    page.get_by_role("combobox", name="Game").select_option(label=label)
    page.get_by_role("button", name="Create game").click()
    expect(connection_status(page)).to_have_text("Live")
    expect(game_status(page)).to_contain_text("Waiting for a second player")
    return page.url


def test_connect_four_from_lobby_to_win_with_spectator_reload_and_rematch(
    daphne_server, guest_page
):
    alice, alice_name = guest_page(daphne_server.url)
    bob, bob_name = guest_page(daphne_server.url)
    carol, _ = guest_page(daphne_server.url)
    open_connected(bob, f"{daphne_server.url}/game/")
    game_url = create_game(alice, daphne_server.url, "Connect Four")
    game_name = alice.get_by_role("heading", level=1).inner_text()

    # Bob sees the new game appear in the lobby without reloading, and joins it.
    listing = bob.get_by_role("list", name="Open and running games").get_by_role("listitem")
    listing.filter(has_text=game_name).get_by_role("link", name="Join").click()
    expect(rematch_button(alice)).to_be_hidden()  # waiting: no rematch controls anywhere
    expect(rematch_link(alice)).to_be_hidden()
    bob.get_by_role("button", name="Join this game").click()
    expect(game_status(bob)).to_have_text(f"{alice_name}'s turn (Red).")
    expect(game_status(alice)).to_have_text("Your turn (Red).")
    expect(bob.get_by_role("button", name="Join this game")).to_be_hidden()

    # Carol watches from the lobby.
    open_connected(carol, f"{daphne_server.url}/game/")
    carol.get_by_role("listitem").filter(has_text=game_name).get_by_role(
        "link", name="Watch"
    ).click()
    expect(connection_status(carol)).to_have_text("Live")
    expect(carol.get_by_role("list", name="Players")).to_contain_text(
        f"{bob_name} · Yellow · online"
    )

    # Only the player to move has live buttons; the other player and the spectator do not.
    expect_board_disabled(alice, False)
    expect_board_disabled(bob)
    expect_board_disabled(carol)
    board_button(bob, "Column 2").click(force=True)  # a click on it does nothing
    expect(bob.get_by_role("alert")).to_have_text("")
    expect(moves(carol)).to_have_count(0)
    for page in (alice, bob, carol):  # in play: no rematch controls
        expect(rematch_button(page)).to_be_hidden()
        expect(rematch_link(page)).to_be_hidden()

    sequence = [(alice, "Column 1"), (bob, "Column 2")] * 3 + [(alice, "Column 1")]
    for number, (player, column) in enumerate(sequence, start=1):
        play(player, column)
        for page in (alice, bob, carol):
            expect(moves(page)).to_have_count(number)
        if number == 3:  # Bob reloads mid-game: the board and the move list come back
            bob.reload()
            expect(connection_status(bob)).to_have_text("Live")
            expect(moves(bob)).to_have_count(3)
            expect(game_status(bob)).to_have_text("Your turn (Yellow).")

    expect(game_status(alice)).to_have_text("You win!")
    expect(game_status(bob)).to_have_text(f"{alice_name} wins!")
    expect(game_status(carol)).to_have_text(f"{alice_name} wins!")
    expect(moves(carol).last).to_have_text(f"{alice_name}: column 1")
    expect(board_button(carol, "Column 1")).to_have_accessible_name(
        "Column 1, from the bottom: Red, Red, Red, Red, 2 empty"
    )
    expect(board_button(carol, "Column 2")).to_have_accessible_name(
        "Column 2, from the bottom: Yellow, Yellow, Yellow, 3 empty"
    )
    expect(board_button(carol, "Column 3")).to_have_accessible_name("Column 3: empty")
    for page in (alice, bob, carol):  # the game is over: nobody can move
        expect_board_disabled(page)
    assert alice.url == game_url

    # A rematch, for the players only: Bob asks, both end up in the new game, seats swapped.
    expect(rematch_button(alice)).to_be_visible()
    expect(rematch_button(carol)).to_be_hidden()
    rematch_button(bob).click()
    expect(bob).not_to_have_url(game_url)
    expect(game_status(bob)).to_have_text("Your turn (Red).")
    expect(rematch_button(alice)).to_be_hidden()
    expect(rematch_link(carol)).to_be_hidden()
    rematch_link(alice).click()
    expect(alice).to_have_url(bob.url)
    expect(game_status(alice)).to_have_text(f"{bob_name}'s turn (Red).")
    expect(rematch_link(alice)).to_be_hidden()


def test_players_on_two_server_processes_play_one_game(redis_daphne_servers, guest_page):
    first, second = redis_daphne_servers
    alice, alice_name = guest_page(first.url)
    bob, _ = guest_page(second.url)
    game_path = create_game(alice, first.url, "Tic-tac-toe").removeprefix(first.url)
    open_connected(bob, f"{second.url}{game_path}")
    bob.get_by_role("button", name="Join this game").click()
    expect(game_status(alice)).to_have_text("Your turn (X).")

    sequence = [(alice, "Square 1"), (bob, "Square 4"), (alice, "Square 2"), (bob, "Square 5")]
    for number, (player, square) in enumerate([*sequence, (alice, "Square 3")], start=1):
        play(player, square)
        expect(moves(alice)).to_have_count(number)
        expect(moves(bob)).to_have_count(number)
    expect(game_status(bob)).to_have_text(f"{alice_name} wins!")
    expect(game_status(alice)).to_have_text("You win!")


def test_a_spectator_sees_the_players_come_and_go(daphne_server, guest_page):
    """Presence after the first list comes as changes: the page applies each one."""
    alice, alice_name = guest_page(daphne_server.url)
    bob, bob_name = guest_page(daphne_server.url)
    carol, _ = guest_page(daphne_server.url)
    game_url = create_game(alice, daphne_server.url, "Tic-tac-toe")
    open_connected(bob, game_url)
    bob.get_by_role("button", name="Join this game").click()
    expect(game_status(alice)).to_have_text("Your turn (X).")
    bob.goto(f"{daphne_server.url}/game/")  # bob looks away

    open_connected(carol, game_url)
    players = carol.get_by_role("list", name="Players")
    expect(players).to_contain_text(f"{alice_name} · X · online")
    expect(players).to_contain_text(f"{bob_name} · O · offline")
    open_connected(bob, game_url)  # comes back
    expect(players).to_contain_text(f"{bob_name} · O · online")
    alice.goto(f"{daphne_server.url}/game/")  # and alice leaves
    expect(players).to_contain_text(f"{alice_name} · X · offline")
    expect(players).to_contain_text(f"{bob_name} · O · online")


def test_a_refusal_goes_away_once_it_is_no_longer_true(daphne_server, guest_page):
    alice, _ = guest_page(daphne_server.url)
    bob, _ = guest_page(daphne_server.url)
    game_url = create_game(alice, daphne_server.url, "Connect Four")
    expect_board_disabled(alice)  # nobody to play against yet
    # A page that still offered the move (say, a stale one) gets the server's refusal...
    board_buttons(alice).first.evaluate("button => button.removeAttribute('aria-disabled')")
    board_buttons(alice).first.click()
    expect(alice.get_by_role("alert")).to_have_text("Waiting for a second player.")

    open_connected(bob, game_url)
    bob.get_by_role("button", name="Join this game").click()
    expect(game_status(alice)).to_have_text("Your turn (Red).")
    expect(alice.get_by_role("alert")).to_have_text("")  # ...which goes once it is not true
    expect_board_disabled(alice, False)


def test_moves_by_keyboard_keep_the_focus_on_the_board(daphne_server, guest_page):
    alice, _ = guest_page(daphne_server.url)
    bob, _ = guest_page(daphne_server.url)
    game_url = create_game(alice, daphne_server.url, "Tic-tac-toe")
    open_connected(bob, game_url)
    bob.get_by_role("button", name="Join this game").click()
    expect(game_status(alice)).to_have_text("Your turn (X).")

    square = board_button(alice, "Square 5")
    square.focus()
    alice.keyboard.press("Enter")
    expect(moves(alice)).to_have_count(1)
    expect(square).to_have_accessible_name("Square 5: X")
    expect(square).to_be_focused()
    expect(square).to_be_disabled()  # taken, and no longer alice's turn
    alice.keyboard.press("Tab")  # still on the board: Tab goes on to the next square
    expect(board_button(alice, "Square 6")).to_be_focused()

    bob_square = board_button(bob, "Square 1")
    expect(bob_square).to_be_enabled()
    bob_square.focus()
    bob.keyboard.press("Space")
    expect(moves(bob)).to_have_count(2)
    expect(bob_square).to_have_accessible_name("Square 1: O")
    expect(bob_square).to_be_focused()
    expect(board_button(bob, "Square 5")).to_have_accessible_name("Square 5: X")
    expect(board_button(bob, "Square 2")).to_have_accessible_name("Square 2: empty")


@pytest.mark.parametrize("ruleset", ["Connect Four", "Tic-tac-toe"])
def test_games_fit_a_phone_screen_and_play_by_touch(daphne_server, guest_page, ruleset):
    alice, _ = guest_page(daphne_server.url, **PHONE)
    bob, bob_name = guest_page(daphne_server.url, **PHONE)
    open_connected(alice, f"{daphne_server.url}/game/")
    assert page_width_overflow(alice) <= 0
    game_url = create_game(alice, daphne_server.url, ruleset)
    open_connected(bob, game_url)
    bob.get_by_role("button", name="Join this game").click()
    first = "Column 1" if ruleset == "Connect Four" else "Square 1"
    board_button(alice, first).tap()
    expect(moves(bob)).to_have_count(1)
    expect(game_status(alice)).to_have_text(re.compile(f"^{bob_name}'s turn"))
    for page in (alice, bob):
        expect(board_button(page, first)).to_be_in_viewport()
        assert page_width_overflow(page) <= 0, f"{ruleset} is wider than a phone"


@pytest.mark.parametrize("size", VIEWPORTS)
def test_lobby_and_game_pages_are_accessible(daphne_server, guest_page, size):
    alice, _ = guest_page(daphne_server.url, **VIEWPORTS[size])
    bob, _ = guest_page(daphne_server.url, **VIEWPORTS[size])
    open_connected(bob, f"{daphne_server.url}/game/")
    game_url = create_game(alice, daphne_server.url, "Connect Four")
    expect(bob.get_by_role("list", name="Open and running games")).to_contain_text("Connect Four")
    assert_accessible(bob)  # the lobby, with a game listed
    assert_accessible(alice)  # a game waiting for its second player
    open_connected(bob, game_url)
    bob.get_by_role("button", name="Join this game").click()
    play(alice, "Column 4")
    expect(moves(bob)).to_have_count(1)
    for page in (alice, bob):
        assert_accessible(page)
        assert page_width_overflow(page) <= 0
