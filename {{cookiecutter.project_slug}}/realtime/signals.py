"""Signals that let apps talk without importing each other.

An app that wants a user told about something (a chat mention, a game turn)
sends `notify_user`; the notifications app, when installed, turns it into a
stored and pushed notification. Without that app nobody listens: nothing breaks.
"""

from django.dispatch import Signal

# Arguments: recipient (a User), title (str); optional body, link, level.
notify_user = Signal()

# Sent by a server process after it purged presence rows that outlived their TTL
# (their process died without removing them). Each app re-announces who is in
# those of the groups that are its own. Arguments: groups (list of group names).
presence_expired = Signal()
