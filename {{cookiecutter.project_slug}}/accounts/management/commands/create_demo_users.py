from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERS = ["alice", "bob"]
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a local demo account, printed on purpose


class Command(BaseCommand):
    help = "Create (or reset) the demo users alice and bob, both with the password 'demo-password'."

    def handle(self, *args, **options):
        User = get_user_model()
        for name in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=name)
            user.set_password(DEMO_PASSWORD)
            user.save()
        names = " and ".join(DEMO_USERS)
        self.stdout.write(self.style.SUCCESS(f"Demo users {names}, password '{DEMO_PASSWORD}'."))
