from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from notifications import services
from notifications.models import Notification
from realtime.broadcast import reaches_other_processes


class Command(BaseCommand):
    help = 'Notify users: `notify --user alice "Deploy done"` or `notify --all "Maintenance at 6"`.'

    def add_arguments(self, parser):
        parser.add_argument("title", help="the notification's text")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--user", action="append", dest="usernames", metavar="NAME")
        target.add_argument("--all", action="store_true", dest="everyone", help="every user")
        parser.add_argument("--body", default="")
        parser.add_argument("--link", default="")
        parser.add_argument("--level", default="info", choices=Notification.Level.values)

    def handle(self, *args, title, usernames, everyone, body, link, level, **options):
        if not reaches_other_processes():
            self.stderr.write(
                self.style.WARNING(
                    "The in-memory channel layer does not cross processes: open tabs will "
                    "see this after a reload or reconnect. Set REDIS_URL to push it live."
                )
            )
        if everyone:
            queued = services.announce(title, body=body, link=link, level=level)
            where = "queued for the notifications-fanout worker" if queued else "stored"
            self.stdout.write(self.style.SUCCESS(f"Announcement {where}."))
            return
        users = list(get_user_model().objects.filter(username__in=usernames))
        missing = set(usernames) - {user.username for user in users}
        if missing:
            raise CommandError(f"No such user: {', '.join(sorted(missing))}.")
        for user in users:
            services.notify(user, title, body=body, link=link, level=level)
        self.stdout.write(self.style.SUCCESS(f"Notified {len(users)} user(s)."))
