"""Guest accounts: a real user with a friendly random name and no usable password.

A guest is recognised by both marks: the reserved `guest-` prefix (sign-up refuses
it, accounts.forms) and the unusable password (nobody can log in as one again).
"""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

GUEST_PREFIX = "guest-"

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


NUMBERS = 100  # guest-<adjective>-<animal>-<0..99>: 25,600 friendly names
# The friendly names run out, so after a few taken ones a name gets 48 random
# bits instead: a clash is then as good as impossible, and still bounded.
FRIENDLY_ATTEMPTS = 5
RANDOM_ATTEMPTS = 3


class GuestNameUnavailable(RuntimeError):
    """Every name tried was taken (practically impossible: see RANDOM_ATTEMPTS)."""


def friendly_name() -> str:
    adjective, animal = secrets.choice(ADJECTIVES), secrets.choice(ANIMALS)
    return f"{GUEST_PREFIX}{adjective}-{animal}-{secrets.randbelow(NUMBERS)}"


def random_name() -> str:
    adjective, animal = secrets.choice(ADJECTIVES), secrets.choice(ANIMALS)
    return f"{GUEST_PREFIX}{adjective}-{animal}-{secrets.token_hex(6)}"


def create_guest():
    """A new guest user named like `guest-swift-otter-42`.

    The unique username decides: inserting and catching IntegrityError is safe
    against two requests picking the same name at once (checking first is not).
    """
    User = get_user_model()
    names = [friendly_name() for _ in range(FRIENDLY_ATTEMPTS)]
    names += [random_name() for _ in range(RANDOM_ATTEMPTS)]
    for name in names:
        user = User(username=name)
        user.set_unusable_password()
        try:
            with transaction.atomic():  # a failed insert must not spoil an outer transaction
                user.save()
        except IntegrityError:
            continue
        return user
    raise GuestNameUnavailable(f"no free guest name in {len(names)} attempts")


def guests() -> QuerySet:
    """Every guest account: the reserved prefix and an unusable password."""
    return get_user_model().objects.filter(
        username__startswith=GUEST_PREFIX, password__startswith=UNUSABLE_PASSWORD_PREFIX
    )
