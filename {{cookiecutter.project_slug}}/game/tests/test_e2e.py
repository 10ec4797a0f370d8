"""Whole games in real browsers: lobby, players, a spectator, reloads, two server processes."""

import pytest
from playwright.sync_api import Page, expect

from realtime.testing.pages import connection_status

pytestmark = pytest.mark.e2e


def open_connected(page: Page, url: str) -> None:
    page.goto(url)
    expect(connection_status(page)).to_have_text("Live")


def game_status(page: Page):
    return page.get_by_role("status", name="Game status")


def moves(page: Page):
    return page.get_by_role("list", name="Moves").get_by_role("listitem")


def play(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()


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
    bob.get_by_role("button", name="Join this game").click()
    expect(game_status(bob)).to_have_text(f"{alice_name}'s turn (Red).")
    expect(game_status(alice)).to_have_text("Your turn (Red).")

    # Carol watches from the lobby.
    open_connected(carol, f"{daphne_server.url}/game/")
    carol.get_by_role("listitem").filter(has_text=game_name).get_by_role(
        "link", name="Watch"
    ).click()
    expect(connection_status(carol)).to_have_text("Live")
    expect(carol.get_by_role("list", name="Players")).to_contain_text(
        f"{bob_name} · Yellow · online"
    )

    # A move out of turn is refused, visibly, and changes nothing.
    play(bob, "Column 2")
    expect(bob.get_by_role("alert")).to_have_text(f"It is {alice_name}'s turn.")
    expect(moves(carol)).to_have_count(0)

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
    assert alice.url == game_url

    # A rematch: Bob asks, both end up in the new game with seats swapped.
    bob.get_by_role("button", name="Rematch").click()
    expect(bob).not_to_have_url(game_url)
    expect(game_status(bob)).to_have_text("Your turn (Red).")
    alice.get_by_role("link", name="Play the rematch").click()
    expect(game_status(alice)).to_have_text(f"{bob_name}'s turn (Red).")


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
