"""Hostile ids and paths get a clean refusal from the core, never a crash or a traceback."""

import logging

import pytest

from realtime.consumers import parse_id
from realtime.converters import IdConverter
from realtime.envelope import MAX_ID


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("42", 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),  # beyond a bigint: the database would raise
        ("9" * 5000, None),  # int() refuses this many digits
        ("²", None),  # str.isdigit() says yes, int() says no
        ("٣", None),  # an Arabic-Indic digit: int() would take it, the URL should not
        ("-1", None),
        (" 1", None),
        ("1.0", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_id_takes_only_plain_digits_in_the_bigint_range(text, expected):
    assert parse_id(text) == expected


@pytest.mark.parametrize("pk", ["1", str(MAX_ID)])
def test_the_id_path_converter_matches_every_id_a_bigint_holds(pk):
    converter = IdConverter()
    assert converter.to_url(converter.to_python(pk)) == pk


@pytest.mark.parametrize("pk", ["0", str(MAX_ID + 1), str(2**76)])
def test_the_id_path_converter_does_not_match_an_id_out_of_range(pk):
    with pytest.raises(ValueError):  # the URL resolver's "no match": a 404
        IdConverter().to_python(pk)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_unknown_websocket_path_is_refused_with_one_log_line(ws_connect, alice, caplog):
    caplog.set_level(logging.INFO)
    async with ws_connect("/ws/no-such-thing/", alice, expect_accept=False):
        pass
    assert [r.exc_info for r in caplog.records if r.exc_info] == []
    refused = [r.getMessage() for r in caplog.records if r.name == "realtime"]
    assert refused == ["ws refused /ws/no-such-thing/: no such endpoint"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_long_unknown_path_is_logged_cut_to_200_characters(ws_connect, alice, caplog):
    caplog.set_level(logging.INFO)
    path = "/ws/" + "x" * 1000 + "/"
    async with ws_connect(path, alice, expect_accept=False):
        pass
    refused = [r.getMessage() for r in caplog.records if r.name == "realtime"]
    assert refused == [f"ws refused {path[:200]}: no such endpoint"]
