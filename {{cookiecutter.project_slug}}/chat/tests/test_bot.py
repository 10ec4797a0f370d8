"""The chat bot (chat/bot.py) against real daphne processes: it signs in with a token,
answers each mention once across drops and restarts, and stops when its token is revoked."""

import asyncio
import contextlib
import json
import logging
import threading
import uuid

import pytest
from playwright.sync_api import Page, expect
from websockets.asyncio.client import connect

from chat.bot import ChatBot, Stopped, answer
from realtime.testing.contract import protocol
from realtime.testing.pages import connection_status, create_access_token
from realtime.testing.servers import DaphneServer, FlakyProxy, manage, run_async

pytestmark = pytest.mark.e2e

WAIT = 30  # seconds: generous, for a slow machine; no test passes or fails on timing


def new_slug() -> str:
    return f"bot-{uuid.uuid4().hex[:8]}"


def users_with_tokens(env: dict[str, str], slug: str) -> dict[str, tuple[str, str]]:
    """The room `slug`, and two users with a token each, in the servers' database:
    {"bot": (username, token), "human": (username, token)}."""
    code = f"""
import json, uuid
from django.contrib.auth import get_user_model
from accounts.tokens import create_token
from chat.models import Room
Room.objects.get_or_create(slug={slug!r})
made = dict()
for role in ("bot", "human"):
    user = get_user_model().objects.create_user(role + "-" + uuid.uuid4().hex[:6])
    made[role] = (user.username, create_token(user, role)[1])
print(json.dumps(made))
"""
    return json.loads(manage(env, "shell", "-v", "0", "-c", code).stdout)


class Person:
    """Someone in the room, through a token too: says things and watches for answers."""

    def __init__(self, base_url: str, slug: str, username: str, token: str) -> None:
        self.path = f"/ws/chat/{slug}/"
        self.url = f"{base_url.replace('http', 'ws', 1)}{self.path}"
        self.username = username
        self.token = token
        self.seen: dict[int, dict] = {}  # message id -> message, everything this test saw
        self.present: set[str] = set()
        self.socket = None

    async def open(self) -> None:
        """Connect, or reconnect resuming after the last message seen."""
        await self.close()  # the old one, if the server has not closed it already
        after = f"?after={max(self.seen)}" if self.seen else ""
        headers = {"Authorization": f"Bearer {self.token}"}
        self.socket = await connect(self.url + after, additional_headers=headers)

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()

    async def say(self, text: str) -> int:
        """Send `text`; return its id once the server has stored and pushed it."""
        await self.socket.send(json.dumps({"type": "chat.send", "text": text}))
        mine = await self.wait_for(lambda m: m["author"] == self.username and m["text"] == text)
        return mine["id"]

    async def wait_for(self, wanted) -> dict:
        """The first message (seen already, or arriving) for which wanted(message) is true."""
        async with asyncio.timeout(WAIT):
            while True:
                for message in self.seen.values():
                    if wanted(message):
                        return message
                await self._read()

    async def wait_for_answer(self, mention: int) -> dict:
        """The bot's answer to message `mention`."""
        return await self.wait_for(lambda m: m["text"] == answer(self.seen[mention]))

    async def wait_until_present(self, username: str) -> None:
        async with asyncio.timeout(WAIT):
            while username not in self.present:
                await self._read()

    async def _read(self) -> None:
        frame = json.loads(await self.socket.recv())
        protocol().check(self.path, "send", frame)
        if frame["type"] == "chat.history":
            self.seen.update((m["id"], m) for m in frame["messages"])
        elif frame["type"] == "chat.message":
            self.seen[frame["message"]["id"]] = frame["message"]
        elif frame["type"] == "chat.presence":
            self.present = set(frame["members"])
        elif frame["type"] == "chat.presence_changed":
            self.present = (self.present | set(frame["joined"])) - set(frame["left"])


def test_the_bot_answers_each_mention_once_across_a_drop_and_a_server_restart(
    server_env, tmp_path, caplog, monkeypatch
):
    caplog.set_level(logging.INFO, logger="chat.bot")
    # Its backoff grows to 30 s while its network is cut; 2 s proves the same, sooner.
    monkeypatch.setattr("chat.bot.MAX_BACKOFF_SECONDS", 2.0)
    server = DaphneServer(server_env, tmp_path / "daphne.log")
    server.start()
    proxy = FlakyProxy(server.port)  # the bot's network, which the test can cut
    slug = new_slug()
    made = users_with_tokens(server_env, slug)
    (bot_name, bot_token), (human_name, human_token) = made["bot"], made["human"]
    human = Person(server.url, slug, human_name, human_token)
    bot = ChatBot(proxy.url, slug, bot_token, bot_name)
    try:
        first, second, third = run_async(talk_to(bot, human, server, proxy))
    finally:
        proxy.close()
        server.stop()

    mentions = [first, second, third]
    logged = [record.getMessage() for record in caplog.records if record.name == "chat.bot"]
    connects = [line.rsplit("/", 1)[1] for line in logged if line.startswith("connected to")]
    assert connects[0] == ""  # the first time, the recent history (not answered)
    resumed = [int(query.removeprefix("?after=")) for query in connects[1:]]
    assert resumed and all(after >= first for after in resumed)  # then only what it missed
    answered = [line for line in logged if line.startswith("answered")]
    assert answered == [f"answered message {id_} from {human_name}" for id_ in mentions]
    answers = [m["text"] for _, m in sorted(human.seen.items()) if m["author"] == bot_name]
    assert answers == [answer(human.seen[id_]) for id_ in mentions]  # each once, in order


