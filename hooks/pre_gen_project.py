"""Reject options that would generate a broken project, with a one-line reason."""

import re
import sys
import zoneinfo

NAME = {{ cookiecutter.project_name | tojson }}
SLUG = {{ cookiecutter.project_slug | tojson }}
TIMEZONE = {{ cookiecutter.timezone | tojson }}
CHOICES = {
    "database": ({{ cookiecutter.database | tojson }}, ["sqlite", "postgresql"]),
    "channel_layer": (
        {{ cookiecutter.channel_layer | tojson }},
        ["in-memory-dev-redis-prod", "redis", "redis-pubsub"],
    ),
    "ci": ({{ cookiecutter.ci | tojson }}, ["github", "none"]),
}
SWITCHES = {
    "use_chat": {{ cookiecutter.use_chat | tojson }},
    "use_notifications": {{ cookiecutter.use_notifications | tojson }},
    "use_game": {{ cookiecutter.use_game | tojson }},
    "use_docker": {{ cookiecutter.use_docker | tojson }},
}


def problem() -> str | None:
    if not NAME.strip() or '"' in NAME or "\\" in NAME:
        return "project_name must be non-empty and contain no double quote or backslash."
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", SLUG):
        # It names the folder, the package in pyproject.toml and the Postgres database.
        return (
            f"project_slug '{SLUG}' is not a valid identifier "
            "(use lowercase letters, digits and _, starting with a letter)."
        )
    if SLUG != SLUG.lower():
        return f"project_slug '{SLUG}' must be lowercase."
    for name, value in SWITCHES.items():
        if value not in ("y", "n"):
            return f"{name} must be 'y' or 'n', not '{value}'."
    for name, (value, allowed) in CHOICES.items():
        if value not in allowed:
            return f"{name} must be one of {', '.join(allowed)}; not '{value}'."
    try:
        zoneinfo.ZoneInfo(TIMEZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"timezone '{TIMEZONE}' is not an IANA time zone name (for example UTC or Europe/Paris)."
    return None


if __name__ == "__main__":
    reason = problem()
    if reason:
        print(f"ERROR: {reason}", file=sys.stderr)
        sys.exit(1)
