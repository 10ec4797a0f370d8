import datetime
import json
from decimal import Decimal
from typing import Annotated

import pytest
from pydantic import StringConstraints, model_validator

from realtime.envelope import Inbound, ProtocolError, decode, encode, validate


class Post(Inbound):
    text: Annotated[str, StringConstraints(min_length=1, max_length=10)]
    count: int = 1


class Tagged(Inbound):
    tags: list[int]
    name: str


class Range(Inbound):
    low: int
    high: int

    @model_validator(mode="after")
    def ordered(self):
        if self.low > self.high:
            raise ValueError("low is above high")
        return self


def error_code(call) -> str:
    with pytest.raises(ProtocolError) as caught:
        call()
    return caught.value.code


def test_encode_is_compact_json_with_the_type_first():
    assert encode("chat.message", text="héllo <b>") == '{"type":"chat.message","text":"héllo <b>"}'


def test_encode_writes_dates_and_decimals():
    frame = encode("x", at=datetime.datetime(2026, 1, 2, 3, 4, 5), price=Decimal("1.50"))
    assert json.loads(frame) == {"type": "x", "at": "2026-01-02T03:04:05", "price": "1.50"}


def test_decode_returns_the_object():
    assert decode('{"type": "x", "a": 1}', None, 100) == {"type": "x", "a": 1}


@pytest.mark.parametrize(
    ("text", "binary", "code"),
    [
        (None, b"\x00\x01", "binary_frame"),
        ("not json", None, "invalid_json"),
        ("[1, 2]", None, "invalid_message"),
        ('"just a string"', None, "invalid_message"),
        ('{"text": "no type"}', None, "missing_type"),
        ('{"type": 7}', None, "missing_type"),
        ('{"type": "x", "text": "\\ud800"}', None, "invalid_text"),
        ("[" * 5000 + "]" * 5000, None, "invalid_json"),
    ],
)
def test_decode_refuses_bad_frames(text, binary, code):
    assert error_code(lambda: decode(text, binary, 100_000)) == code


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "Binary frames are not accepted; send JSON text."),
        ("[" * 5000 + "]" * 5000, "JSON is nested too deeply."),
        ("not json", "Not valid JSON: Expecting value: line 1 column 1 (char 0)."),
        ("[1, 2]", "A message must be a JSON object."),
        ('{"type": 7}', 'A message needs a string "type" field.'),
        ('{"type": "x", "text": "\\ud800"}', "Text contains an unpaired surrogate."),
        (
            '{"type": "x", "text": "%s"}' % ("a" * 100_000),
            "Message is 100025 bytes; the limit is 100000.",
        ),
    ],
)
def test_decode_says_in_words_what_is_wrong(text, message):
    """The message goes to the person behind the client in the error frame."""
    with pytest.raises(ProtocolError) as caught:
        decode(text, b"\x00" if text is None else None, 100_000)
    assert caught.value.message == message
    assert str(caught.value) == message


def test_decode_accepts_a_frame_of_exactly_the_limit():
    frame = '{"type":"x","text":"%s"}' % ("a" * 80)
    assert decode(frame, None, len(frame)) == {"type": "x", "text": "a" * 80}
    assert error_code(lambda: decode(frame, None, len(frame) - 1)) == "too_large"


def test_decode_refuses_frames_over_the_limit_counting_utf8_bytes():
    frame = json.dumps({"type": "x", "text": "é" * 60}, ensure_ascii=False)  # 120+ bytes
    assert error_code(lambda: decode(frame, None, 100)) == "too_large"


def test_validate_returns_the_model():
    assert validate({"type": "post", "text": "hi"}, Post) == Post(text="hi", count=1)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"type": "post"}, "text"),  # missing
        ({"type": "post", "text": 5}, "text"),  # wrong type
        ({"type": "post", "text": "x", "count": "2"}, "count"),  # no coercion
        ({"type": "post", "text": ""}, "text"),  # too short
        ({"type": "post", "text": "x" * 11}, "text"),  # too long
        ({"type": "post", "text": "x", "author": "mallory"}, "author"),  # unknown field
    ],
)
def test_validate_names_the_bad_field(data, field):
    with pytest.raises(ProtocolError) as caught:
        validate(data, Post)
    assert caught.value.code == "invalid_fields"
    assert caught.value.message.startswith(f"{field}:")


def test_validate_names_each_problem_with_its_path():
    with pytest.raises(ProtocolError) as caught:
        validate({"type": "tagged", "tags": [1, "two"], "name": 3}, Tagged)
    problems = caught.value.message.split("; ")
    assert [problem.split(":")[0] for problem in problems] == ["tags.1", "name"]


def test_validate_calls_a_whole_message_problem_message():
    with pytest.raises(ProtocolError) as caught:
        validate({"type": "range", "low": 2, "high": 1}, Range)
    assert caught.value.message == "message: Value error, low is above high"
