from django.core.management.base import BaseCommand, CommandError

from chat.models import Room
from chat.services import post_system_message
from realtime.broadcast import reaches_other_processes


class Command(BaseCommand):
    help = "Post a system message into a chat room (stored, then pushed to open browsers)."

    def add_arguments(self, parser):
        parser.add_argument("room", help="the room's slug, e.g. lobby")
        parser.add_argument("text", help="the message")

    def handle(self, *args, room, text, **options):
        try:
            target = Room.objects.get(slug=room)
        except Room.DoesNotExist:
            raise CommandError(f"No room '{room}'. Open it on the rooms page first.") from None
        post_system_message(target, text)
        self.stdout.write(self.style.SUCCESS(f"Posted to #{target.slug}."))
        if not reaches_other_processes():
            self.stderr.write(
                self.style.WARNING(
                    "The in-memory channel layer does not cross processes: open browsers will "
                    "see this message after a reload or reconnect. Set REDIS_URL to push it live."
                )
            )
