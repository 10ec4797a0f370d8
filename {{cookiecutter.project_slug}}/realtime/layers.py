"""channels_redis's RedisChannelLayer, corrected for several Redis hosts (shards).

With one host nothing changes. With several, channels_redis 4.3 loses messages
sent with channel_layer.send() (group_send is right):

- To a process's own channel ("name.<client>!<id>", what self.channel_name is),
  send() picks the shard from the whole name, while receive() reads the shard of the
  part up to the "!": most such messages land where nobody reads them, and expire
  (django/channels issue 1492). Here both use the part up to the "!".
- To a plain channel (a worker's, `manage.py runworker`), send() takes the next
  shard in turn, and receive() waits on one shard per call: a job sent to another
  shard waits there unread until it expires. Here plain channels live on the first
  shard; they carry background jobs, not the broadcast traffic.
"""

import itertools

from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer


class RedisChannelLayer(BaseRedisChannelLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._send_index_generator = self._receive_index_generator = itertools.repeat(0)

    def consistent_hash(self, value: str) -> int:
        return super().consistent_hash(self.non_local_name(value))
