"""database_sync_to_async for consumers: their database connection stays open.

Channels' database_sync_to_async closes the connection after every call unless
CONN_MAX_AGE keeps it, and Django's advice under ASGI is CONN_MAX_AGE = 0: each
HTTP request runs in a thread of its own, whose connection would outlive it. But
the consumers' calls all run in one thread (asgiref's thread-sensitive executor)
for the life of the server process, so a connection per call bought nothing and
cost most of each chat message: a new connection (on PostgreSQL a server process)
and, on SQLite in WAL mode, a checkpoint of the log each time the last one closed
(`make bench`, rooms of 4 chatting: seconds of latency instead of milliseconds).

So here the connection is kept open between calls, in that thread only (HTTP
requests still close theirs). Django still closes it before the next call if an
error left it unusable or a transaction open (close_old_connections), and an
explicit CONN_MAX_AGE other than 0 is left as set.
"""

from asgiref.sync import SyncToAsync
from django.db import close_old_connections, connections


class DatabaseSyncToAsync(SyncToAsync):
    def thread_handler(self, loop, *args, **kwargs):
        close_old_connections()  # one that broke, or reached an explicit CONN_MAX_AGE
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            for connection in connections.all(initialized_only=True):
                if connection.settings_dict["CONN_MAX_AGE"] == 0:
                    connection.close_at = None  # Django's marker for "no age limit"
            close_old_connections()  # still closes one an error left unusable


# Used as channels.db.database_sync_to_async is: a decorator or a wrapper.
database_sync_to_async = DatabaseSyncToAsync
