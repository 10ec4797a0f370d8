"""The WebSocket protocol as an AsyncAPI 3.0 document, built from the code that serves it.

Every URL routed in config/routing.py whose consumer is a RealtimeConsumer is a channel;
its inbound frames are its @handles models, its outbound ones its `sends` (the error
frame included), its close codes CLOSE_CODES and its `closes`. `manage.py asyncapi`
writes the document to docs/asyncapi.json; the tests check that file is up to date and
every frame a consumer sends in them against it (realtime/testing/contract.py).

Keys start with the app's name (channels `chat.room`, schemas `chat.ChatMessage`): the
template's post-generation hook removes a switched-off app from the shipped document
by them.
"""

import inspect
import json
import re
from typing import Any

from django.conf import settings
from django.urls import URLPattern
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from .consumers import CLOSE_CODES, RealtimeConsumer
from .envelope import Outbound

DOCUMENT = settings.BASE_DIR / "docs" / "asyncapi.json"
INTRO = """\
Every frame is a JSON text message: an object whose `type` names it, with its fields \
beside it. A frame the server cannot act on gets an `error` frame back (its `about` is \
the refused frame's type) and the connection stays open.

The handshake needs the session cookie of a signed-in user and this site's `Origin`, \
or, for programs, a personal access token in an `Authorization: Bearer <token>` header \
(no cookie or `Origin` is read then). A browser page adds `?user=<its user's id>`. \
It is refused (HTTP 403) for an anonymous user, another origin, a wrong or revoked \
token, a path that is not listed here, or a path naming what does not exist or is \
closed to the user (a room, a game)."""
CONVERTERS = {"slug": "a slug: letters, digits, - and _", "id": "a positive id"}
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


class _Schemas(GenerateJsonSchema):
    """pydantic's JSON Schema without a title on every field (the name says it)."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def build() -> dict[str, Any]:
    """The document for the URLs this project routes now."""
    from config.routing import websocket_urlpatterns

    channels, operations, schemas = {}, {}, {}
    for pattern in websocket_urlpatterns:
        consumer = getattr(pattern.callback, "consumer_class", None)
        if not isinstance(pattern, URLPattern) or not _is_realtime(consumer):
            continue  # the catch-all that refuses other paths
        app, name = consumer.__module__.split(".")[0], channel_name(consumer)
        channels[name] = _channel(str(pattern.pattern), consumer, app, schemas)
        for action, prefix, summary in (
            ("receive", "receive.", "Frames the client sends"),
            ("send", "send.", "Frames the server sends"),
        ):
            refs = [
                {"$ref": f"#/channels/{name}/messages/{key}"}
                for key in channels[name]["messages"]
                if key.startswith(prefix)
            ]
            if refs:
                operations[f"{name}.{action}"] = {
                    "action": action,
                    "channel": {"$ref": f"#/channels/{name}"},
                    "summary": summary,
                    "messages": refs,
                }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"{settings.PROJECT_NAME} WebSocket protocol",
            "version": "1",
            "description": INTRO,
        },
        "servers": {
            "development": {"host": "127.0.0.1:8000", "protocol": "ws"},
            "production": {
                "host": "{host}",
                "protocol": "wss",
                "variables": {"host": {"description": "one of ALLOWED_HOSTS"}},
            },
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas},
    }


def render(document: dict[str, Any]) -> str:
    """The document as the shipped file holds it (the post-generation hook writes the same)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def channel_name(consumer: type[RealtimeConsumer]) -> str:
    """The consumer's channel in the document: `<app>.<its name without Consumer>`."""
    app = consumer.__module__.split(".")[0]
    return f"{app}.{_snake(consumer.__name__.removesuffix('Consumer'))}"


def address(route: str) -> str:
    """A routed path as the document writes it: /ws/chat/{slug}/."""
    return "/" + PARAMETER.sub(r"{\g<name>}", route)


def _is_realtime(consumer) -> bool:
    return inspect.isclass(consumer) and issubclass(consumer, RealtimeConsumer)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _channel(route: str, consumer: type[RealtimeConsumer], app: str, schemas: dict) -> dict:
    closes = {**CLOSE_CODES, **consumer.closes}
    description = inspect.cleandoc(consumer.__doc__ or "")
    description += "\n\nClose codes after the handshake:\n" + "\n".join(
        f"- {code}: {means}" for code, means in closes.items()
    )
    messages = {}
    for message_type, (model, _method) in consumer.handlers.items():
        messages[f"receive.{message_type}"] = _message(message_type, model, app, schemas)
    for message_type, fields in consumer.sends.items():
        model = type(message_type, (Outbound,), {"__annotations__": dict(fields)})
        messages[f"send.{message_type}"] = _message(message_type, model, app, schemas)
    channel = {"address": address(route), "description": description}
    if parameters := list(PARAMETER.finditer(route)):
        channel["parameters"] = {
            match["name"]: {"description": CONVERTERS.get(match["converter"], "a path segment")}
            for match in parameters
        }
    channel["messages"] = messages
    channel["x-close-codes"] = {str(code): means for code, means in closes.items()}
    return channel


def _message(message_type: str, model: type[BaseModel], app: str, schemas: dict) -> dict:
    """One frame: {"type": message_type, ...the model's fields}, nested models in `schemas`."""
    schema = model.model_json_schema(
        ref_template="#/components/schemas/" + app + ".{model}", schema_generator=_Schemas
    )
    for name, nested in schema.pop("$defs", {}).items():
        if schemas.setdefault(f"{app}.{name}", nested) != nested:
            raise ValueError(f"two different models are named {name} in {app}")
    payload = {
        "type": "object",
        "properties": {"type": {"const": message_type}, **schema.get("properties", {})},
        "required": ["type", *schema.get("required", [])],
        "additionalProperties": False,
    }
    message = {"name": message_type, "title": message_type, "payload": payload}
    if model.__doc__:  # an Inbound model's docstring (class docstrings are not inherited)
        message["summary"] = inspect.cleandoc(model.__doc__)
    return message
