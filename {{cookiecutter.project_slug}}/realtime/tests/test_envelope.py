import json
from typing import Annotated

import pytest
from pydantic import StringConstraints

from realtime.envelope import Inbound, ProtocolError, decode, encode, validate


class Post(Inbound):
    text: Annotated[str, StringConstraints(min_length=1, max_length=10)]
    count: int = 1


def error_code(call) -> str:
    with pytest.raises(ProtocolError) as caught:
        call()
    return caught.value.code


def test_encode_is_compact_json_with_the_type_first():
    assert encode("chat.message", text="héllo <b>") == '{"type":"chat.message","text":"héllo <b>"}'


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
