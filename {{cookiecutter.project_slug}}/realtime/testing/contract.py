"""The protocol document, enforced in the consumer tests and the browser tests.

Every communicator that `ws_connect` opens is a ContractCommunicator: each frame a test
receives from a consumer is validated against the payload the document gives that
frame type at that URL, and each close code must be one the document lists there. An
undocumented type, a missing, extra or wrongly typed field, or an unknown error or
close code fails the test. `assert_accepted` proves the other way: documented inbound
frames are handled without an error frame.

In the browser tests, WATCHER (a FrameWatcher) sees every WebSocket of every browser
context the tests open (realtime/testing/fixtures.py), and checks each frame both ways:
the server's against the frames the document says it sends, the page's against the
frames it says it receives. The events of a Server-Sent Events stream (the fallback,
realtime/streams.py) are checked as frames the server sends on the socket whose frames
the stream carries (its consumer's `frames_of`). The autouse `frame_violations` fixture
fails the test.

It validates with jsonschema (Draft 7, the base of AsyncAPI's schema format) against
the document the code builds now (realtime/protocol.py); that docs/asyncapi.json
equals it is checked by realtime/tests/test_protocol.py.
"""

import collections
import functools
import json
import re
import weakref
from typing import Any
from urllib.parse import urlsplit

from channels.testing import WebsocketCommunicator
from jsonschema import Draft7Validator
from playwright.sync_api import BrowserContext, Page, WebSocket
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from realtime.protocol import address, build, channel_name

DOCUMENT_URI = "urn:asyncapi"
NORMAL_CLOSES = {None, 1000}  # a refused handshake, or an ordinary close
# Before the page's scripts: each event of each EventSource goes to the watcher too.
REPORT_STREAM_EVENTS = """(() => {
  const NativeEventSource = window.EventSource;
  window.EventSource = class extends NativeEventSource {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => window.BINDING(this.url, event.data));
    }
  };
})();"""


class Protocol:
    """The document's channels, matched by URL path, with a validator per frame."""

    def __init__(self, document: dict[str, Any], streams: dict[str, str] | None = None) -> None:
        """`streams`: the address of each Server-Sent Events stream -> the channel whose
        frames it carries (one way: only those the server sends)."""
        resource = Resource.from_contents(document, default_specification=DRAFT7)
        registry = Registry().with_resource(DOCUMENT_URI, resource)
        self.channels = []  # (path regex, name, {"send.<type>": validator}, close codes)
        for name, channel in document["channels"].items():
            validators = {
                key: Draft7Validator(
                    {"$ref": f"{DOCUMENT_URI}#/channels/{name}/messages/{key}/payload"},
                    registry=registry,
                )
                for key in channel["messages"]
            }
            codes = {int(code) for code in channel["x-close-codes"]}
            self.channels.append((path_regex(channel["address"]), name, validators, codes))
        for stream, name in (streams or {}).items():
            _, _, validators, _ = next(entry for entry in self.channels if entry[1] == name)
            sent = {key: check for key, check in validators.items() if key.startswith("send.")}
            self.channels.append((path_regex(stream), f"{name}, as a stream", sent, set()))

    def channel(self, path: str):
        for pattern, name, validators, codes in self.channels:
            if pattern.match(path):
                return name, validators, codes
        raise AssertionError(f"{path} is not a URL of the protocol document")

    def check(self, path: str, direction: str, frame: Any) -> None:
        """Fail unless `frame` is a documented frame of `direction` ("send": from the
        server, "receive": from the client) at `path`."""
        name, validators, _ = self.channel(path)
        kind = frame.get("type") if isinstance(frame, dict) else None
        validator = validators.get(f"{direction}.{kind}")
        if validator is None:
            prefix = f"{direction}."
            documented = [key.removeprefix(prefix) for key in validators if key.startswith(prefix)]
            raise AssertionError(
                f"{path} ({name}): {kind!r} is not a documented frame here (documented: "
                f"{', '.join(documented)}); add it to the consumer's `sends` or @handles\n{frame}"
            )
        problems = [
            f"{'.'.join(map(str, error.absolute_path)) or 'frame'}: {error.message}"
            for error in validator.iter_errors(frame)
        ]
        if problems:
            raise AssertionError(
                f"{path}: {kind} frame does not match the protocol document: "
                f"{'; '.join(problems)}\n{frame}"
            )

    def check_close(self, path: str, code: int | None) -> None:
        if code not in NORMAL_CLOSES and code not in self.channel(path)[2]:
            raise AssertionError(f"{path} closed with code {code}, which is not documented")

    def inbound_types(self, app: str) -> set[str]:
        """The inbound frame types documented for the app's URLs."""
        return {
            key.removeprefix("receive.")
            for _, name, validators, _ in self.channels
            if name.startswith(f"{app}.")
            for key in validators
            if key.startswith("receive.")
        }


