"""Post messages to a room while the server is down (the reconnect storm).

Run by bench/run.py with the project's Python: `post.py ROOM COUNT`. Stored
through the project's service, as a message from anywhere would be; nobody is
connected to hear them live, so every socket must get them when it resumes.
"""

import sys

import django

django.setup()

from chat.models import Room
from chat.services import post_system_message


def main(slug: str, count: int) -> None:
    room = Room.objects.get(slug=slug)
    for n in range(count):
        post_system_message(room, f"missed {n}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
