"""Columns: added ones, defaults, and NOT NULL made safely (a CHECK added NOT VALID and validated
online, then SET NOT NULL, which skips its scan on that validated CHECK)."""

from __future__ import annotations

from dataclasses import dataclass

from ..naming import literal, q, qq
from .base import PREPARE, Op, _reg, operation
from .fills import FillNulls


@operation
@dataclass(frozen=True)
class AddColumn(Op):
    schema: str
    table_name: str
    column: str
    type_sql: str  # already rendered (a safe type, or a quoted enum name)
    not_null: bool = False
    default_sql: str | None = None
    kind = "add column"
    changes = ((None, "column"),)
    identifiers = ("schema", "table_name", "column")
    texts = ("type_sql",)

    def _validate(self):
        return [None if isinstance(self.not_null, bool) else "not_null is not true or false",
                None if self.default_sql is None or (isinstance(self.default_sql, str) and self.default_sql.strip())
                else "default_sql is empty"]

    def statements(self):
        s = f"ALTER TABLE {qq(self.schema, self.table_name)} ADD COLUMN {q(self.column)} {self.type_sql}"
        if self.not_null:
            s += " NOT NULL"
        if self.default_sql is not None:
            s += f" DEFAULT {self.default_sql}"
        return [s]

    def reverse(self):
        return DropColumn(self.schema, self.table_name, self.column, self.type_sql, self.not_null, self.default_sql)

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = {_reg(self.schema, self.table_name)} "
                f"AND attname = {literal(self.column)} AND NOT attisdropped)")

    set_check = "column named"

    def set_check_values(self):
        return qq(self.schema, self.table_name), self.column

    def describe(self):
        return f"add column {self.table_name}.{self.column} {self.type_sql}"


@operation
@dataclass(frozen=True)
class DropColumn(AddColumn):
    kind = "drop column"
    drops_data = True

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.table_name)} DROP COLUMN {q(self.column)}"]

    def reverse(self):
        return AddColumn(self.schema, self.table_name, self.column, self.type_sql, self.not_null, self.default_sql)

    def check(self):
        return f"NOT {super().check()}"

    def describe(self):
        return f"drop column {self.table_name}.{self.column}"


@operation
@dataclass(frozen=True)
class SetDefault(Op):
    schema: str
    table_name: str
    column: str
    new_default: str | None
    old_default: str | None
    kind = "set default"
    changes = (("default", "column"),)
    identifiers = ("schema", "table_name", "column")

    def _validate(self):
        return [f"{name} is empty" for name in ("new_default", "old_default")
                if getattr(self, name) is not None and not (isinstance(getattr(self, name), str)
                                                            and getattr(self, name).strip())]

    def statements(self):
        col = f"ALTER TABLE {qq(self.schema, self.table_name)} ALTER COLUMN {q(self.column)}"
        if self.new_default is None:
            return [f"{col} DROP DEFAULT"]
        return [f"{col} SET DEFAULT {self.new_default}"]

    def reverse(self):
        return SetDefault(self.schema, self.table_name, self.column, self.old_default, self.new_default)

    def check(self):
        # atthasdef: the column has a row in pg_attrdef (a join with it cost 0.1 ms a check)
        has = (f"EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = {_reg(self.schema, self.table_name)} "
               f"AND a.attname = {literal(self.column)} AND a.atthasdef)")
        return has if self.new_default is not None else f"NOT {has}"

    def describe(self):
        return f"set default {self.table_name}.{self.column} = {self.new_default or 'none'}"


