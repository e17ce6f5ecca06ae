"""How a failure is told: a server error's first line, a message without the URL's
password, an interruption said plainly; which server errors are safe to retry; and a
second Ctrl-C held back while a failed run cleans up."""

from __future__ import annotations

import signal
import threading

import psycopg2
from psycopg2 import errorcodes

from ..connection import scrub


def is_lock_timeout(exc: BaseException) -> bool:
    """Lock not available (55P03), or chosen as a deadlock victim (40P01): either way our
    transaction was rolled back before it changed anything, and trying again is safe."""
    return isinstance(exc, psycopg2.Error) and exc.pgcode in (errorcodes.LOCK_NOT_AVAILABLE,
                                                              errorcodes.DEADLOCK_DETECTED)


def pg_message(exc: BaseException) -> str:
    if isinstance(exc, psycopg2.Error):
        return (exc.pgerror or str(exc)).strip().splitlines()[0].removeprefix("ERROR:").strip()
    return str(exc)


def failure_message(exc: BaseException, url: str) -> str:
    """What went wrong, in one line, with no password of ``url`` in it."""
    return scrub(str(exc) if not isinstance(exc, psycopg2.Error) else pg_message(exc), url)


def interruption(exc: BaseException) -> str:
    """How a run was interrupted, said plainly ('' when it was not)."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (SIGINT: Ctrl-C)"
    return ""


class no_second_interrupt:
    """While a failed run cleans up (undo, audit row, status), a second Ctrl-C is held
    back: the cleanup is what leaves the database as it was."""

    def __enter__(self):
        self.old = None
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)
        return False
