"""Generated bad input for consumer tests: what a broken or hostile client might send."""

import json
import uuid

from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from django.conf import settings
from django.test import override_settings
from hypothesis import strategies as st

from .frames import drain

FIELD_NAMES = ["type", "text", "nonce", "ids", "move", "version", "after", "user", "id", ""]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=15,
)


def frames(message_types: list[str]):
    """One inbound frame: a text frame (JSON or not) or a binary one."""
    typed = st.builds(
        lambda kind, fields: json.dumps({**fields, "type": kind}),
        st.sampled_from([*message_types, "", "x" * 200]),
        st.dictionaries(st.sampled_from(FIELD_NAMES[1:]), json_values, max_size=4),
    )
    return st.one_of(
        typed,  # a known type with wrong, missing or extra fields
        json_values.map(json.dumps),  # valid JSON of any shape
        st.text(max_size=200),  # mostly not JSON; unicode of every kind
        st.just("[" * 3000 + "]" * 3000),  # nested too deeply
        st.binary(max_size=64),  # a binary frame
    )


async def throw(communicator, batch: list) -> list[dict]:
    """Send every frame of `batch`, then return the frames that came back."""
    for frame in batch:
        # send_input, not send_to: a real client can also send an empty frame.
        key = "bytes" if isinstance(frame, bytes) else "text"
        await communicator.send_input({"type": "websocket.receive", key: frame})
    return await drain(communicator, seconds=0.05)


async def until_answered(communicator, replies: list[dict], answers: set[str], count: int):
    """`replies`, plus whatever still comes, once `count` of them are of a type in `answers`.

    Every inbound frame gets its answer, never silence: waiting for each one means a
    test cannot pass because nothing came back (a missing answer times out and fails).
    """
    while sum(reply["type"] in answers for reply in replies) < count:
        replies.append(await communicator.receive_json_from(timeout=2))
    return replies


def run_example(scenario) -> None:
    """Run one Hypothesis example's async `scenario()` in an event loop of its own,
    with a channel layer of its own, as the _fresh_channel_layer fixture gives each
    test: a Redis layer binds its locks to the event loop it was first used in.
    """
    channel_layers.backends.clear()
    fresh_budget = {**settings.REALTIME, "USER_RATE_LIMIT_PREFIX": f"test-{uuid.uuid4()}"}
    with override_settings(REALTIME=fresh_budget):  # each example's messages count alone
        async_to_sync(scenario)()
