"""Set up the benchmark's users, room and games in the generated project's database.

Run by bench/run.py with the project's Python, in the project's folder. Prints
one JSON object: session cookies (one per user), the room, the games.
"""

import json
import sys

import django

django.setup()

from chat.models import Room
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from game import services as games

ROOM = "bench"


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def main(users: int, game_count: int) -> dict:
    User = get_user_model()
    people = [User.objects.get_or_create(username=f"bench-{n:03d}")[0] for n in range(users)]
    Room.objects.get_or_create(slug=ROOM)
    first, second = people[0], people[1]
    game_ids = []
    for _ in range(game_count):
        game = games.create_game(first, "connect4")
        games.join_game(game.pk, second)
        game_ids.append(game.pk)
    return {
        "cookies": [session_cookie(user) for user in people],
        "usernames": [user.username for user in people],
        "room": ROOM,
        "games": game_ids,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