def path_regex(address: str) -> re.Pattern:
    """/ws/chat/{slug}/ -> a regex that matches its paths."""
    return re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(address)) + "$")


def event_streams() -> dict[str, str]:
    """The address of each Server-Sent Events stream routed now -> the channel whose
    frames it carries (its consumer's `frames_of`)."""
    from config.routing import http_urlpatterns

    streams = {}
    for pattern in http_urlpatterns:
        app = pattern.callback
        while hasattr(app, "inner"):  # AuthMiddlewareStack's layers
            app = app.inner
        if socket := getattr(getattr(app, "consumer_class", None), "frames_of", None):
            streams[address(str(pattern.pattern))] = channel_name(socket)
    return streams


@functools.cache
def protocol() -> Protocol:
    return Protocol(build(), event_streams())


class ContractCommunicator(WebsocketCommunicator):
    """A WebsocketCommunicator whose every received frame and close is checked."""

    async def receive_output(self, timeout: float = 1) -> dict:
        message = await super().receive_output(timeout)
        path = self.scope["path"]
        if message["type"] == "websocket.send" and message.get("text") is not None:
            protocol().check(path, "send", json.loads(message["text"]))
        elif message["type"] == "websocket.close":
            protocol().check_close(path, message.get("code"))
        return message


class FrameWatcher:
    """Checks every WebSocket frame of the pages of the browser contexts it watches.

    Playwright hands over frames while the test is inside one of its calls, or closing
    the context: they are checked and the problems collected here, for the test's
    teardown to report. Every frame of this protocol is a JSON text message (client.js
    sends nothing else; WebSocket pings and pongs are control frames the page never
    sees), so a binary or non-JSON frame is a violation too. An EventSource's events
    come through a function the context exposes to its pages.
    """

    def __init__(self, against: Protocol | None = None) -> None:
        self.against = against  # None: the document the code builds now
        self.violations: list[str] = []
        self.checked: collections.Counter[str] = collections.Counter()  # frames, by direction
        self._pages: weakref.WeakSet[Page] = weakref.WeakSet()

    def watch(self, context: BrowserContext) -> None:
        """Its pages now and later (tabs, popups) are watched."""
        binding = f"reportStreamEvent{id(self)}"  # each watcher its own
        context.expose_function(binding, lambda url, data: self.check(url, "send", data))
        context.add_init_script(REPORT_STREAM_EVENTS.replace("BINDING", binding))
        context.on("page", self.watch_page)
        for page in context.pages:
            self.watch_page(page)

    def watch_page(self, page: Page) -> None:
        if page not in self._pages:
            self._pages.add(page)
            page.on("websocket", self.watch_socket)

    def watch_socket(self, socket: WebSocket) -> None:
        # In the document's words: the server sends, the server receives.
        socket.on("framereceived", lambda payload: self.check(socket.url, "send", payload))
        socket.on("framesent", lambda payload: self.check(socket.url, "receive", payload))

    def check(self, url: str, direction: str, payload: str | bytes) -> None:
        self.checked[direction] += 1
        try:
            if not isinstance(payload, str):
                raise AssertionError(f"a binary frame, not JSON text\n{payload[:500]!r}")
            try:
                frame = json.loads(payload)
            except ValueError:
                raise AssertionError(f"a text frame that is not JSON\n{payload[:500]!r}") from None
            (self.against or protocol()).check(urlsplit(url).path, direction, frame)
        except AssertionError as error:
            way = "server to browser" if direction == "send" else "browser to server"
            self.violations.append(f"{url}, {way}: {error}")


WATCHER = FrameWatcher()


async def assert_accepted(communicator: WebsocketCommunicator, frames: list[dict]) -> None:
    """Send each frame (a documented inbound one), and prove none got an error frame.

    A consumer handles its frames in order, so a probe of an unknown type sent last is
    answered after every one of them: the first error frame must be the probe's.
    """
    for frame in frames:
        protocol().check(communicator.scope["path"], "receive", frame)
        await communicator.send_json_to(frame)
    await communicator.send_json_to({"type": "contract.probe"})
    while (reply := await communicator.receive_json_from(timeout=5))["type"] != "error":
        pass
    if reply["about"] != "contract.probe":
        raise AssertionError(f"a documented frame was refused: {reply}")
