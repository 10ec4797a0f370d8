"""Send to every socket in a group, from async or sync code.

Two kinds of group message, both carried once per server process (realtime/hub.py):

- a frame: JSON text for the browsers, encoded once here and written unchanged to
  every socket in the group: `broadcast()` and `broadcast_from_sync()`. Every
  socket gets the same bytes, so per-recipient data needs per-user groups.
- a typed event, as in Channels: `channel_layer.group_send(group, {"type":
  "chat.force_disconnect", ...})` runs `chat_force_disconnect(event)` on every
  consumer in the group, in that consumer's own task. Use it when each consumer
  must decide or act for itself (close, check its user); `send_event()` here is
  the same call with the layer-down case handled.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from .envelope import encode
from .hub import FRAME, LAYER_ERRORS, LayerUnavailable

logger = logging.getLogger("realtime")


def frame_event(message_type: str, **fields: Any) -> dict[str, str]:
    """The group message that carries one encoded frame to the browsers."""
    return {"type": FRAME, "text": encode(message_type, **fields)}


async def send_event(group: str, event: dict) -> None:
    """group_send that raises LayerUnavailable when the layer (Redis) cannot be reached.

    The base consumer turns that into an error frame for the sender, or a close
    asking the browser to reconnect; call it after storing what it announces.
    """
    try:
        await get_channel_layer().group_send(group, event)
    except LAYER_ERRORS as error:
        raise LayerUnavailable(str(error)) from error


async def broadcast(group: str, message_type: str, **fields: Any) -> None:
    """One frame to every socket in `group`, from a consumer or other async code."""
    await send_event(group, frame_event(message_type, **fields))


def send_event_from_sync(group: str, event: dict) -> bool:
    """send_event for sync code (views, signal handlers, commands, services).

    What it announces is already stored, so an unreachable layer is not an error
    here: one warning line, and browsers find the change when they reconnect
    (the hub closes their sockets when it loses the layer). Returns False then.
    """
    try:
        async_to_sync(send_event)(group, event)
    except LayerUnavailable as error:
        logger.warning("not pushed live to %s, channel layer unreachable: %s", group, error)
        return False
    return True


def broadcast_from_sync(group: str, message_type: str, **fields: Any) -> bool:
    """One frame to every socket in `group`, from sync code (see send_event_from_sync)."""
    return send_event_from_sync(group, frame_event(message_type, **fields))


def reaches_other_processes() -> bool:
    """Whether the default channel layer crosses processes (Redis: yes; in-memory: no).

    On the in-memory layer, a management command or a shell reaches no browser:
    what it stores is seen on the next page load or reconnect.
    """
    return not isinstance(get_channel_layer(), InMemoryChannelLayer)
