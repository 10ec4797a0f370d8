"""The protocol document, enforced in the consumer tests.

Every communicator that `ws_connect` opens is a ContractCommunicator: each frame a test
receives from a consumer is validated against the payload the document gives that
frame type at that URL, and each close code must be one the document lists there. An
undocumented type, a missing, extra or wrongly typed field, or an unknown error or
close code fails the test. `assert_accepted` proves the other way: documented inbound
frames are handled without an error frame.

It validates with jsonschema (Draft 7, the base of AsyncAPI's schema format) against
the document the code builds now (realtime/protocol.py); that docs/asyncapi.json
equals it is checked by realtime/tests/test_protocol.py.
"""

import functools
import json
import re
from typing import Any

from channels.testing import WebsocketCommunicator
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from realtime.protocol import build

DOCUMENT_URI = "urn:asyncapi"
NORMAL_CLOSES = {None, 1000}  # a refused handshake, or an ordinary close


class Protocol:
    """The document's channels, matched by URL path, with a validator per frame."""

    def __init__(self, document: dict[str, Any]) -> None:
        resource = Resource.from_contents(document, default_specification=DRAFT7)
        registry = Registry().with_resource(DOCUMENT_URI, resource)
        self.channels = []  # (path regex, name, {"send.<type>": validator}, close codes)
        for name, channel in document["channels"].items():
            address = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(channel["address"]))
            validators = {
                key: Draft7Validator(
                    {"$ref": f"{DOCUMENT_URI}#/channels/{name}/messages/{key}/payload"},
                    registry=registry,
                )
                for key in channel["messages"]
            }
            codes = {int(code) for code in channel["x-close-codes"]}
            self.channels.append((re.compile(f"{address}$"), name, validators, codes))

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
                f"{', '.join(documented)}); add it to the consumer's `sends` or @handles"
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


@functools.cache
def protocol() -> Protocol:
    return Protocol(build())


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
