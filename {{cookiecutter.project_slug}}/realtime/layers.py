"""channels_redis's RedisChannelLayer, corrected for a busy process and for several
Redis hosts (shards).

A process receives its channels' messages (each socket's, and its hub's, which gets
every group it serves) from one Redis key. channels_redis 4.3 takes them one at a
time, each in four Redis round trips, one after the other. On an event loop busy with
a thousand sockets every round trip waits for the loop to come round: a process fell
behind at 250 messages a second (`make bench`, small rooms), its key filled up to the
capacity, and group_send dropped the rest. Here one round trip takes every message
waiting, up to RECEIVE_BATCH, into the buffers of the channels they are for.

With several hosts, channels_redis 4.3 also loses messages sent with
channel_layer.send() (group_send is right):

- To a process's own channel ("name.<client>!<id>", what self.channel_name is),
  send() picks the shard from the whole name, while receive() reads the shard of the
  part up to the "!": most such messages land where nobody reads them, and expire
  (django/channels issue 1492). Here both use the part up to the "!".
- To a plain channel (a worker's, `manage.py runworker`), send() takes the next
  shard in turn, and receive() waits on one shard per call: a job sent to another
  shard waits there unread until it expires. Here plain channels live on the first
  shard; they carry background jobs, not the broadcast traffic.
"""

import asyncio
import itertools

from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer

RECEIVE_BATCH = 100


class RedisChannelLayer(BaseRedisChannelLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._send_index_generator = self._receive_index_generator = itertools.repeat(0)

    def consistent_hash(self, value: str) -> int:
        return super().consistent_hash(self.non_local_name(value))

    async def receive_single(self, channel):
        """Called by receive() (one caller at a time per process). For the process's own
        key: take every message waiting, or wait for the next one, and put each into its
        channel's buffer; receive() looks there next."""
        if "!" not in channel:
            return await super().receive_single(channel)
        connection = self.connection(self.consistent_hash(channel))
        key = self.prefix + channel
        # Shielded: messages Redis has handed over reach their buffers even if the
        # receive() that asked for them is cancelled (its socket closed) meanwhile.
        popped = asyncio.ensure_future(connection.zpopmin(key, RECEIVE_BATCH))
        popped.add_done_callback(self._buffer_popped)
        if not await asyncio.shield(popped):
            # Nothing waiting: block until a message comes (channels_redis does the same,
            # unshielded: a blocking read must not outlive a closed socket's receive).
            waited = await connection.bzpopmin(key, timeout=self.brpop_timeout)
            if waited:
                self._buffer([waited[1:]])
        return [], None  # "sent to no channel": receive() then reads the buffers

    def _buffer_popped(self, popped: asyncio.Future) -> None:
        if not popped.cancelled() and popped.exception() is None:
            self._buffer(popped.result())

    def _buffer(self, popped: list[tuple[bytes, float]]) -> None:
        for member, _score in popped:
            message = self.deserialize(member)
            channels = message.pop("__asgi_channel__")
            for name in channels if isinstance(channels, list) else [channels]:
                self.receive_buffer[name].put_nowait(message)
