from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERS = ["alice", "bob"]
# Staff and superuser: the admin site, its actions, the announcement form, chat moderation.
DEMO_ADMIN = "admin"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a local demo account, printed on purpose


class Command(BaseCommand):
    help = (
        f"Create (or reset) the demo users {', '.join(DEMO_USERS)} and the staff user "
        f"{DEMO_ADMIN}, all with the password '{DEMO_PASSWORD}'. Only with DEBUG on."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            # The password is published: never create these accounts on a real site.
            raise CommandError("create_demo_users only runs with DEBUG on: its password is public.")
        User = get_user_model()
        for name in [*DEMO_USERS, DEMO_ADMIN]:
            user, _ = User.objects.get_or_create(username=name)
            user.set_password(DEMO_PASSWORD)
            user.is_active = True
            user.is_staff = user.is_superuser = name == DEMO_ADMIN
            user.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo users {' and '.join(DEMO_USERS)}, and the staff user {DEMO_ADMIN} "
                f"(the admin at /admin/), password '{DEMO_PASSWORD}'."
            )
        )
