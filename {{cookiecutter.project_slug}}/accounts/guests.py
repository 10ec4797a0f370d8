"""Guest accounts: a real user with a friendly random name and no usable password."""

import secrets

from django.contrib.auth import get_user_model

ADJECTIVES = [
    "amber",
    "brave",
    "calm",
    "clever",
    "eager",
    "gentle",
    "happy",
    "jolly",
    "lucky",
    "mellow",
    "nimble",
    "quiet",
    "rapid",
    "sunny",
    "swift",
    "witty",
]
ANIMALS = [
    "badger",
    "falcon",
    "fox",
    "heron",
    "koala",
    "lynx",
    "otter",
    "owl",
    "panda",
    "puffin",
    "seal",
    "tiger",
    "walrus",
    "wombat",
    "wren",
    "yak",
]


def create_guest():
    """A new guest user named like `guest-swift-otter-42`."""
    User = get_user_model()
    while True:
        adjective, animal = secrets.choice(ADJECTIVES), secrets.choice(ANIMALS)
        name = f"guest-{adjective}-{animal}-{secrets.randbelow(100)}"
        if not User.objects.filter(username=name).exists():
            break
    user = User(username=name)
    user.set_unusable_password()
    user.save()
    return user
