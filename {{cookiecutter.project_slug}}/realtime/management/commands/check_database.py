"""`make run` calls this before `migrate`: one line on what to do, not a driver traceback."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection


class Command(BaseCommand):
    help = "Connect to the default database; if that fails, say in one line what to do."

    def handle(self, *args, **options):
        try:
            connection.ensure_connection()
        except DatabaseError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(
                f"Cannot open the database in DATABASE_URL: {reason}. {advice()}"
            ) from exc
        self.stdout.write(f"Database {connection.settings_dict['NAME']} is reachable.")


def advice() -> str:
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        return "Check DATABASE_URL in .env."
    createdb = ["createdb"]
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if db.get(key):
            createdb += [flag, str(db[key])]
    return f"Is Postgres running, and the database created ({' '.join([*createdb, db['NAME']])})?"
