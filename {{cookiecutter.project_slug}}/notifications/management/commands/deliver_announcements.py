from django.core.management.base import BaseCommand

from notifications import services


class Command(BaseCommand):
    help = (
        "Deliver announcements whose worker job was lost. Safe at any time, even while "
        "the worker runs: each announcement goes out once."
    )

    def handle(self, *args, **options):
        delivered = services.deliver_pending()
        self.stdout.write(self.style.SUCCESS(f"Delivered {delivered} pending announcement(s)."))
