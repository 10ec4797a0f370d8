"""Two (or three) real browsers against a real daphne process."""

import contextlib
import json
import re
import uuid

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from chat.models import HISTORY_ON_LOAD
from chat.services import RESUME_LIMIT
from realtime.testing.pages import (
    VIEWPORTS,
    connection_status,
    page_width_overflow,
    sign_in,
    sign_in_as_guest,
)
from realtime.testing.servers import DaphneServer, RedisServer, manage

pytestmark = pytest.mark.e2e


@pytest.fixture
def open_room(guest_page):
    """open_room(base_url, slug) -> (page, username): a new guest, in the room, connected.

    The guest opens it with the rooms page's form, which creates it the first time."""

    def open_(base_url: str, slug: str) -> tuple[Page, str]:
        page, name = guest_page(base_url)
        page.goto(f"{base_url}/chat/")
        page.get_by_label("Room name").fill(slug)
        page.get_by_role("button", name="Open room").click()
        expect(page.get_by_role("heading", name=f"#{slug}")).to_be_visible()
        expect(connection_status(page)).to_have_text("Live")
        return page, name

    return open_


@pytest.fixture
def server_on_own_redis(server_env, tmp_path):
    """(redis, server, env): daphne on the core layer of a Redis of its own, which the
    test may stop and start; the server notices an outage within a second."""
    redis = RedisServer(tmp_path / "redis.log")
    redis.start()
    env = {
        **server_env,
        "REDIS_URL": redis.url,
        "REDIS_CHANNEL_LAYER": "core",
        "REALTIME_KEEPALIVE_SECONDS": "1",
    }
    server = DaphneServer(env, tmp_path / "daphne.log")
    server.start()
    yield redis, server, env
    server.stop()
    redis.stop()


def open_room_as_staff(browser, base_url: str, slug: str, staff_user, **context) -> Page:
    """A staff user's page in a new room (created on the way), connected."""
    page = browser.new_context(**context).new_page()
    sign_in(page, base_url, *staff_user)
    page.goto(f"{base_url}/chat/{slug}/")
    page.get_by_role("button", name=f"Create #{slug}").click()
    expect(connection_status(page)).to_have_text("Live")
    return page


def new_slug() -> str:
    return f"room-{uuid.uuid4().hex[:8]}"


