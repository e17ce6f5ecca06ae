"""Renames: tables, columns, and the names of their dependent objects. Catalog-only, in the lock phase."""

from __future__ import annotations

from dataclasses import dataclass

from ..naming import literal, q, qq
from .base import Op, _reg, operation


@operation
@dataclass(frozen=True)
class RenameTable(Op):
    schema: str
    old: str
    new: str
    kind = "rename table"
    changes = ((None, "old"), (None, "new"))
    name_scope = "relation"
    identifiers = ("schema", "old", "new")

    @property
    def table_name(self):
        return self.new

    def _validate(self):
        return [f"renames {self.old!r} to itself" if self.old == self.new else None]

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.old)} RENAME TO {q(self.new)}"]

    def reverse(self):
        return RenameTable(self.schema, self.new, self.old)

    def check(self):
        return f"({_reg(self.schema, self.new)} IS NOT NULL AND {_reg(self.schema, self.old)} IS NULL)"

    set_check = "relation renamed"

    def set_check_values(self):
        return qq(self.schema, self.new), qq(self.schema, self.old)

    def describe(self):
        return f"rename table {self.old} -> {self.new}"


@operation
@dataclass(frozen=True)
class RenameIndex(Op):
    schema: str
    table_name: str
    old: str
    new: str
    kind = "rename index"
    changes = ((None, "old"), (None, "new"))
    name_scope = "relation"
    identifiers = ("schema", "table_name", "old", "new")

    def _validate(self):
        return [f"renames {self.old!r} to itself" if self.old == self.new else None]

    def statements(self):
        return [f"ALTER INDEX {qq(self.schema, self.old)} RENAME TO {q(self.new)}"]

    def reverse(self):
        return RenameIndex(self.schema, self.table_name, self.new, self.old)

    def check(self):
        return f"({_reg(self.schema, self.new)} IS NOT NULL AND {_reg(self.schema, self.old)} IS NULL)"

    set_check = "relation renamed"

    def set_check_values(self):
        return qq(self.schema, self.new), qq(self.schema, self.old)

    def describe(self):
        return f"rename index {self.old} -> {self.new}"


@operation
@dataclass(frozen=True)
class RenameSequence(RenameIndex):
    kind = "rename sequence"

    def statements(self):
        return [f"ALTER SEQUENCE {qq(self.schema, self.old)} RENAME TO {q(self.new)}"]

    def reverse(self):
        return RenameSequence(self.schema, self.table_name, self.new, self.old)

    def describe(self):
        return f"rename sequence {self.old} -> {self.new}"


@operation
@dataclass(frozen=True)
class RenameStatistics(Op):
    """An extended statistics object (``CREATE STATISTICS``) named after the old table.
    Its names live in ``pg_statistic_ext``, per schema, not among the relations."""

    schema: str  # the statistics object's schema
    table_name: str
    old: str
    new: str
    kind = "rename statistics"
    changes = ((None, "old"), (None, "new"))
    name_scope = "statistics"
    identifiers = ("schema", "table_name", "old", "new")

    def _validate(self):
        return [f"renames {self.old!r} to itself" if self.old == self.new else None]

    def statements(self):
        return [f"ALTER STATISTICS {qq(self.schema, self.old)} RENAME TO {q(self.new)}"]

    def reverse(self):
        return RenameStatistics(self.schema, self.table_name, self.new, self.old)

    def _exists(self, name: str) -> str:
        return (f"EXISTS (SELECT 1 FROM pg_statistic_ext WHERE stxnamespace = to_regnamespace({literal(q(self.schema))}) "
                f"AND stxname = {literal(name)})")

    def check(self):
        return f"({self._exists(self.new)} AND NOT {self._exists(self.old)})"

    def describe(self):
        return f"rename statistics {self.old} -> {self.new}"


@operation
@dataclass(frozen=True)
class RenameConstraint(Op):
    schema: str
    table_name: str  # the table's name when this runs (its new name)
    old: str
    new: str
    kind = "rename constraint"
    changes = ((None, "old"), (None, "new"))
    identifiers = ("schema", "table_name", "old", "new")

    def _validate(self):
        return [f"renames {self.old!r} to itself" if self.old == self.new else None]

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.table_name)} RENAME CONSTRAINT {q(self.old)} TO {q(self.new)}"]

    def reverse(self):
        return RenameConstraint(self.schema, self.table_name, self.new, self.old)

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {_reg(self.schema, self.table_name)} "
                f"AND conname = {literal(self.new)})")

    set_check = "constraint named"

    def set_check_values(self):
        return qq(self.schema, self.table_name), self.new

    def describe(self):
        return f"rename constraint {self.old} -> {self.new}"


@operation
@dataclass(frozen=True)
class RenameTrigger(Op):
    schema: str
    table_name: str
    old: str
    new: str
    kind = "rename trigger"
    changes = ((None, "old"), (None, "new"))
    identifiers = ("schema", "table_name", "old", "new")

    def _validate(self):
        return [f"renames {self.old!r} to itself" if self.old == self.new else None]

    def statements(self):
        return [f"ALTER TRIGGER {q(self.old)} ON {qq(self.schema, self.table_name)} RENAME TO {q(self.new)}"]

    def reverse(self):
        return RenameTrigger(self.schema, self.table_name, self.new, self.old)

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = {_reg(self.schema, self.table_name)} "
                f"AND tgname = {literal(self.new)})")

    set_check = "trigger named"

    def set_check_values(self):
        return qq(self.schema, self.table_name), self.new

    def describe(self):
        return f"rename trigger {self.old} -> {self.new}"


@operation
@dataclass(frozen=True)
class RenameColumn(Op):
    schema: str
    table_name: str
    old: str
    new: str
    kind = "rename column"
    changes = ((None, "old"), (None, "new"))
    identifiers = ("schema", "table_name", "old", "new")

    def _validate(self):
        return [f"renames {self.old!r} to itself" if self.old == self.new else None]

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.table_name)} RENAME COLUMN {q(self.old)} TO {q(self.new)}"]

    def reverse(self):
        return RenameColumn(self.schema, self.table_name, self.new, self.old)

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = {_reg(self.schema, self.table_name)} "
                f"AND attname = {literal(self.new)} AND NOT attisdropped)")

    set_check = "column named"

    def set_check_values(self):
        return qq(self.schema, self.table_name), self.new

    def describe(self):
        return f"rename column {self.table_name}.{self.old} -> {self.new}"
