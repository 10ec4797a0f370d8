"""A chat bot that signs in with a personal access token: the model of a program that
talks to the chat without a browser. It joins one room, answers the messages that
@mention it, and when the connection drops it reconnects and resumes.

    export CHATBOT_TOKEN=rt_...    # from the site's "Access tokens" page, signed in as the bot
    python -m chat.bot http://127.0.0.1:8000 lobby --name <the token's username>

It needs Python and the `websockets` package only (no Django, nothing from this
project): copy this file to wherever the bot runs. The token is read from the
environment, never from the command line (visible in `ps` and shell histories),
and sent in the handshake's Authorization header, never in the URL (URLs end up
in access logs).

Each message is answered at most once: the bot remembers the last message id it
has seen, reconnects with ?after=<that id> and so gets only what it missed, and
the nonce of each answer is derived from the id it answers, so a resent answer
is stored once by the server. It stops for good, with a message, when the server
will not take it back: the token revoked, the room gone or the bot removed from it.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import re
import sys
import uuid
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

logger = logging.getLogger("chat.bot")

# The server's close codes (realtime/sessions.py, chat/services.py) after which a
# reconnect cannot succeed. Any other close (a restart, a logout elsewhere, a
# network drop) is followed by a reconnect with resume.
FINAL_CLOSE_CODES = {
    4410: "the token was revoked",
    4403: "a moderator removed the bot from the room",
}
MAX_BACKOFF_SECONDS = 30.0
MAX_MESSAGE_LENGTH = 2000  # chat/models.py


class Stopped(Exception):
    """The server will not take this bot back: reconnecting cannot help."""


def mentions(text: str, username: str) -> bool:
    """Whether `text` @mentions `username` (the chat's own rule, chat/services.py MENTION)."""
    names = re.findall(r"(?<![\w@])@([\w.@+-]+)", text)
    return username in (name.rstrip(".-+@") for name in names)


def answer(message: dict) -> str:
    """The bot's reply: change this. It names the author without an @, so two bots
    answering each other's mentions cannot start an endless conversation."""
    return f"{message['author']}: got your message #{message['id']}."[:MAX_MESSAGE_LENGTH]


class ChatBot:
    def __init__(self, base_url: str, room: str, token: str, username: str) -> None:
        parts = urlsplit(base_url)
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        self.room_url = f"{scheme}://{parts.netloc}/ws/chat/{room}/"
        self.token = token
        self.username = username
        # The last message id seen; None until the first history frame: what was
        # said before the bot first joined is not answered.
        self.last_id: int | None = None
        # Answer nonces are fixed per room and message id (see the module's docstring).
        self._nonces = uuid.uuid5(uuid.NAMESPACE_URL, self.room_url)
        self.live = False

    async def run(self) -> None:
        """Stay in the room until Stopped is raised; reconnect with backoff otherwise."""
        backoff = 1.0
        while True:
            self.live = False  # until the room's history arrives on this connection
            url = self.resume_url()
            try:
                async with connect(
                    url,
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    open_timeout=10,
                ) as socket:
                    logger.info("connected to %s", url)
                    await self.serve(socket)
                code = socket.close_code
            except InvalidStatus as error:
                status = error.response.status_code
                if status in (401, 403):
                    raise Stopped(
                        f"the server refused the bot (HTTP {status}): the token is revoked or"
                        " wrong, or the room does not exist or the bot was removed from it"
                    ) from None
                logger.warning("handshake refused (HTTP %s), retrying", status)
                code = None
            except ConnectionClosed as error:
                code = error.rcvd.code if error.rcvd else None
            except (OSError, TimeoutError, InvalidHandshake) as error:
                # Down, restarting, or a proxy that closed the connection mid-handshake.
                logger.warning("cannot reach %s: %r", self.room_url, error)
                code = None
            if code in FINAL_CLOSE_CODES:
                raise Stopped(f"closed by the server ({code}): {FINAL_CLOSE_CODES[code]}")
            # Back off longer after each failed attempt; start again after a good connection.
            backoff = 1.0 if self.live else min(backoff * 2, MAX_BACKOFF_SECONDS)
            delay = backoff * random.uniform(0.5, 1)  # noqa: S311 - jitter, not a secret
            logger.info("disconnected (code %s), reconnecting in %.1f s", code, delay)
            await asyncio.sleep(delay)

    def resume_url(self) -> str:
        return self.room_url if self.last_id is None else f"{self.room_url}?after={self.last_id}"

    async def serve(self, socket: ClientConnection) -> None:
        """Handle frames until the socket closes."""
        async for raw in socket:
            frame = json.loads(raw)
            if frame["type"] == "chat.history":
                self.live = True
                if self.last_id is None:  # first join: start from now
                    self.last_id = max((m["id"] for m in frame["messages"]), default=0)
                    continue
                for message in frame["messages"]:
                    await self.consider(socket, message)
            elif frame["type"] == "chat.message":
                await self.consider(socket, frame["message"])
            elif frame["type"] == "error":
                logger.warning("error frame: %s %s", frame["code"], frame["message"])

    async def consider(self, socket: ClientConnection, message: dict) -> None:
        """Answer `message` if it is new and mentions the bot."""
        if self.last_id is not None and message["id"] <= self.last_id:
            return  # seen already (a message can come in both the history and live)
        # Noted before answering: after a drop mid-answer the bot moves on (at most once).
        self.last_id = message["id"]
        if message["system"] or message["author"] == self.username:
            return
        if mentions(message["text"], self.username):
            nonce = uuid.uuid5(self._nonces, str(message["id"]))
            reply = {"type": "chat.send", "text": answer(message), "nonce": str(nonce)}
            await socket.send(json.dumps(reply))
            logger.info("answered message %d from %s", message["id"], message["author"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the site, e.g. https://chat.example.com")
    parser.add_argument("room", help="the room's slug (the room must exist)")
    parser.add_argument("--name", required=True, help="the username the token belongs to")
    arguments = parser.parse_args()
    token = os.environ.get("CHATBOT_TOKEN", "")
    if not token:
        sys.exit("Set CHATBOT_TOKEN to a token from the site's Access tokens page.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    bot = ChatBot(arguments.url, arguments.room, token, arguments.name)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(bot.run())
        except Stopped as stop:
            sys.exit(f"chat bot stopped: {stop}")


if __name__ == "__main__":
    main()