async def talk_to(bot: ChatBot, human: Person, server: DaphneServer, proxy: FlakyProxy):
    """Mention the bot three times: once, while its network is cut, and after a server
    restart; return the three mentions' ids once each has been answered."""
    running = asyncio.create_task(bot.run())
    try:
        await human.open()
        await human.wait_until_present(bot.username)  # in the room: what follows is new to it
        first = await human.say(f"@{bot.username} one")
        await human.wait_for_answer(first)

        # The bot's network drops; it is mentioned while away, and meanwhile the
        # server restarts: it resumes after the last id it saw and answers both.
        proxy.cut()
        second = await human.say(f"@{bot.username} two, while you are away")
        await asyncio.to_thread(server.restart)
        await human.open()
        third = await human.say(f"@{bot.username} three, after a restart")
        proxy.restore()
        await human.wait_for_answer(second)
        await human.wait_for_answer(third)
        return first, second, third
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await human.close()


@pytest.fixture
def bot_thread():
    """bot_thread(bot) -> thread: the bot runs in a thread of its own (the test's thread
    runs Playwright); thread.stopped is the Stopped it ended with. Cancelled after the test."""
    started = []

    def start(bot: ChatBot) -> threading.Thread:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=run, args=(loop, bot), daemon=True)
        thread.loop, thread.stopped = loop, None
        started.append(thread)
        thread.start()
        return thread

    def run(loop: asyncio.AbstractEventLoop, bot: ChatBot) -> None:
        thread = threading.current_thread()
        thread.task = loop.create_task(bot.run())
        try:
            loop.run_until_complete(thread.task)
        except Stopped as stop:
            thread.stopped = stop
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    yield start
    for thread in started:
        if thread.is_alive():
            thread.loop.call_soon_threadsafe(thread.task.cancel)
            thread.join(timeout=WAIT)


def person_in_room(guest_page, base_url: str, slug: str) -> tuple[Page, str]:
    page, name = guest_page(base_url)
    page.goto(f"{base_url}/chat/")
    page.get_by_label("Room name").fill(slug)
    page.get_by_role("button", name="Open room").click()
    expect(connection_status(page)).to_have_text("Live")
    return page, name


def revoking_on_the_page_stops_the_bot(guest_page, bot_thread, bot_server, page_server):
    """A guest makes a token on the page of `page_server` and runs the bot with it on
    `bot_server`; someone in the room talks to it; the guest revokes the token."""
    owner, owner_name = guest_page(page_server.url)
    token = create_access_token(owner, page_server.url, "chat bot")
    slug = new_slug()
    person, person_name = person_in_room(guest_page, bot_server.url, slug)
    here_now = person.get_by_role("list", name="Here now").get_by_role("listitem")
    bot = bot_thread(ChatBot(bot_server.url, slug, token, owner_name))
    expect(here_now.filter(has_text=owner_name)).to_have_count(1)  # the bot is in

    person.get_by_role("textbox", name="Message").fill(f"hello @{owner_name}")
    person.get_by_role("button", name="Send").click()
    log = person.get_by_role("log", name="Messages").get_by_role("listitem")
    expect(log.filter(has_text=f"{person_name}: got your message #")).to_have_count(1)

    owner.get_by_role("button", name="Revoke chat bot").click()
    expect(owner.get_by_role("list", name="Notices")).to_contain_text("revoked")

    bot.join(timeout=WAIT)
    assert not bot.is_alive(), "the bot is still running after its token was revoked"
    assert str(bot.stopped) == "closed by the server (4410): the token was revoked"
    expect(here_now.filter(has_text=owner_name)).to_have_count(0)

    again = bot_thread(ChatBot(bot_server.url, slug, token, owner_name))  # no retry loop
    again.join(timeout=WAIT)
    assert not again.is_alive()
    assert "HTTP 403" in str(again.stopped)


def test_revoking_the_token_on_the_page_stops_the_bot(daphne_server, guest_page, bot_thread):
    revoking_on_the_page_stops_the_bot(guest_page, bot_thread, daphne_server, daphne_server)


def test_revoking_on_another_server_process_stops_the_bot(
    redis_daphne_servers, guest_page, bot_thread
):
    bot_server, page_server = redis_daphne_servers
    revoking_on_the_page_stops_the_bot(guest_page, bot_thread, bot_server, page_server)
