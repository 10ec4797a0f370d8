"""The protocol document (docs/asyncapi.json) says what the code does, and the README says it too.

Every frame the consumer tests receive is checked against the document as they run
(realtime/testing/contract.py); each app's test_protocol.py sends every inbound frame
it documents. These tests check what no frame shows: the shipped file is the one the
code builds, and every error and close code in the source is documented.
"""

import re

import pytest
from channels.routing import URLRouter
from django.conf import settings
from django.urls import path, re_path
from pydantic import BaseModel

import config.routing
from realtime.consumers import CLOSE_CODES, RealtimeConsumer, handles
from realtime.envelope import ERROR_CODES, Inbound
from realtime.protocol import DOCUMENT, build, render

NOT_SOURCES = {".venv", "tests", "testing", "migrations"}
SOURCES = [
    path
    for path in settings.BASE_DIR.rglob("*.py")
    if not NOT_SOURCES & set(path.relative_to(settings.BASE_DIR).parts)
]
# An error code given to ProtocolError, ModerationError or send_error, or as code="...".
RAISED_CODE = re.compile(r'(?:(?:Error|send_error)\(\s*|\bcode=)"(\w+)"')
CLOSE_CODE = re.compile(r"^[A-Z_]+ = (4\d{3})\b", re.M)  # a named close code (4000-4999)


def test_the_shipped_document_is_the_one_the_code_builds():
    shipped = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.is_file() else ""
    assert shipped == render(build()), f"{DOCUMENT} is out of date: run `make protocol`"


def test_the_document_keeps_a_project_name_as_written(settings):
    # The post-generation hook writes the name unescaped; the build must write the same.
    settings.PROJECT_NAME = "Café Chat"
    assert '"title": "Café Chat WebSocket protocol"' in render(build())


def route_first(monkeypatch, *patterns) -> None:
    """Route `patterns` before the project's own WebSocket URLs."""
    routed = [*patterns, *config.routing.websocket_urlpatterns]
    monkeypatch.setattr(config.routing, "websocket_urlpatterns", routed)


def test_a_route_that_is_not_a_realtime_consumer_is_left_out(monkeypatch):
    documented = build()["channels"]
    route_first(monkeypatch, re_path(r"^ws/other/$", URLRouter([])))  # no consumer class
    assert build()["channels"] == documented


class Point(BaseModel):
    x: int
    y: int


class Place(Inbound):
    at: Point


class LobbyRoomConsumer(RealtimeConsumer):  # no docstring
    @handles("lobby.place", Place)
    async def on_place(self, message: Place) -> None:
        pass


def test_a_new_consumer_is_documented_from_its_code(monkeypatch):
    route_first(monkeypatch, path("ws/lobby/<name>/", LobbyRoomConsumer.as_asgi()))
    document = build()
    channel = document["channels"]["realtime.lobby_room"]
    assert channel["address"] == "/ws/lobby/{name}/"
    assert channel["parameters"] == {"name": {"description": "a path segment"}}
    assert channel["description"].lstrip().startswith("Close codes after the handshake:")
    assert document["components"]["schemas"]["realtime.Point"]["required"] == ["x", "y"]


def test_two_nested_models_of_one_name_in_an_app_are_refused(monkeypatch):
    class Point(BaseModel):  # another model of the same name
        z: int

    class Mark(Inbound):
        at: Point

    class LobbyMarkConsumer(RealtimeConsumer):
        @handles("lobby.mark", Mark)
        async def on_mark(self, message: Mark) -> None:
            pass

    route_first(
        monkeypatch,
        path("ws/lobby/<name>/", LobbyRoomConsumer.as_asgi()),
        path("ws/marks/", LobbyMarkConsumer.as_asgi()),
    )
    with pytest.raises(ValueError, match=r"^two different models are named Point in realtime$"):
        build()


def test_every_error_code_in_the_source_is_documented():
    raised = {code for path in SOURCES for code in RAISED_CODE.findall(path.read_text())}
    assert "invalid_fields" in raised and "rate_limited" in raised  # the pattern finds them
    assert raised <= set(ERROR_CODES), raised - set(ERROR_CODES)


def test_every_close_code_in_the_source_is_documented():
    named = {int(code) for path in SOURCES for code in CLOSE_CODE.findall(path.read_text())}
    documented = set(CLOSE_CODES) | {
        int(code) for channel in build()["channels"].values() for code in channel["x-close-codes"]
    }
    assert set(CLOSE_CODES) <= named  # the pattern finds them
    assert named <= documented, named - documented


def test_the_readme_names_every_url_frame_error_and_close_code():
    readme = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Protocol\n", 1)[1].split("\n## ", 1)[0]
    document = build()
    names = {f"`{code}`" for code in ERROR_CODES} | {str(code) for code in CLOSE_CODES}
    for channel in document["channels"].values():
        names.add(f"`{channel['address']}`")
        names |= {f"`{message['name']}`" for message in channel["messages"].values()}
        names |= set(channel["x-close-codes"])
    missing = sorted(name for name in names if name not in section)
    assert not missing, f"the README's Protocol section does not name {missing}"
    assert "docs/asyncapi.json" in section
