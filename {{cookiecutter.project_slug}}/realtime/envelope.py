"""The JSON envelope of every WebSocket frame: {"type": "<app>.<action>", ...fields}.

Inbound frames are checked here, before any consumer code runs: text only,
size-limited, valid JSON, an object with a string "type", and fields that
match the pydantic model the consumer registered for that type. Anything
else raises ProtocolError, which the base consumer turns into an error frame.
"""

import json
from typing import Annotated, Any, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