@operation
@dataclass(frozen=True)
class AddNotNullCheck(Op):
    """``CHECK (col IS NOT NULL) NOT VALID`` then ``VALIDATE`` (no exclusive lock held
    while it scans), so that the later ``SET NOT NULL`` skips its scan (PostgreSQL 12+:
    https://www.postgresql.org/docs/current/sql-altertable.html, "SET/DROP NOT NULL")."""

    schema: str
    table_name: str
    column: str
    name: str
    phase = PREPARE
    kind = "add check"
    identifiers = ("schema", "table_name", "column", "name")

    def statements(self):
        t = qq(self.schema, self.table_name)
        return [
            f"ALTER TABLE {t} ADD CONSTRAINT {q(self.name)} CHECK ({q(self.column)} IS NOT NULL) NOT VALID",
            f"ALTER TABLE {t} VALIDATE CONSTRAINT {q(self.name)}",
        ]

    def transactions(self) -> list[list[str]]:
        # ADD takes ACCESS EXCLUSIVE for a moment; VALIDATE scans under SHARE UPDATE
        # EXCLUSIVE (reads and writes go on): they must not share a transaction.
        return [[s] for s in self.statements()]

    def reverse(self):
        return DropConstraint(self.schema, self.table_name, self.name)

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {_reg(self.schema, self.table_name)} "
                f"AND conname = {literal(self.name)} AND convalidated)")

    def describe(self):
        return f"add and validate CHECK ({self.column} IS NOT NULL) on {self.table_name}"


@operation
@dataclass(frozen=True)
class DropConstraint(Op):
    schema: str
    table_name: str
    name: str
    kind = "drop constraint"
    changes = ((None, "name"),)
    identifiers = ("schema", "table_name", "name")

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.table_name)} DROP CONSTRAINT IF EXISTS {q(self.name)}"]

    def reverse(self):
        return None

    def check(self):
        return (f"NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {_reg(self.schema, self.table_name)} "
                f"AND conname = {literal(self.name)})")

    def describe(self):
        return f"drop constraint {self.name} on {self.table_name}"


@operation
@dataclass(frozen=True)
class SetNotNull(Op):
    """``SET NOT NULL`` (no scan: a validated CHECK proves it), then drop that CHECK and
    the fill trigger, which have done their work (unless ``keep_fill``: a compat view's
    legacy clients may still write NULL, :class:`runbook.ops.KeepFilling`)."""

    schema: str
    table_name: str
    column: str
    check_name: str | None = None
    fill: FillNulls | None = None
    keep_fill: bool | None = None  # None: a plan stored before it (False)
    kind = "set not null"
    changes = (("not null", "column"), (None, "check_name"))
    identifiers = ("schema", "table_name", "column")
    optional_identifiers = ("check_name",)

    def _validate(self):
        if self.fill is None:
            return [None if not self.keep_fill else "keep_fill without a fill"]
        if not (self.keep_fill is None or isinstance(self.keep_fill, bool)):
            return ["keep_fill is not true or false"]
        if not isinstance(self.fill, FillNulls):
            return ["fill is not a fill of NULLs"]
        return self.fill.validate()

    def statements(self):
        t = qq(self.schema, self.table_name)
        out = [f"ALTER TABLE {t} ALTER COLUMN {q(self.column)} SET NOT NULL"]
        if self.check_name:
            out.append(f"ALTER TABLE {t} DROP CONSTRAINT {q(self.check_name)}")
        if self.fill and not self.keep_fill:
            out.append(f"DROP TRIGGER IF EXISTS {q(self.fill.trigger)} ON {t}")
            out.append(f"DROP FUNCTION IF EXISTS {self.fill.func}()")
        return out

    def reverse(self):
        return DropNotNull(self.schema, self.table_name, self.column)

    def check(self):
        return (f"(SELECT attnotnull FROM pg_attribute WHERE attrelid = {_reg(self.schema, self.table_name)} "
                f"AND attname = {literal(self.column)})")

    set_check = "not null"

    def set_check_values(self):
        return qq(self.schema, self.table_name), self.column

    def describe(self):
        return f"set {self.table_name}.{self.column} NOT NULL"


@operation
@dataclass(frozen=True)
class DropNotNull(Op):
    schema: str
    table_name: str
    column: str
    kind = "drop not null"
    changes = (("not null", "column"),)
    identifiers = ("schema", "table_name", "column")

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.table_name)} ALTER COLUMN {q(self.column)} DROP NOT NULL"]

    def reverse(self):
        return SetNotNull(self.schema, self.table_name, self.column)

    def check(self):
        return (f"NOT (SELECT attnotnull FROM pg_attribute WHERE attrelid = {_reg(self.schema, self.table_name)} "
                f"AND attname = {literal(self.column)})")

    def describe(self):
        return f"drop NOT NULL of {self.table_name}.{self.column}"
