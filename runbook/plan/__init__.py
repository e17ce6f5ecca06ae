"""The plan: snapshot + mapping -> one ordered list of operations, as frozen data.

* :mod:`.model`: :class:`Plan` (its SQL, fingerprint, reverse and scripts),
  :class:`TableState`, :class:`Blocker`;
* :mod:`.build`: :func:`build_plan`, one small planner per concern (tables, columns,
  added columns, enums, foreign keys, defaults);
* :mod:`.names`: the names of dependent objects (Prisma's names, partition clones);
* :mod:`.functions`: function bodies that name a renamed table;
* :mod:`.lock_order`: the order the lock phase locks the tables in.

The operations themselves are :mod:`runbook.ops`.
"""

from .build import build_plan
from .model import MIGRATION_FILE, ROLLBACK_FILE, Blocker, Plan, TableState, comment, raise_for_blockers

__all__ = ["MIGRATION_FILE", "ROLLBACK_FILE", "Blocker", "Plan", "TableState", "build_plan", "comment",
           "raise_for_blockers"]
