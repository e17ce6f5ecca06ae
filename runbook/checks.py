"""A check: one named pass/fail with its evidence, as every verification reports it.

Each check says what it proves with an explicit :class:`Kind`; the reports group checks
by it, never by matching their names or their messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """What a check proves. The value is the label the reports show."""

    TABLE = "table names"
    STORAGE = "storage (relfilenode)"
    CONSTRAINT = "constraints"
    INDEX = "indexes"
    OLD_NAME = "old names gone"
    FUNCTION = "functions"
    STEP = "step took effect"
    ROWS = "rows and content"
    FILLED = "filled columns"
    SERVICE = "service"
    MERGE = "merge"
    RUN = "verification ran"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    kind: Kind = field(kw_only=True)
