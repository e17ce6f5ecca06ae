"""runbook: rename the tables of a live, Prisma-managed PostgreSQL database safely.

The public API the command line and the notebooks call::

    analysis = runbook.analyze(url)          # frozen facts + the plan
    plan = runbook.plan(url)                 # operations, SQL, fingerprint
    result = runbook.migrate(url)            # backup, one transaction, verify
    report = runbook.verify(url)             # every check, pass/fail
    back = runbook.rollback(url)             # the plan, reversed
"""

__version__ = "0.1.0"

from .api import analyze, migrate, plan, restore, rollback, verify  # noqa: E402,F401
