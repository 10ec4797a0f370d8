"""manage.py asyncapi: the WebSocket protocol as an AsyncAPI 3.0 document (realtime/protocol.py)."""

import sys

from django.core.management.base import BaseCommand, CommandError

from realtime.protocol import DOCUMENT, build, render


class Command(BaseCommand):
    help = "Print the WebSocket protocol as an AsyncAPI 3.0 document (JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--output", help=f"write it to this file (e.g. {DOCUMENT.name})")
        parser.add_argument(
            "--check",
            action="store_true",
            help=f"exit 1 if {DOCUMENT} differs from what the code says",
        )

    def handle(self, *args, output=None, check=False, **options):
        text = render(build())
        if check:
            if not DOCUMENT.is_file() or DOCUMENT.read_text(encoding="utf-8") != text:
                raise CommandError(f"{DOCUMENT} is out of date: run `make protocol`.")
            return
        if output:
            with open(output, "w", encoding="utf-8") as file:
                file.write(text)
        else:
            sys.stdout.write(text)
