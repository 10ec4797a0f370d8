"""Jinja extensions the template loads (`_extensions` in cookiecutter.json).

cookiecutter puts the template folder on sys.path while it generates, so it imports this
module by name before it renders anything, the hooks included.
"""

import logging

from cookiecutter.exceptions import FailedHookException
from jinja2.ext import Extension


def _not_a_failed_hook(record: logging.LogRecord) -> bool:
    exc = record.exc_info[1] if record.exc_info else None
    return not isinstance(exc, FailedHookException)


class QuietHookFailure(Extension):
    """Let a refused option end generation with the hook's one `ERROR:` line.

    When a hook exits non-zero, cookiecutter logs "Stopping generation ..." with the
    traceback of its own FailedHookException (to stdout), then prints "Hook script failed
    (exit status: 1)" and exits 1. The traceback tells a person nothing: the hook has
    already printed the reason, so this drops that one log record.
    """

    def __init__(self, environment):
        super().__init__(environment)
        logger = logging.getLogger("cookiecutter.hooks")
        if _not_a_failed_hook not in logger.filters:
            logger.addFilter(_not_a_failed_hook)
