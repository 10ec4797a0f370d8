"""The JSON envelope of every WebSocket frame: {"type": "<app>.<action>", ...fields}.

Inbound frames are checked here, before any consumer code runs: text only,
size-limited, valid JSON, an object with a string "type", and fields that
match the pydantic model the consumer registered for that type. Anything
else raises ProtocolError, which the base consumer turns into an error frame.

Outbound frames are described here too (`Outbound`, ERROR_CODES, ERROR_FIELDS) for the
protocol document (realtime/protocol.py) and the tests that check every frame against it.
"""

import json
from typing import Annotated, Any, Literal, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema

# The largest value of a bigint primary key (Postgres, SQLite): a larger id is
# refused as bad input before it reaches the database, which would raise on it.
MAX_ID = 2**63 - 1
RowId = Annotated[int, Field(gt=0, le=MAX_ID)]  # a field that names a row by id


class Inbound(BaseModel):
    """The fields of one inbound message type (the "type" key itself is not a field).

    strict: a string is never coerced to a number; extra="forbid": unknown
    fields are an error, so a typo in a client shows up at once.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


InboundT = TypeVar("InboundT", bound=Inbound)


class Outbound(BaseModel):
    """An object inside an outbound frame (a chat message, a game), as the code sends it.

    Only documentation and tests read it: frames are built by the code that sends them,
    and never checked at run time. extra="forbid": a field the code sends but the model
    lacks fails the contract tests, so the document cannot fall behind.
    """

    model_config = ConfigDict(extra="forbid")


# Every code an error frame can carry, and what it means for the client.
ERROR_CODES = {
    "binary_frame": "a binary frame; send JSON text",
    "too_large": "over REALTIME_MAX_MESSAGE_BYTES",
    "invalid_json": "not JSON, or nested too deeply",
    "invalid_message": "JSON, but not an object",
    "missing_type": 'an object without a string "type"',
    "invalid_text": "text with an unpaired surrogate",
    "unknown_type": "a type this URL does not handle; `message` lists those it does",
    "invalid_fields": "missing, unknown or wrongly typed fields; `message` names each",
    "rate_limited": "over a rate limit: nothing was done; resend after `retry_after` seconds",
    "forbidden": "not allowed for this user (staff only)",
    "not_found": "what the frame names does not exist",
    "refused": "not possible now (not your turn, not a player...); `message` says why",
    "not_delivered": "stored, but not pushed live: others see it when they reconnect",
    "server_error": "the server failed to handle it (a bug, logged); the socket stays open",
}
ERROR_FIELDS = {
    "code": Annotated[
        Literal[tuple(ERROR_CODES)],
        Field(description="\n".join(f"- `{code}`: {means}" for code, means in ERROR_CODES.items())),
    ],
    "message": Annotated[str, Field(description="for people; may change")],
    "about": Annotated[str | None, Field(description="the type of the frame refused, if known")],
    "retry_after": Annotated[
        float | SkipJsonSchema[None],
        Field(default=None, description="rate_limited only: seconds to wait before resending"),
    ],
}


class ProtocolError(Exception):
    """A message the server will not act on; `code` is stable, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def encode(message_type: str, **fields: Any) -> str:
    """One outbound frame as JSON text (dates and decimals included)."""
    return json.dumps(
        {"type": message_type, **fields},
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode(text_data: str | None, bytes_data: bytes | None, max_bytes: int) -> dict[str, Any]:
    """Parse one inbound frame into a dict that has a string "type"."""
    if text_data is None:
        raise ProtocolError("binary_frame", "Binary frames are not accepted; send JSON text.")
    size = len(text_data.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise ProtocolError("too_large", f"Message is {size} bytes; the limit is {max_bytes}.")
    try:
        data = json.loads(text_data)
    except RecursionError:
        raise ProtocolError("invalid_json", "JSON is nested too deeply.") from None
    except ValueError as error:
        raise ProtocolError("invalid_json", f"Not valid JSON: {error}.") from None
    if not isinstance(data, dict):
        raise ProtocolError("invalid_message", "A message must be a JSON object.")
    if not isinstance(data.get("type"), str):
        raise ProtocolError("missing_type", 'A message needs a string "type" field.')
    if "\\ud" in text_data.lower():  # escaped lone surrogates decode to unstorable text
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ProtocolError("invalid_text", "Text contains an unpaired surrogate.") from None
    return data


def validate(data: dict[str, Any], schema: type[InboundT]) -> InboundT:
    """The message's fields as an instance of `schema`, or a ProtocolError naming each problem."""
    fields = {key: value for key, value in data.items() if key != "type"}
    try:
        return schema.model_validate(fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'message'}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
        raise ProtocolError("invalid_fields", problems) from None
