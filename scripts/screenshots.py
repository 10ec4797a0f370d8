"""Take the README pictures: run from a generated project, with its own Python.

    cd .demo/realtime_django && .venv/bin/python ../../scripts/screenshots.py ../../docs

Starts the project with daphne on a free port, signs two users in, chats, and
writes PNGs of the pages (and two windows side by side) into the given folder.
"""

import base64
import os
import sys
from pathlib import Path

import django

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from realtime.testing.browser import launch_options  # noqa: E402
from realtime.testing.pages import connection_status, sign_in_as_guest  # noqa: E402
from realtime.testing.servers import DaphneServer, manage, server_environment  # noqa: E402

OUT = Path(sys.argv[1]).resolve()
WORK = Path("/tmp/realtime-screenshots")
VIEWPORT = {"width": 900, "height": 640}


def side_by_side(browser, left: bytes, right: bytes, path: Path) -> None:
    page = browser.new_page(viewport={"width": 1840, "height": 700})
    images = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}">' for png in (left, right)
    )
    page.set_content(
        "<body style='margin:0;padding:20px;background:#c7cbe0;display:flex;gap:20px'>"
        "<style>img{width:890px;border-radius:10px;box-shadow:0 8px 30px rgba(0,0,0,.25)}</style>"
        f"{images}</body>"
    )
    page.screenshot(path=path)
    page.close()


def main() -> None:
    WORK.mkdir(exist_ok=True)
    (WORK / "e2e.sqlite3").unlink(missing_ok=True)
    env = server_environment(WORK, f"sqlite:///{WORK / 'e2e.sqlite3'}")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    server = DaphneServer(env, WORK / "daphne.log")
    server.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                **launch_options(playwright.chromium.executable_path)
            )
            alice = browser.new_context(viewport=VIEWPORT).new_page()
            bob = browser.new_context(viewport=VIEWPORT).new_page()
            alice.goto(server.url)
            alice.screenshot(path=OUT / "home.png")
            alice.goto(f"{server.url}/accounts/login/")
            alice.screenshot(path=OUT / "login.png")
            for page in (alice, bob):
                sign_in_as_guest(page, server.url)
                page.goto(f"{server.url}/chat/lobby/")
                expect(connection_status(page)).to_have_text("Live")
            lines = [
                (alice, "Hi! Is the deploy still on for today?"),
                (bob, "Yes, after lunch. Migrations are ready."),
                (alice, "Great. <b>HTML</b> shows as text, by the way."),
            ]
            for page, text in lines:
                page.get_by_role("textbox", name="Message").fill(text)
                page.get_by_role("button", name="Send").click()
                expect(alice.get_by_role("log").get_by_text(text)).to_be_visible()
                expect(bob.get_by_role("log").get_by_text(text)).to_be_visible()
            bob.get_by_role("textbox", name="Message").press_sequentially("On my way")
            expect(alice.get_by_text("is typing…")).to_be_visible()
            side_by_side(browser, alice.screenshot(), bob.screenshot(), OUT / "chat.png")
            bob.goto(f"{server.url}/chat/")
            bob.screenshot(path=OUT / "rooms.png")
            bob_name = bob.get_by_role("banner").get_by_text("Signed in as").inner_text()
            bob_name = bob_name.removeprefix("Signed in as ").strip()
            bob.goto(f"{server.url}/notifications/")
            expect(connection_status(bob)).to_have_text("Live")
            bob.get_by_role("button", name="Send me a test notification").click()
            alice.get_by_role("textbox", name="Message").fill(f"@{bob_name} can you review the PR?")
            alice.get_by_role("button", name="Send").click()
            expect(bob.get_by_role("region", name="New notifications")).to_contain_text("mentioned")
            bob.wait_for_timeout(400)  # let the toasts finish sliding in
            bob.screenshot(path=OUT / "notifications.png")
            # A Connect Four game, won by alice, as bob sees it.
            alice.goto(f"{server.url}/game/")
            alice.get_by_role("combobox", name="Game").select_option(label="Connect Four")
            alice.get_by_role("button", name="Create game").click()
            expect(connection_status(alice)).to_have_text("Live")
            bob.goto(alice.url)
            bob.get_by_role("button", name="Join this game").click()
            expect(connection_status(bob)).to_have_text("Live")
            columns = [(alice, 3), (bob, 3), (alice, 4), (bob, 4), (alice, 2), (bob, 2)]
            columns += [(alice, 5)]
            for number, (page, column) in enumerate(columns, start=1):
                page.get_by_role("button", name=f"Column {column + 1}", exact=True).click()
                expect(bob.get_by_role("list", name="Moves").get_by_role("listitem")).to_have_count(
                    number
                )
            expect(bob.get_by_role("status", name="Game status")).to_contain_text("wins")
            bob.screenshot(path=OUT / "game.png")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
