"""The knobs of a run (timeouts, attempts, backoff, batch size, backup, checks), each
checked when an :class:`Options` is made, by the validators of :mod:`runbook.options`."""

from __future__ import annotations

from dataclasses import dataclass

from .. import options as v


@dataclass(frozen=True)
class Options:
    lock_timeout: str = "5s"
    statement_timeout: str = "60s"
    attempts: int = 5
    # Online DDL (fill trigger, NOT VALID check, validation) must not sit in the lock queue
    # with writers stuck behind it: a short wait, given up and retried many times.
    online_lock_timeout: str = "100ms"
    online_attempts: int = 40
    backoff_base: float = 0.2
    backoff_cap: float = 5.0
    batch_size: int = 5000
    backup: bool = True
    backup_dir: str = "outputs/backups"
    backup_compress: bool = False
    #: N: a directory-format dump by N pg_dump workers (--backup-jobs N); 0: one custom-format
    #: file; None (the default): 2 jobs when the connections are allowed, else the file
    #: (:func:`runbook.execute.backup.default_jobs`)
    backup_jobs: int | None = None
    #: instead of pg_dump, the operator's own snapshot command (--backup snapshot-command=CMD)
    backup_command: str | None = None
    #: what pg_dump saves: "full" (every table's rows) or "schema+changed" (the schema and
    #: the keys of the rows the plan changes: :mod:`runbook.execute.backup_partial`)
    backup_scope: str = "full"
    log_dir: str = "outputs/logs"
    checksums: str = "auto"  # auto | all | none
    quiesced: bool = True
    progress: bool = True
    crud_check: bool = True
    fill_scan: str = "auto"  # auto: by heap pages on PostgreSQL 14+, else up the key | pages | key

    def __post_init__(self):
        """Every value checked here, before anything connects (the command line, the API
        and the notebooks all build an Options): a bad one is one line, exit 2."""
        fix = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        for k in ("lock_timeout", "statement_timeout", "online_lock_timeout"):
            fix(k, v.duration(getattr(self, k), k.replace("_", " ")))
        fix("attempts", v.count(self.attempts, "attempts", 1, 1000))
        fix("online_attempts", v.count(self.online_attempts, "online attempts", 1, 10_000))
        fix("batch_size", v.count(self.batch_size, "batch size", 1, 10_000_000))
        fix("backoff_base", v.seconds(self.backoff_base, "backoff base"))
        fix("backoff_cap", v.seconds(self.backoff_cap, "backoff cap"))
        for k in ("backup_dir", "log_dir"):
            fix(k, v.path(getattr(self, k), k.replace("_", " ")))
        if self.backup_command is not None:
            fix("backup_command", v.command(self.backup_command, "the snapshot command"))
        if self.backup_jobs is not None:
            fix("backup_jobs", v.count(self.backup_jobs, "backup jobs", 0, v.MAX_BACKUP_JOBS))
        fix("checksums", v.choice(self.checksums, "checksums", ("auto", "all", "none")))
        fix("backup_scope", v.choice(self.backup_scope, "backup scope", ("full", "schema+changed")))
        fix("fill_scan", v.choice(self.fill_scan, "fill scan", ("auto", "pages", "key")))
        for k in ("backup", "backup_compress", "quiesced", "progress", "crud_check"):
            v.flag(getattr(self, k), k.replace("_", " "))
