"""The browser tests' frame check (realtime/testing/contract.py FrameWatcher), fed frames
by hand through the handlers it gives each socket (real pages: notifications'
test_contract_e2e.py)."""

from realtime.testing.contract import FrameWatcher, Protocol

DOCUMENT = {
    "channels": {
        "demo.room": {
            "address": "/ws/demo/{slug}/",
            "messages": {
                f"{direction}.demo.{kind}": {
                    "payload": {
                        "type": "object",
                        "properties": {
                            "type": {"const": f"demo.{kind}"},
                            "text": {"type": "string"},
                        },
                        "required": ["type", "text"],
                        "additionalProperties": False,
                    }
                }
                for direction, kind in (("send", "said"), ("receive", "say"))
            },
            "x-close-codes": {},
        }
    }
}
URL = "ws://127.0.0.1:8000/ws/demo/lobby/?user=7"


class FakeSocket:
    """What the watcher uses of Playwright's WebSocket: its URL and its events."""

    url = URL

    def __init__(self):
        self.handlers = {}

    def on(self, event, handler):
        self.handlers[event] = handler


def watched_socket() -> tuple[FrameWatcher, FakeSocket]:
    watcher, socket = FrameWatcher(against=Protocol(DOCUMENT)), FakeSocket()
    watcher.watch_socket(socket)
    return watcher, socket


def test_documented_frames_pass_both_ways():
    watcher, socket = watched_socket()
    socket.handlers["framereceived"]('{"type": "demo.said", "text": "hi"}')
    socket.handlers["framesent"]('{"type": "demo.say", "text": "hi"}')
    assert watcher.violations == []
    assert watcher.checked == {"send": 1, "receive": 1}


def test_each_kind_of_wrong_frame_is_reported_with_its_url_and_direction():
    watcher, socket = watched_socket()
    socket.handlers["framereceived"]('{"type": "demo.say", "text": "hi"}')  # the client's type
    socket.handlers["framereceived"]('{"type": "demo.said", "text": "hi", "extra": 1}')
    socket.handlers["framesent"]('{"type": "demo.say"}')
    socket.handlers["framesent"]("ping")
    socket.handlers["framesent"](b'{"type": "demo.say", "text": "hi"}')
    problems = [
        "server to browser: /ws/demo/lobby/ (demo.room): 'demo.say' is not a documented frame",
        "server to browser: /ws/demo/lobby/: demo.said frame does not match the protocol "
        "document: frame: Additional properties are not allowed ('extra' was unexpected)",
        "browser to server: /ws/demo/lobby/: demo.say frame does not match the protocol "
        "document: frame: 'text' is a required property",
        "browser to server: a text frame that is not JSON\n'ping'",
        'browser to server: a binary frame, not JSON text\nb\'{"type"',
    ]
    assert len(watcher.violations) == len(problems)
    for violation, problem in zip(watcher.violations, problems, strict=True):
        assert violation.startswith(f"{URL}, "), violation
        assert problem in violation, violation


def test_a_frame_on_a_url_the_document_does_not_list_is_reported():
    watcher, socket = FrameWatcher(against=Protocol(DOCUMENT)), FakeSocket()
    socket.url = "ws://127.0.0.1:8000/ws/elsewhere/"
    watcher.watch_socket(socket)
    socket.handlers["framereceived"]('{"type": "demo.said", "text": "hi"}')
    assert "/ws/elsewhere/ is not a URL of the protocol document" in watcher.violations[0]
