"""Take the README pictures: run from a generated project, with its own Python.

    cd .demo/realtime_django && .venv/bin/python ../../scripts/screenshots.py ../../docs

Starts the project with daphne on a free port, signs three users in (alice is staff), chats,
sends notifications and plays Connect Four, and writes PNGs of the pages into the given
folder: desktop pictures (chat.png shows two windows side by side) and phone.png (chat,
notifications and game on a phone, side by side). It drives the pages by the same roles and
labels as the end-to-end tests (realtime/testing/pages.py, */tests/test_e2e.py).
"""

import base64
import os
import re
import sys
from pathlib import Path

import django

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from realtime.testing.browser import launch_options  # noqa: E402
from realtime.testing.pages import PHONE, connection_status, sign_in  # noqa: E402
from realtime.testing.servers import DaphneServer, manage, server_environment  # noqa: E402

OUT = Path(sys.argv[1]).resolve()
WORK = Path("/tmp/realtime-screenshots")
VIEWPORT = {"width": 900, "height": 720}
PASSWORD = "screenshots-only-password"  # noqa: S105 (a throwaway database in WORK)


def combine(browser, pictures: list[bytes], width: int, path: Path) -> None:
    """Lay the screenshots side by side on a plain background, each `width` CSS pixels wide."""
    gap = 20
    page = browser.new_page(viewport={"width": len(pictures) * (width + gap) + gap, "height": 100})
    images = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}">' for png in pictures
    )
    page.set_content(
        f"<body style='margin:0;padding:{gap}px;background:#c7cbe0;display:inline-flex;"
        f"gap:{gap}px;align-items:flex-start'>"
        f"<style>img{{width:{width}px;border-radius:10px;"
        "box-shadow:0 8px 30px rgba(0,0,0,.25)}</style>"
        f"{images}</body>"
    )
    page.locator("body").screenshot(path=path)
    page.close()


