"""Running a plan against a database: one at a time, backup first, one transaction,
verify, or undo (spec 2.4 and 5.2). :class:`Runner` is the entry; see its module for
the order of a run.

    runner.py      Runner: migrate (dry run, rehearse, approved fingerprint), rollback
    options.py     Options: the knobs of a run
    results.py     RunResult, StepResult, PreflightCheck: what a run returns
    context.py     RunContext: what the parts of one run share (log, steps, audit rows)
    preflight.py   the preflight checks (spec 6.2)
    backup.py      pg_dump / pg_restore: the backup, its checks, the restore
    online.py      the online steps: fills, retry and backoff, lock-timeout errors
    lock_window.py the lock window: the one transaction, its batch, its marks
    recovery.py    crash recovery: interrupted runs, committed-not-verified runs
    rollback.py    rollback: the plan reversed, backup before dropping columns
    audit.py       the audit rows
    failures.py    how failures are told (server errors, interruptions)
    faults.py      fault injection for the crash tests (RUNBOOK_FAULT)
"""

from ..locks import ADVISORY_KEY
from .options import Options
from .results import PreflightCheck, RunResult, StepResult
from .runner import Runner

__all__ = ["ADVISORY_KEY", "Options", "PreflightCheck", "RunResult", "Runner", "StepResult"]
