"""URL path converters, registered by realtime/apps.py."""

from .envelope import MAX_ID


class IdConverter:
    """<id:pk>: a row id a bigint column can hold. Django's <int:...> matches any number
    of digits, and a database raises on one too large (a 500); this one does not match it,
    so such a URL is a plain 404."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValueError  # the URL resolver treats this as "no match"
        return number

    def to_url(self, value: int) -> str:
        return str(value)
