from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.guests import guests

BATCH = 500  # users deleted per transaction: bounded memory and lock time
# A guest cannot log in again (no password), so once its session has expired
# (SESSION_COOKIE_AGE, two weeks by default) nobody can use the account.
DEFAULT_DAYS = -(-settings.SESSION_COOKIE_AGE // 86400)


class Command(BaseCommand):
    help = "Delete guest accounts last signed in more than --days ago, with everything they own."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=DEFAULT_DAYS,
            help=f"age in days of the last sign-in (default {DEFAULT_DAYS}, the session length)",
        )
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, days, dry_run, **options):
        cutoff = timezone.now() - timedelta(days=days)
        stale = guests().filter(
            Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
        )
        if dry_run:
            self.stdout.write(f"{stale.count()} guest accounts would be deleted.")
            return
        deleted = 0
        while batch := list(stale.values_list("pk", flat=True)[:BATCH]):
            with transaction.atomic():
                delete_owned_rows(batch)
                get_user_model().objects.filter(pk__in=batch).delete()
            deleted += len(batch)
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} stale guest accounts."))


def delete_owned_rows(user_ids: list[int]) -> None:
    """Delete rows that point at these users and would otherwise outlive them.

    CASCADE relations go with the user anyway; SET_NULL ones would stay behind
    without an owner (a chat message without an author reads as a system message).
    """
    for relation in get_user_model()._meta.related_objects:
        if relation.many_to_many:
            continue  # the link rows go with the user
        related = relation.related_model._base_manager
        related.filter(**{f"{relation.field.name}__in": user_ids}).delete()