def send(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()


def talk_while_away(speaker: Page, away: Page, texts: list[str]) -> None:
    """`away` has lost its connection; `speaker` says each of `texts` meanwhile."""
    expect(connection_status(away)).to_have_text("Offline, reconnecting…")
    for text in texts:
        send(speaker, text)
        expect(messages(speaker).filter(has_text=text)).to_have_count(1)


def expect_caught_up(page: Page, texts: list[str]) -> None:
    """`page` is back online and shows each of `texts` once."""
    expect(connection_status(page)).to_have_text("Live", timeout=20_000)
    for text in texts:
        expect(messages(page).filter(has_text=text)).to_have_count(1)


def messages(page: Page):
    return page.get_by_role("log", name="Messages").get_by_role("listitem")


def stored(env: dict[str, str], text: str) -> int:
    """How many messages with this text the servers' database holds."""
    query = f"from chat.models import Message; print(Message.objects.filter(text={text!r}).count())"
    return int(manage(env, "shell", "-v", "0", "-c", query).stdout)


def people(page: Page):
    return page.get_by_role("list", name="Here now").get_by_role("listitem")


def test_two_users_chat_live_and_another_room_sees_nothing(daphne_server, open_room):
    slug = new_slug()
    alice, alice_name = open_room(daphne_server.url, slug)
    bob, bob_name = open_room(daphne_server.url, slug)
    carol, _ = open_room(daphne_server.url, new_slug())

    send(alice, "Hi Bob!")
    expect(messages(bob).filter(has_text="Hi Bob!")).to_contain_text(alice_name)
    send(bob, "Hi Alice!")
    expect(messages(alice).filter(has_text="Hi Alice!")).to_contain_text(bob_name)

    send(carol, "Anyone here?")
    expect(messages(carol).filter(has_text="Anyone here?")).to_have_count(1)
    expect(messages(carol).filter(has_text="Hi Bob!")).to_have_count(0)
    expect(messages(alice).filter(has_text="Anyone here?")).to_have_count(0)


def test_history_survives_a_reload_oldest_first(daphne_server, open_room):
    slug = new_slug()
    alice, _ = open_room(daphne_server.url, slug)
    for text in ("first", "second", "third"):
        send(alice, text)
        expect(messages(alice).filter(has_text=text)).to_have_count(1)
    alice.reload()
    expect(connection_status(alice)).to_have_text("Live")
    texts = [text for text in messages(alice).all_inner_texts() if "opened #" not in text]
    assert [t.splitlines()[-1] for t in texts] == ["first", "second", "third"]


def test_html_in_a_message_shows_as_text(daphne_server, open_room):
    slug = new_slug()
    alice, _ = open_room(daphne_server.url, slug)
    bob, _ = open_room(daphne_server.url, slug)
    payload = '<img src=x onerror="window.hacked=1"><script>window.hacked=1</script><b>bold</b>'
    send(alice, payload)
    expect(messages(bob).filter(has_text=payload)).to_have_count(1)
    bob.reload()  # the server-rendered history escapes too
    expect(messages(bob).filter(has_text=payload)).to_have_count(1)
    assert bob.evaluate("window.hacked") is None
    assert alice.evaluate("window.hacked") is None


def test_presence_and_typing(daphne_server, open_room):
    slug = new_slug()
    alice, alice_name = open_room(daphne_server.url, slug)
    bob, bob_name = open_room(daphne_server.url, slug)
    everyone = sorted([alice_name, bob_name])  # the list is alphabetical
    expect(people(alice)).to_have_text(
        [f"{name} (you)" if name == alice_name else name for name in everyone]
    )

    bob.get_by_role("textbox", name="Message").press_sequentially("typing away")
    expect(alice.get_by_text(f"{bob_name} is typing…")).to_be_visible()

    bob.close()
    expect(people(alice)).to_have_text([f"{alice_name} (you)"])


def test_room_list_shows_live_member_counts(daphne_server, open_room):
    slug = new_slug()
    watcher, _ = open_room(daphne_server.url, new_slug())
    watcher.goto(f"{daphne_server.url}/chat/")
    expect(connection_status(watcher)).to_have_text("Live")
    alice, _ = open_room(daphne_server.url, slug)
    room_row = (
        watcher.get_by_role("list", name="All rooms")
        .get_by_role("listitem")
        .filter(has_text=f"#{slug}")
    )
    expect(room_row).to_contain_text("1 here")
    alice.close()
    expect(room_row).to_contain_text("0 here")


def test_a_dropped_browser_gets_every_missed_message_once(daphne_server, flaky_proxy, open_room):
    slug = new_slug()
    alice, _ = open_room(daphne_server.url, slug)
    bob, _ = open_room(flaky_proxy.url, slug)  # Bob's network goes through the proxy

    send(alice, "before the drop")
    expect(messages(bob).filter(has_text="before the drop")).to_have_count(1)

    flaky_proxy.cut()
    missed = [f"missed {n}" for n in range(1, 6)]
    talk_while_away(alice, bob, missed)
    flaky_proxy.restore()

    expect_caught_up(bob, missed)
    send(alice, "after the drop")
    expect(messages(bob).filter(has_text="after the drop")).to_have_count(1)
    expect(messages(bob)).to_have_count(1 + 1 + len(missed) + 1)  # + the "opened" line


def test_a_message_deleted_while_a_browser_was_away_is_gone_when_it_is_back(
    daphne_server, flaky_proxy, open_room, browser, staff_user
):
    slug = new_slug()
    moderator = open_room_as_staff(browser, daphne_server.url, slug, staff_user)
    bob, bob_name = open_room(flaky_proxy.url, slug)  # Bob's network goes through the proxy
    send(bob, "an unwelcome message")
    for page in (moderator, bob):
        expect(messages(page).filter(has_text="an unwelcome message")).to_have_count(1)

    flaky_proxy.cut()
    expect(connection_status(bob)).to_have_text("Offline, reconnecting…")
    unwelcome = messages(moderator).filter(has_text="an unwelcome message")
    unwelcome.get_by_role("button", name=f"Delete message from {bob_name}").click()
    expect(unwelcome).to_have_count(0)
    flaky_proxy.restore()

    expect(connection_status(bob)).to_have_text("Live", timeout=20_000)
    expect(messages(bob).filter(has_text="an unwelcome message")).to_have_count(0)


@pytest.mark.parametrize("size", VIEWPORTS)
def test_a_moderators_delete_button_sits_on_the_authors_line(
    daphne_server, browser, staff_user, size
):
    """Not under the name, where it pushed the time away from it."""
    slug = new_slug()
    moderator = open_room_as_staff(browser, daphne_server.url, slug, staff_user, **VIEWPORTS[size])
    send(moderator, "a message to moderate")
    message = messages(moderator).filter(has_text="a message to moderate")
    delete = message.get_by_role("button", name=re.compile("^Delete message from"))
    expect(delete).to_be_visible()

    author = message.locator(".message__author").bounding_box()
    time = message.locator("time").bounding_box()
    button = delete.bounding_box()
    text = message.get_by_text("a message to moderate").bounding_box()
    assert time["x"] - (author["x"] + author["width"]) < 16  # the time follows the name
    assert button["y"] < text["y"]  # on the name's line, above the text
    assert button["x"] > time["x"] + time["width"]
    assert page_width_overflow(moderator) <= 0


def test_a_browser_that_missed_too_much_shows_the_recent_history_instead(
    daphne_server, server_env, flaky_proxy, open_room
):
    slug = new_slug()
    bob, _ = open_room(flaky_proxy.url, slug)
    send(bob, "before the drop")
    expect(messages(bob).filter(has_text="before the drop")).to_have_count(1)
    expect(messages(bob).filter(has_text="Sending…")).to_have_count(0)  # stored

    flaky_proxy.cut()
    expect(connection_status(bob)).to_have_text("Offline, reconnecting…")
    send(bob, "typed while offline")
    missed = RESUME_LIMIT + 1  # one more than a reconnect streams
    store = (  # straight into the server's database: no one is told live
        "from chat.models import Message, Room\n"
        f"room = Room.objects.get(slug={slug!r})\n"
        "Message.objects.bulk_create(\n"
        f"    Message(room=room, text='missed ' + str(n)) for n in range({missed})\n"
        ")\n"
    )
    manage(server_env, "shell", "-c", store)
    flaky_proxy.restore()

    expect(connection_status(bob)).to_have_text("Live", timeout=20_000)
    # What a reload shows: the recent messages, each once, then the one Bob typed.
    expect(messages(bob)).to_have_count(HISTORY_ON_LOAD + 1)
    expect(messages(bob).last).to_contain_text("typed while offline")
    expect(messages(bob).filter(has_text="Sending…")).to_have_count(0)
    expect(messages(bob).filter(has_text=f"missed {missed - 1}")).to_have_count(1)
    expect(messages(bob).filter(has_text=f"missed {missed - HISTORY_ON_LOAD}")).to_have_count(1)
    expect(messages(bob).filter(has_text="before the drop")).to_have_count(0)


def test_a_page_that_missed_a_push_catches_up_at_the_next_one(daphne_server, server_env, open_room):
    """An overloaded channel layer drops messages; they are stored. The next push
    names the message before it, and a page without that one catches up."""
    slug = new_slug()
    alice, _ = open_room(daphne_server.url, slug)
    bob, _ = open_room(daphne_server.url, slug)
    send(alice, "before the drop")
    expect(messages(bob).filter(has_text="before the drop")).to_have_count(1)
    store = (  # straight into the server's database: no one is told live
        "from chat.models import Message, Room\n"
        f"Message.objects.create(room=Room.objects.get(slug={slug!r}), text='dropped')\n"
    )
    manage(server_env, "shell", "-c", store)
    send(alice, "after the drop")
    for page in (alice, bob):
        texts = ["opened #", "before the drop", "dropped", "after the drop"]
        expect(messages(page)).to_contain_text(texts)
        expect(messages(page)).to_have_count(len(texts))
        expect(connection_status(page)).to_have_text("Live")


def test_chat_across_two_server_processes(redis_daphne_servers, open_room):
    first, second = redis_daphne_servers
    slug = new_slug()
    alice, alice_name = open_room(first.url, slug)
    bob, bob_name = open_room(second.url, slug)
    expect(people(alice)).to_have_count(2)
    send(alice, "from process one")
    expect(messages(bob).filter(has_text="from process one")).to_contain_text(alice_name)
    send(bob, "from process two")
    expect(messages(alice).filter(has_text="from process two")).to_contain_text(bob_name)


def test_a_server_restart_loses_nothing(redis_daphne_servers, open_room):
    first, second = redis_daphne_servers
    slug = new_slug()
    alice, _ = open_room(first.url, slug)
    bob, _ = open_room(second.url, slug)

    second.stop()  # Bob's server goes down; Alice's stays up and she keeps talking
    during = [f"while it was down {n}" for n in range(3)]
    talk_while_away(alice, bob, during)
    second.start()

    expect_caught_up(bob, during)
    send(alice, "after the restart")
    expect(messages(bob).filter(has_text="after the restart")).to_have_count(1)


def test_a_redis_restart_recovers_without_restarting_daphne(server_on_own_redis, open_room):
    redis, server, _ = server_on_own_redis
    slug = new_slug()
    alice, _ = open_room(server.url, slug)
    bob, _ = open_room(server.url, slug)

    redis.stop()
    # The sockets' consumers lose the layer and close; the pages say so. A
    # message sent now waits in the page, marked "Sending…", for the way back.
    for page in (alice, bob):
        expect(connection_status(page)).to_have_text("Offline, reconnecting…")
    send(alice, "during the outage")
    expect(messages(alice).filter(has_text="during the outage")).to_contain_text("Sending…")
    redis.start()

    for page in (alice, bob):
        expect(connection_status(page)).to_have_text("Live", timeout=20_000)
    for page in (alice, bob):
        expect(messages(page).filter(has_text="during the outage")).to_have_count(1)
    expect(alice.get_by_text("Sending…")).to_have_count(0)
    send(alice, "after recovery")
    expect(messages(bob).filter(has_text="after recovery")).to_have_count(1)


def test_moderation_works_live_across_two_server_processes(
    redis_daphne_servers, redis_server_env, open_room, browser, staff_user
):
    first, second = redis_daphne_servers
    slug = new_slug()
    moderator = open_room_as_staff(browser, first.url, slug, staff_user)
    bob, bob_name = open_room(second.url, slug)
    carol, carol_name = open_room(second.url, slug)

    send(carol, "an unwelcome message")
    for page in (moderator, bob, carol):
        expect(messages(page).filter(has_text="an unwelcome message")).to_have_count(1)
    expect(carol.get_by_role("button", name=re.compile("^(Delete|Remove)"))).to_have_count(0)
    unwelcome = messages(moderator).filter(has_text="an unwelcome message")
    unwelcome.get_by_role("button", name=f"Delete message from {carol_name}").click()
    for page in (moderator, bob, carol):
        expect(messages(page).filter(has_text="an unwelcome message")).to_have_count(0)

    moderator.get_by_role("button", name=f"Remove {bob_name} from the room").click()
    expect(connection_status(bob)).to_have_text("Removed from this room")
    expect(bob.get_by_text("A moderator removed you from this room.")).to_be_visible()
    expect(bob.get_by_role("textbox", name="Message")).to_be_disabled()
    expect(messages(carol).filter(has_text=f"{bob_name} was removed")).to_have_count(1)
    expect(people(carol).filter(has_text=bob_name)).to_have_count(0)
    assert bob.reload().status == 403  # and the page stays closed to them
    assert stored(redis_server_env, "an unwelcome message") == 0


def test_logging_out_closes_the_users_sockets_in_every_process(
    redis_daphne_servers, redis_server_env, open_room
):
    first, second = redis_daphne_servers
    slug = new_slug()
    watcher, _ = open_room(first.url, slug)
    alice, alice_name = open_room(second.url, slug)  # her room tab is served by process two
    expect(people(watcher).filter(has_text=alice_name)).to_have_count(1)

    other_tab = alice.context.new_page()  # same browser, same session cookie
    other_tab.goto(f"{first.url}/")
    other_tab.get_by_role("button", name="Log out").click()  # handled by process one

    expect(connection_status(alice)).to_have_text("Offline, reconnecting…")
    expect(people(watcher).filter(has_text=alice_name)).to_have_count(0)
    send(alice, "typed after logging out")
    expect(messages(alice).filter(has_text="typed after logging out")).to_contain_text("Sending…")
    alice.wait_for_timeout(3000)  # a few refused reconnects
    expect(messages(watcher).filter(has_text="typed after logging out")).to_have_count(0)
    assert stored(redis_server_env, "typed after logging out") == 0


def test_a_tab_left_open_across_a_log_out_never_speaks_for_the_next_user(
    daphne_server, server_env, open_room
):
    slug = new_slug()
    room, _ = open_room(daphne_server.url, slug)
    other_tab = room.context.new_page()  # same browser, same session cookie
    other_tab.goto(f"{daphne_server.url}/")
    other_tab.get_by_role("button", name="Log out").click()
    expect(connection_status(room)).to_have_text("Offline, reconnecting…")
    send(room, "typed before someone else signed in")

    sign_in_as_guest(other_tab, daphne_server.url)  # someone else, in the same browser
    expect(connection_status(room)).to_have_text(
        "Signed in as someone else: reload the page", timeout=20_000
    )
    room.reload()  # now the new user's page, without the old user's pending message
    expect(connection_status(room)).to_have_text("Live")
    expect(room.get_by_text("Sending…")).to_have_count(0)
    assert stored(server_env, "typed before someone else signed in") == 0


def stored_texts(env: dict, slug: str) -> list[str]:
    """The texts of the messages users stored in room `slug`, read from the servers' database."""
    script = (
        "import json; from chat.models import Message; print(json.dumps(list(Message.objects"
        f".filter(room__slug={slug!r}, author__isnull=False).values_list('text', flat=True))))"
    )
    return json.loads(manage(env, "shell", "-v", "0", "-c", script).stdout)


def test_nothing_typed_is_lost_across_restarts_a_reload_and_a_redis_outage(
    server_on_own_redis, open_room
):
    redis, server, env = server_on_own_redis
    slug = new_slug()
    alice, _ = open_room(server.url, slug)
    bob, _ = open_room(server.url, slug)

    # 30 messages typed while the server is down, more than one burst of the
    # rate limit; then the page is reloaded before the server is back.
    server.stop()
    expect(connection_status(alice)).to_have_text("Offline, reconnecting…")
    offline = [f"offline #{n:02d}." for n in range(30)]
    for text in offline:
        send(alice, text)
    expect(alice.get_by_text("Sending…")).to_have_count(len(offline))
    with contextlib.suppress(PlaywrightError):  # nothing answers: the browser's error page
        alice.reload()
    server.start()
    alice.goto(f"{server.url}/chat/{slug}/")
    expect(connection_status(alice)).to_have_text("Live", timeout=20_000)

    # Redis stops and comes back while both browsers type.
    typed = []

    def type_round(label: str) -> None:
        for n in range(5):
            for page, who in ((alice, "alice"), (bob, "bob")):
                text = f"{label} {who} #{n}."
                send(page, text)
                typed.append(text)

    type_round("before")
    redis.stop()
    type_round("during")
    redis.start()
    type_round("after")

    everything = offline + typed
    # Each browser reconnects in its own time (a backoff of up to 15 s after a run
    # of failed tries) and then sends what it holds: only then can the other have it.
    for page in (alice, bob):
        expect(connection_status(page)).to_have_text("Live", timeout=20_000)
        expect(page.get_by_text("Sending…")).to_have_count(0, timeout=30_000)
    for page in (alice, bob):
        for text in everything:
            expect(messages(page).filter(has_text=text)).to_have_count(1)
    assert sorted(stored_texts(env, slug)) == sorted(everything)  # each exactly once


def test_users_of_a_killed_server_process_leave_here_now(server_env, open_room, tmp_path):
    redis = RedisServer(tmp_path / "redis.log")
    redis.start()
    ttl = 4  # seconds; presence rows are refreshed every keep-alive (1 s) past a third of it
    env = {
        **server_env,
        "REDIS_URL": redis.url,
        "REALTIME_KEEPALIVE_SECONDS": "1",
        "REALTIME_PRESENCE_TTL_SECONDS": str(ttl),
    }
    survivor, doomed = (DaphneServer(env, tmp_path / f"daphne-{n}.log") for n in (1, 2))
    survivor.start()
    doomed.start()
    try:
        slug = new_slug()
        alice, alice_name = open_room(survivor.url, slug)
        bob, bob_name = open_room(doomed.url, slug)
        expect(people(alice)).to_have_count(2)

        doomed.process.kill()  # SIGKILL: no disconnect(), its presence rows stay behind
        doomed.process.wait()
        expect(connection_status(bob)).to_have_text("Offline, reconnecting…")
        # The surviving process purges the expired rows and the room is told.
        expect(people(alice)).to_have_text([f"{alice_name} (you)"], timeout=3 * ttl * 1000)
        expect(people(alice).filter(has_text=bob_name)).to_have_count(0)
    finally:
        survivor.stop()
        doomed.stop()
        redis.stop()
