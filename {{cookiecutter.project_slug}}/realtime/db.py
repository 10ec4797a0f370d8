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

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections


def database_sync_to_async(func):
    """Used as channels.db.database_sync_to_async is: a decorator or a wrapper."""

    def keeping_the_connection(*args, **kwargs):
        close_old_connections()  # one that broke, or reached an explicit CONN_MAX_AGE
        try:
            return func(*args, **kwargs)
        finally:
            for connection in connections.all():
                if connection.settings_dict["CONN_MAX_AGE"] == 0:
                    connection.close_at = None  # Django's marker for "no age limit"
            close_old_connections()  # still closes one an error left unusable

    return sync_to_async(keeping_the_connection)
