"""One exception root, one class per failure, the facts as attributes.

The command line turns every :class:`RunbookError` into one line on stderr and the
exit code named by its ``exit_code``: 2 for bad input (nothing was changed), 1 for a
run that failed (and was rolled back). Each class names its ``kind`` (a stable slug for
programs that tell failures apart); nothing is told apart by its message text.
"""

from __future__ import annotations


class RunbookError(Exception):
    """Root of every expected failure."""

    kind = "error"
    exit_code = 1

    def __init__(self, message: str, **facts):
        super().__init__(message)
        self.message = message
        self.facts = facts
        for key, value in facts.items():
            setattr(self, key, value)

    def __str__(self) -> str:  # one line, always
        return " ".join(str(self.message).split())


# --- bad input: exit 2, nothing changed ---------------------------------------------


class BadInput(RunbookError):
    kind = "bad-input"
    exit_code = 2


class MappingError(BadInput):
    """The mapping file is malformed or conflicting."""

    kind = "mapping"


class InvalidIdentifier(MappingError):
    """A name in the mapping cannot be used as a PostgreSQL identifier."""

    kind = "invalid-identifier"


class ConnectionFailed(BadInput):
    """The database cannot be reached or refused the credentials."""

    kind = "connection"


class ConflictError(BadInput):
    """The plan cannot run: a target name is taken, two sources share a target ..."""

    kind = "conflict"


class NotOwner(BadInput):
    """The current role does not own a table the plan alters."""

    kind = "not-owner"


class ServerTooOld(BadInput):
    """The server lacks a feature a step needs."""

    kind = "server-too-old"


class UnsafeFunction(BadInput):
    """A function names an old table in a body the engine cannot rewrite safely."""

    kind = "unsafe-function"


class WrongState(BadInput):
    """The database is not in the state an operation expects (e.g. rollback)."""

    kind = "wrong-state"


class ToolMissing(BadInput):
    """pg_dump / pg_restore cannot be found or is too old for the server."""

    kind = "tool-missing"


class DumpNotPossible(BadInput):
    """pg_dump would fail: the role cannot read a table, sequence, schema or large object
    it must dump, or row-level security applies to it (found before the backup starts)."""

    kind = "dump-not-possible"


# --- a run that failed: exit 1 -------------------------------------------------------


class PreflightFailed(RunbookError):
    """A preflight check stopped the run before anything changed."""

    kind = "preflight-failed"


class BackupFailed(RunbookError):
    """The backup could not be written or did not verify; no DDL ran."""

    kind = "backup-failed"


class LockTimeout(RunbookError):
    """The exclusive locks could not be had within the allowed attempts."""

    kind = "lock-timeout"


class ConcurrentRun(RunbookError):
    """Another runbook process holds the advisory lock on this database."""

    kind = "concurrent-run"


class MigrationFailed(RunbookError):
    """A step failed; the transaction was rolled back."""

    kind = "migration-failed"


class VerificationFailed(RunbookError):
    """A check failed after the migration."""

    kind = "verification-failed"


class RollbackFailed(RunbookError):
    """The rollback itself failed: the schema needs manual repair."""

    kind = "rollback-failed"