def create_users(env: dict[str, str]) -> None:
    """alice is staff (she sees the moderation buttons); bob and carol are plain users."""
    manage(
        {**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
        *("createsuperuser", "--noinput", "--username", "alice", "--email", "a@example.com"),
    )
    code = (
        "from django.contrib.auth import get_user_model; User = get_user_model()\n"
        f"for name in ('bob', 'carol'): User.objects.create_user(name, password={PASSWORD!r})"
    )
    manage(env, "shell", "-c", code)


def open_room(page, base_url: str, slug: str) -> None:
    """The rooms page's form: it opens the room, creating it the first time (a POST)."""
    page.goto(f"{base_url}/chat/")
    page.get_by_label("Room name").fill(slug)
    page.get_by_role("button", name="Open room").click()
    expect(page.get_by_role("heading", name=f"#{slug}")).to_be_visible()
    expect(connection_status(page)).to_have_text("Live")


def send(page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()


def messages(page):
    return page.get_by_role("log", name="Messages").get_by_role("listitem")


def chat(browser, base_url: str, alice, bob, carol) -> None:
    for page in (alice, bob, carol):
        open_room(page, base_url, "lobby")
    for page in (alice, bob, carol):
        expect(page.get_by_role("list", name="Here now").get_by_role("listitem")).to_have_count(3)
    send(carol, "Buy cheap followers at spam.example!")
    spam = messages(alice).filter(has_text="cheap followers")
    expect(spam).to_have_count(1)
    spam.get_by_role("button", name="Delete message from carol").click()
    expect(messages(bob).filter(has_text="cheap followers")).to_have_count(0)
    alice.get_by_role("button", name="Remove carol from the room").click()
    expect(messages(bob).filter(has_text="carol was removed")).to_have_count(1)
    lines = [
        (alice, "Hi! Is the deploy still on for today?"),
        (bob, "Yes, after lunch. Migrations are ready."),
        (alice, "Great. <b>HTML</b> shows as text, by the way."),
    ]
    for page, text in lines:
        send(page, text)
        for reader in (alice, bob):
            expect(messages(reader).filter(has_text=text)).to_have_count(1)
    bob.get_by_role("textbox", name="Message").press_sequentially("On my way")
    expect(alice.get_by_text("bob is typing…")).to_be_visible()
    combine(browser, [alice.screenshot(), bob.screenshot()], 890, OUT / "chat.png")
    bob.get_by_role("textbox", name="Message").fill("")


def notifications(page, mention_from, mentions: int) -> None:
    """A list with mentions and test notifications, their toasts, and the header's badge."""
    page.get_by_role("button", name="Send me a test notification").click()
    send(mention_from, "@bob can you review the PR?")
    toasts = page.get_by_role("region", name="New notifications")
    expect(toasts.get_by_text(re.compile("mentioned"))).to_have_count(1)
    rows = page.get_by_role("list", name="Your notifications").get_by_role("listitem")
    expect(rows.filter(has_text="mentioned")).to_have_count(mentions)
    page.wait_for_timeout(400)  # let the toasts finish sliding in


def create_game(page, base_url: str) -> None:
    page.goto(f"{base_url}/game/")
    page.get_by_role("combobox", name="Game").select_option(label="Connect Four")
    page.get_by_role("button", name="Create game").click()
    expect(connection_status(page)).to_have_text("Live")


def play(watcher, columns) -> None:
    """Each (page, column) drops a disc; waits until the watcher's move list has it."""
    for number, (page, column) in enumerate(columns, start=1):
        board = page.get_by_role("group", name="Board")
        board.get_by_role("button", name=re.compile(rf"^Column {column}\b[:,]")).click()
        moves = watcher.get_by_role("list", name="Moves").get_by_role("listitem")
        expect(moves).to_have_count(number)


def connect_four(base_url: str, alice, bob, carol) -> None:
    """alice plays bob and wins; carol watches."""
    create_game(alice, base_url)
    bob.goto(alice.url)
    bob.get_by_role("button", name="Join this game").click()
    expect(connection_status(bob)).to_have_text("Live")
    carol.goto(alice.url)
    expect(connection_status(carol)).to_have_text("Live")
    play(carol, [(alice, 4), (bob, 4), (alice, 5), (bob, 5), (alice, 3), (bob, 3), (alice, 6)])
    expect(carol.get_by_role("status", name="Game status")).to_contain_text("wins")


def main() -> None:
    WORK.mkdir(exist_ok=True)
    (WORK / "e2e.sqlite3").unlink(missing_ok=True)
    env = server_environment(WORK, f"sqlite:///{WORK / 'e2e.sqlite3'}")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    create_users(env)
    server = DaphneServer(env, WORK / "daphne.log")
    server.start()
    url = server.url
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                **launch_options(playwright.chromium.executable_path)
            )
            alice, bob, carol = (browser.new_context(viewport=VIEWPORT).new_page() for _ in "abc")
            alice.goto(url)
            alice.screenshot(path=OUT / "home.png")
            alice.goto(f"{url}/accounts/login/")
            alice.screenshot(path=OUT / "login.png")
            for page, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
                sign_in(page, url, name, PASSWORD)
            open_room(carol, url, "deploys")
            open_room(bob, url, "random")
            chat(browser, url, alice, bob, carol)
            open_room(carol, url, "deploys")  # so the rooms list shows people in two rooms
            bob.goto(f"{url}/chat/")
            bob.screenshot(path=OUT / "rooms.png")
            bob.goto(f"{url}/notifications/")
            expect(connection_status(bob)).to_have_text("Live")
            notifications(bob, alice, 1)
            bob.screenshot(path=OUT / "notifications.png")
            connect_four(url, alice, bob, carol)
            carol.screenshot(path=OUT / "game.png")

            # The same three pages on a phone: bob in the lobby, his notifications, a game.
            phone = {"bob": browser.new_context(**PHONE).new_page()}
            sign_in(phone["bob"], url, "bob", PASSWORD)
            open_room(phone["bob"], url, "lobby")
            open_room(alice, url, "lobby")
            send(alice, "Phones get the same room, live.")
            expect(messages(phone["bob"]).filter(has_text="Phones get")).to_have_count(1)
            alice.get_by_role("textbox", name="Message").press_sequentially("Typing here")
            expect(phone["bob"].get_by_text("alice is typing…")).to_be_visible()
            shots = [phone["bob"].screenshot()]
            phone["bob"].goto(f"{url}/notifications/")
            expect(connection_status(phone["bob"])).to_have_text("Live")
            notifications(phone["bob"], alice, 2)
            shots.append(phone["bob"].screenshot())
            # A second game, in play: bob joins from his phone, and it is his turn.
            create_game(alice, url)
            phone["bob"].goto(alice.url)
            phone["bob"].get_by_role("button", name="Join this game").click()
            play(phone["bob"], [(alice, 4), (phone["bob"], 3), (alice, 4)])
            players = phone["bob"].get_by_role("list", name="Players")
            expect(players).to_contain_text("alice · Red · online")
            shots.append(phone["bob"].screenshot())
            combine(browser, shots, 390, OUT / "phone.png")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
