"""Send one frame to every socket in a group, from async or sync code.

The frame is encoded to JSON once, here, and travels through the channel layer
as text, one message per server process with sockets in the group; each
process's hub (realtime/hub.py) writes it unchanged to those sockets.
"""

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from redis.exceptions import RedisError

from .envelope import ProtocolError, encode
from .hub import crosses_processes, serves_sockets

UNDELIVERED = (
    "Saved, but it could not be pushed live just now (the message service is unreachable). "
    "Others will see it when they reconnect or reload."
)


def frame_event(group: str, message_type: str, **fields: Any) -> dict[str, str]:
    """The channel-layer event that carries one encoded frame to `group`."""
    return {"type": "realtime.frame", "group": group, "text": encode(message_type, **fields)}


async def broadcast(group: str, message_type: str, **fields: Any) -> None:
    """From a consumer or other async code.

    Call it after storing what it announces: if the channel layer is down (Redis
    restarting), the sender gets a "not_delivered" error frame and nothing is lost.
    """
    try:
        await get_channel_layer().group_send(group, frame_event(group, message_type, **fields))
    except (OSError, RedisError) as error:
        raise ProtocolError("not_delivered", UNDELIVERED) from error


def broadcast_from_sync(group: str, message_type: str, **fields: Any) -> None:
    """From a view, a signal handler, a management command or any other sync code."""
    async_to_sync(get_channel_layer().group_send)(group, frame_event(group, message_type, **fields))


def reaches_other_processes() -> bool:
    """Whether the default channel layer crosses processes (Redis: yes; in-memory: no)."""
    return crosses_processes(get_channel_layer())


def reaches_open_sockets() -> bool:
    """Whether a broadcast sent from here reaches the open sockets: always through
    Redis; through the in-memory layer only from the server process that holds them
    (anywhere else, store it for that process's sweep: realtime.signals.sweep)."""
    return reaches_other_processes() or serves_sockets()
