"""Set up the benchmark's users, room and games in the generated project's database.

Run by bench/run.py with the project's Python, in the project's folder. Prints
one JSON object: session cookies (one per user), the room, the games, and for the
newer scenarios: the join storm's users (one per socket: presence is per user),
the small rooms and the reconnect storm's room (with one message to resume from).
"""

import json
import sys

import django

django.setup()

from chat.models import Room
from chat.services import post_system_message
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from game import services as games

ROOM = "bench"
JOIN_ROOM = "presence"  # the presence join storm
STORM_ROOM = "storm"  # the reconnect storm


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def main(users: int, game_count: int, join_users: int, small_rooms: int) -> dict:
    User = get_user_model()
    people = [User.objects.get_or_create(username=f"bench-{n:03d}")[0] for n in range(users)]
    Room.objects.get_or_create(slug=ROOM)
    first, second = people[0], people[1]
    game_ids = []
    for _ in range(game_count):
        game = games.create_game(first, "connect4")
        games.join_game(game.pk, second)
        game_ids.append(game.pk)
    joiners = [User.objects.get_or_create(username=f"join-{n:04d}")[0] for n in range(join_users)]
    Room.objects.get_or_create(slug=JOIN_ROOM)
    # Letters and digits only: the tutorial's route takes \w+.
    rooms = [f"r{n:03d}" for n in range(small_rooms)]
    for slug in rooms:
        Room.objects.get_or_create(slug=slug)
    storm, _ = Room.objects.get_or_create(slug=STORM_ROOM)
    if not storm.messages.exists():
        post_system_message(storm, "the last message before the restart")
    return {
        "join_cookies": [session_cookie(user) for user in joiners],
        "join_usernames": [user.username for user in joiners],
        "small_rooms": rooms,
        "cookies": [session_cookie(user) for user in people],
        "usernames": [user.username for user in people],
        "room": ROOM,
        "games": game_ids,
    }


if __name__ == "__main__":
    print(json.dumps(main(*(int(arg) for arg in sys.argv[1:5]))))
