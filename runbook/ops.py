"""The operations a plan is made of: small frozen data, SQL compiled from them.

Each operation knows
- its ``phase``: ``prepare`` (online, before the lock window: batched data work and
  constraints added ``NOT VALID``), ``lock`` (inside the one transaction that holds the
  exclusive locks: catalog-only changes) or ``finish`` (online, after COMMIT:
  validations);
- ``statements()``: its forward SQL;
- ``reverse()``: the operation that undoes it (alembic's ``reverse()`` habit), or
  ``None`` when there is nothing to undo;
- ``check()``: one SQL boolean expression that is true once it has taken effect.

Every identifier goes through :func:`runbook.naming.q`; no name is pasted raw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .naming import literal, q, qq
from .phases import FINISH, LOCK, PREPARE
STATE_SCHEMA = "runbook"


def dollar_quote(body: str, tag: str) -> str:
    """``$tag$body$tag$``, the tag lengthened (``$tag_$`` ...) until ``body`` cannot end
    it early: a literal or a name inside the body may hold ``$tag$`` itself
    (https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-DOLLAR-QUOTING)."""
    t = f"${tag}$"
    while (t + body + t).find(t, 1) != len(t) + len(body):
        tag += "_"
        t = f"${tag}$"
    return t + body + t


def _reg(schema: str, name: str) -> str:
    """``to_regclass('<quoted name>')`` as a literal: NULL when the relation is absent."""
    return f"to_regclass({literal(qq(schema, name))})"


@dataclass(frozen=True)
class Op:
    phase = LOCK
    kind = "op"
    #: dropped columns / types lose data: only reversed when the user asks
    drops_data = False

    def statements(self) -> list[str]:
        raise NotImplementedError

    def reverse(self) -> "Op | None":
        raise NotImplementedError

    def check(self) -> str:
        return "true"

    def transactions(self) -> list[list[str]]:
        """How the runner splits the statements into transactions when run online."""
        return [self.statements()]

    def describe(self) -> str:
        raise NotImplementedError

    @property
    def table(self) -> str | None:
        return getattr(self, "table_name", None)


@dataclass(frozen=True)
class CreateEnum(Op):
    schema: str
    name: str
    values: tuple[str, ...]
    kind = "create enum"

    def statements(self):
        vals = ", ".join(literal(v) for v in self.values)
        return [f"CREATE TYPE {qq(self.schema, self.name)} AS ENUM ({vals})"]

    def reverse(self):
        return DropEnum(self.schema, self.name, self.values)

    def check(self):
        return (f"(SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e "
                f"WHERE e.enumtypid = to_regtype({literal(qq(self.schema, self.name))})) = "
                f"ARRAY[{', '.join(literal(v) for v in self.values)}]::text[]")

    def describe(self):
        return f"create enum {self.name} ({', '.join(self.values)})"


@dataclass(frozen=True)
class DropEnum(Op):
    schema: str
    name: str
    values: tuple[str, ...]
    kind = "drop enum"
    drops_data = True

    def statements(self):
        return [f"DROP TYPE {qq(self.schema, self.name)}"]

    def reverse(self):
        return CreateEnum(self.schema, self.name, self.values)

    def check(self):
        return f"to_regtype({literal(qq(self.schema, self.name))}) IS NULL"

    def describe(self):
        return f"drop enum {self.name}"


@dataclass(frozen=True)
class RenameTable(Op):
    schema: str
    old: str
    new: str
    kind = "rename table"

    @property
    def table_name(self):
        return self.new

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.old)} RENAME TO {q(self.new)}"]

    def reverse(self):
        return RenameTable(self.schema, self.new, self.old)

    def check(self):
        return f"({_reg(self.schema, self.new)} IS NOT NULL AND {_reg(self.schema, self.old)} IS NULL)"

    def describe(self):
        return f"rename table {self.old} -> {self.new}"


@dataclass(frozen=True)
class RenameIndex(Op):
    schema: str
    table_name: str
    old: str
    new: str
    kind = "rename index"

    def statements(self):
        return [f"ALTER INDEX {qq(self.schema, self.old)} RENAME TO {q(self.new)}"]

    def reverse(self):
        return RenameIndex(self.schema, self.table_name, self.new, self.old)

    def check(self):
        return f"({_reg(self.schema, self.new)} IS NOT NULL AND {_reg(self.schema, self.old)} IS NULL)"

    def describe(self):
        return f"rename index {self.old} -> {self.new}"


@dataclass(frozen=True)
class RenameSequence(RenameIndex):
    kind = "rename sequence"

    def statements(self):
        return [f"ALTER SEQUENCE {qq(self.schema, self.old)} RENAME TO {q(self.new)}"]

    def reverse(self):
        return RenameSequence(self.schema, self.table_name, self.new, self.old)

    def describe(self):
        return f"rename sequence {self.old} -> {self.new}"


@dataclass(frozen=True)
class RenameStatistics(Op):
    """An extended statistics object (``CREATE STATISTICS``) named after the old table.
    Its names live in ``pg_statistic_ext``, per schema, not among the relations."""

    schema: str  # the statistics object's schema
    table_name: str
    old: str
    new: str
    kind = "rename statistics"

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


@dataclass(frozen=True)
class RenameConstraint(Op):
    schema: str
    table_name: str  # the table's name when this runs (its new name)
    old: str
    new: str
    kind = "rename constraint"

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.table_name)} RENAME CONSTRAINT {q(self.old)} TO {q(self.new)}"]

    def reverse(self):
        return RenameConstraint(self.schema, self.table_name, self.new, self.old)

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {_reg(self.schema, self.table_name)} "
                f"AND conname = {literal(self.new)})")

    def describe(self):
        return f"rename constraint {self.old} -> {self.new}"


@dataclass(frozen=True)
class RenameTrigger(Op):
    schema: str
    table_name: str
    old: str
    new: str
    kind = "rename trigger"

    def statements(self):
        return [f"ALTER TRIGGER {q(self.old)} ON {qq(self.schema, self.table_name)} RENAME TO {q(self.new)}"]

    def reverse(self):
        return RenameTrigger(self.schema, self.table_name, self.new, self.old)

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = {_reg(self.schema, self.table_name)} "
                f"AND tgname = {literal(self.new)})")

    def describe(self):
        return f"rename trigger {self.old} -> {self.new}"


@dataclass(frozen=True)
class RenameColumn(Op):
    schema: str
    table_name: str
    old: str
    new: str
    kind = "rename column"

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.table_name)} RENAME COLUMN {q(self.old)} TO {q(self.new)}"]

    def reverse(self):
        return RenameColumn(self.schema, self.table_name, self.new, self.old)

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = {_reg(self.schema, self.table_name)} "
                f"AND attname = {literal(self.new)} AND NOT attisdropped)")

    def describe(self):
        return f"rename column {self.table_name}.{self.old} -> {self.new}"


@dataclass(frozen=True)
class AddColumn(Op):
    schema: str
    table_name: str
    column: str
    type_sql: str  # already rendered (a safe type, or a quoted enum name)
    not_null: bool = False
    default_sql: str | None = None
    kind = "add column"

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

    def describe(self):
        return f"add column {self.table_name}.{self.column} {self.type_sql}"


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


@dataclass(frozen=True)
class SetDefault(Op):
    schema: str
    table_name: str
    column: str
    new_default: str | None
    old_default: str | None
    kind = "set default"

    def statements(self):
        col = f"ALTER TABLE {qq(self.schema, self.table_name)} ALTER COLUMN {q(self.column)}"
        if self.new_default is None:
            return [f"{col} DROP DEFAULT"]
        return [f"{col} SET DEFAULT {self.new_default}"]

    def reverse(self):
        return SetDefault(self.schema, self.table_name, self.column, self.old_default, self.new_default)

    def check(self):
        has = (f"EXISTS (SELECT 1 FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
               f"WHERE d.adrelid = {_reg(self.schema, self.table_name)} AND a.attname = {literal(self.column)})")
        return has if self.new_default is not None else f"NOT {has}"

    def describe(self):
        return f"set default {self.table_name}.{self.column} = {self.new_default or 'none'}"


@dataclass(frozen=True)
class FillNulls(Op):
    """Give NULLs in a column a placeholder, online, in batches, remembering which rows.

    A ``BEFORE INSERT OR UPDATE`` trigger fills rows written meanwhile; every filled
    row's key is recorded in ``runbook.filled`` (by table OID and column number, which
    survive renames), so that the rollback can put exactly those NULLs back.
    """

    schema: str
    table_name: str
    column: str
    pk: str
    value: str
    tag: str  # short unique suffix for the trigger and its function
    pk_type: str = "text"  # format_type of the key column (from the catalog)
    phase = PREPARE
    kind = "fill nulls"

    @property
    def func(self) -> str:
        return qq(STATE_SCHEMA, f"fill_{self.tag}")

    @property
    def trigger(self) -> str:
        return f"runbook_fill_{self.tag}"

    def install_statements(self) -> list[str]:
        t = qq(self.schema, self.table_name)
        body = (
            f"\nBEGIN\n"
            f"  IF NEW.{q(self.column)} IS NULL THEN\n"
            f"    NEW.{q(self.column)} := {literal(self.value)};\n"
            f"    INSERT INTO runbook.filled (relid, attnum, pk) SELECT TG_RELID, a.attnum, NEW.{q(self.pk)}::text\n"
            f"      FROM pg_attribute a WHERE a.attrelid = TG_RELID AND a.attname = TG_ARGV[0]\n"
            f"      ON CONFLICT DO NOTHING;\n"
            f"  END IF;\n"
            f"  RETURN NEW;\n"
            f"END "
        )
        return [
            f"CREATE OR REPLACE FUNCTION {self.func}() RETURNS trigger LANGUAGE plpgsql AS {dollar_quote(body, 'fn')}",
            f"DROP TRIGGER IF EXISTS {q(self.trigger)} ON {t}",
            f"CREATE TRIGGER {q(self.trigger)} BEFORE INSERT OR UPDATE OF {q(self.column)} ON {t} "
            f"FOR EACH ROW EXECUTE FUNCTION {self.func}({literal(self.column)})",
        ]

    def batch_statement(self, batch_size: int) -> str:
        """One batch: fill up to ``batch_size`` NULL rows and record their keys."""
        t = qq(self.schema, self.table_name)
        return (
            f"WITH todo AS (SELECT {q(self.pk)} FROM {t} WHERE {q(self.column)} IS NULL LIMIT {int(batch_size)} "
            f"FOR UPDATE SKIP LOCKED), "
            f"done AS (UPDATE {t} x SET {q(self.column)} = {literal(self.value)} FROM todo "
            f"WHERE x.{q(self.pk)} = todo.{q(self.pk)} RETURNING x.{q(self.pk)}) "
            f"INSERT INTO runbook.filled (relid, attnum, pk) "
            f"SELECT {_reg(self.schema, self.table_name)}, (SELECT attnum FROM pg_attribute WHERE attrelid = "
            f"{_reg(self.schema, self.table_name)} AND attname = {literal(self.column)}), {q(self.pk)}::text FROM done "
            f"ON CONFLICT DO NOTHING"
        )

    def keyset_statement(self, batch_size: int, after: str | None) -> str:
        """One batch walking the primary key upwards (one pass over the table in all):
        returns the rows filled and the last key, to start the next batch after it."""
        t = qq(self.schema, self.table_name)
        pk = q(self.pk)
        start = f"AND {pk} > {literal(after)}::{self.pk_type} " if after is not None else ""
        rel = _reg(self.schema, self.table_name)
        return (
            f"WITH todo AS (SELECT {pk} FROM {t} WHERE {q(self.column)} IS NULL {start}"
            f"ORDER BY {pk} LIMIT {int(batch_size)} FOR UPDATE SKIP LOCKED), "
            f"done AS (UPDATE {t} x SET {q(self.column)} = {literal(self.value)} FROM todo "
            f"WHERE x.{pk} = todo.{pk} RETURNING x.{pk}), "
            f"ins AS (INSERT INTO runbook.filled (relid, attnum, pk) "
            f"SELECT {rel}, (SELECT attnum FROM pg_attribute WHERE attrelid = {rel} AND attname = "
            f"{literal(self.column)}), {pk}::text FROM done ON CONFLICT DO NOTHING) "
            f"SELECT count(*), max({pk})::text FROM done"
        )

    def pages_statement(self, first_page: int, pages: int) -> str:
        """One batch over a range of heap pages (a TID Range Scan, PostgreSQL 14 and later):
        fill the NULL rows stored in pages ``[first_page, first_page + pages)``, record
        their keys, and return how many. Walking the table in page order reads each page
        once however the planner would order the key, so the whole fill is one pass."""
        t = qq(self.schema, self.table_name)
        pk = q(self.pk)
        rel = _reg(self.schema, self.table_name)
        lo, hi = f"'({int(first_page)},0)'::tid", f"'({int(first_page) + int(pages)},0)'::tid"
        # The rows are found and locked by ctid and updated by ctid (a locked row keeps
        # it): joined by key instead, the planner hashes the batch and scans the whole
        # table for every batch once the batch has some thousands of rows.
        return (
            f"WITH todo AS (SELECT ctid FROM {t} WHERE ctid >= {lo} AND ctid < {hi} AND {q(self.column)} IS NULL "
            f"FOR UPDATE SKIP LOCKED), "
            f"done AS (UPDATE {t} x SET {q(self.column)} = {literal(self.value)} "
            f"WHERE x.ctid = ANY(ARRAY(SELECT ctid FROM todo)) RETURNING x.{pk}), "
            f"ins AS (INSERT INTO runbook.filled (relid, attnum, pk) "
            f"SELECT {rel}, (SELECT attnum FROM pg_attribute WHERE attrelid = {rel} AND attname = "
            f"{literal(self.column)}), {pk}::text FROM done ON CONFLICT DO NOTHING) "
            f"SELECT count(*) FROM done"
        )

    def statements(self):
        # As rendered for a person running the script by hand: the same batches in a DO loop.
        loop = "DO " + dollar_quote(
            "\nDECLARE n bigint;\nBEGIN\n  LOOP\n"
            f"    {self.batch_statement(10000)};\n"
            "    GET DIAGNOSTICS n = ROW_COUNT;\n    COMMIT;\n    EXIT WHEN n = 0;\n  END LOOP;\nEND ", "fill")
        from .state import SCHEMA_SQL

        return [SCHEMA_SQL.strip().rstrip(";"), *self.install_statements(), loop]

    def reverse(self):
        return RestoreNulls(self.schema, self.table_name, self.column, self.pk, self.value, self.tag, self.pk_type)

    def check(self):
        return f"NOT EXISTS (SELECT 1 FROM {qq(self.schema, self.table_name)} WHERE {q(self.column)} IS NULL)"

    def describe(self):
        return f"fill NULL {self.table_name}.{self.column} with {self.value!r} (batched, recorded)"


@dataclass(frozen=True)
class RestoreNulls(FillNulls):
    """Put back the NULLs the fill replaced: online, after the rollback's lock
    transaction has committed (DROP NOT NULL is in it), in batches, each batch deleting
    its records from ``runbook.filled`` in the same transaction (so it resumes)."""

    phase = FINISH
    kind = "restore nulls"

    def cleanup_statements(self) -> list[str]:
        t = qq(self.schema, self.table_name)
        return [f"DROP TRIGGER IF EXISTS {q(self.trigger)} ON {t}", f"DROP FUNCTION IF EXISTS {self.func}()"]

    def batch_statement(self, batch_size: int) -> str:
        t = qq(self.schema, self.table_name)
        rel = _reg(self.schema, self.table_name)
        att = f"(SELECT attnum FROM pg_attribute WHERE attrelid = {rel} AND attname = {literal(self.column)})"
        return (
            f"WITH batch AS (DELETE FROM runbook.filled f WHERE (f.relid, f.attnum, f.pk) IN ("
            f"SELECT relid, attnum, pk FROM runbook.filled WHERE relid = {rel} AND attnum = {att} "
            f"LIMIT {int(batch_size)}) RETURNING f.pk), "
            f"upd AS (UPDATE {t} x SET {q(self.column)} = NULL FROM batch "
            f"WHERE x.{q(self.pk)} = batch.pk::{self.pk_type} AND x.{q(self.column)} = {literal(self.value)} RETURNING 1) "
            f"SELECT count(*) FROM batch"
        )

    def statements(self):
        t = qq(self.schema, self.table_name)
        rec = (f"runbook.filled f WHERE f.relid = {_reg(self.schema, self.table_name)} AND f.attnum = "
               f"(SELECT attnum FROM pg_attribute WHERE attrelid = {_reg(self.schema, self.table_name)} "
               f"AND attname = {literal(self.column)})")
        return [
            f"DROP TRIGGER IF EXISTS {q(self.trigger)} ON {t}",
            f"DROP FUNCTION IF EXISTS {self.func}()",
            f"UPDATE {t} x SET {q(self.column)} = NULL FROM {rec} AND f.pk = x.{q(self.pk)}::text "
            f"AND x.{q(self.column)} = {literal(self.value)}",
            f"DELETE FROM {rec}",
        ]

    def reverse(self):
        return None

    def check(self):
        return "true"

    def describe(self):
        return f"put back the NULLs of {self.table_name}.{self.column}"


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


@dataclass(frozen=True)
class DropConstraint(Op):
    schema: str
    table_name: str
    name: str
    kind = "drop constraint"

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.table_name)} DROP CONSTRAINT IF EXISTS {q(self.name)}"]

    def reverse(self):
        return None

    def check(self):
        return (f"NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {_reg(self.schema, self.table_name)} "
                f"AND conname = {literal(self.name)})")

    def describe(self):
        return f"drop constraint {self.name} on {self.table_name}"


@dataclass(frozen=True)
class SetNotNull(Op):
    """``SET NOT NULL`` (no scan: a validated CHECK proves it), then drop that CHECK and
    the fill trigger, which have done their work."""

    schema: str
    table_name: str
    column: str
    check_name: str | None = None
    fill: FillNulls | None = None
    kind = "set not null"

    def statements(self):
        t = qq(self.schema, self.table_name)
        out = [f"ALTER TABLE {t} ALTER COLUMN {q(self.column)} SET NOT NULL"]
        if self.check_name:
            out.append(f"ALTER TABLE {t} DROP CONSTRAINT {q(self.check_name)}")
        if self.fill:
            out.append(f"DROP TRIGGER IF EXISTS {q(self.fill.trigger)} ON {t}")
            out.append(f"DROP FUNCTION IF EXISTS {self.fill.func}()")
        return out

    def reverse(self):
        return DropNotNull(self.schema, self.table_name, self.column)

    def check(self):
        return (f"(SELECT attnotnull FROM pg_attribute WHERE attrelid = {_reg(self.schema, self.table_name)} "
                f"AND attname = {literal(self.column)})")

    def describe(self):
        return f"set {self.table_name}.{self.column} NOT NULL"


@dataclass(frozen=True)
class DropNotNull(Op):
    schema: str
    table_name: str
    column: str
    kind = "drop not null"

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.table_name)} ALTER COLUMN {q(self.column)} DROP NOT NULL"]

    def reverse(self):
        return SetNotNull(self.schema, self.table_name, self.column)

    def check(self):
        return (f"NOT (SELECT attnotnull FROM pg_attribute WHERE attrelid = {_reg(self.schema, self.table_name)} "
                f"AND attname = {literal(self.column)})")

    def describe(self):
        return f"drop NOT NULL of {self.table_name}.{self.column}"


@dataclass(frozen=True)
class AddForeignKey(Op):
    """Added ``NOT VALID`` (no scan under the lock); :class:`ValidateConstraint` follows
    after COMMIT."""

    schema: str
    table_name: str
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "RESTRICT"
    on_update: str = "CASCADE"
    kind = "add foreign key"

    def statements(self):
        cols = ", ".join(q(c) for c in self.columns)
        refs = ", ".join(q(c) for c in self.ref_columns)
        return [
            f"ALTER TABLE {qq(self.schema, self.table_name)} ADD CONSTRAINT {q(self.name)} FOREIGN KEY ({cols}) "
            f"REFERENCES {qq(self.schema, self.ref_table)}({refs}) ON DELETE {self.on_delete} ON UPDATE {self.on_update} NOT VALID"
        ]

    def reverse(self):
        return DropConstraint(self.schema, self.table_name, self.name)

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {_reg(self.schema, self.table_name)} "
                f"AND conname = {literal(self.name)} AND contype = 'f')")

    def describe(self):
        return f"add foreign key {self.name} -> {self.ref_table} (NOT VALID)"


@dataclass(frozen=True)
class ValidateConstraint(Op):
    schema: str
    table_name: str
    name: str
    phase = FINISH
    kind = "validate constraint"

    def statements(self):
        return [f"ALTER TABLE {qq(self.schema, self.table_name)} VALIDATE CONSTRAINT {q(self.name)}"]

    def reverse(self):
        return None

    def check(self):
        return (f"EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {_reg(self.schema, self.table_name)} "
                f"AND conname = {literal(self.name)} AND convalidated)")

    def describe(self):
        return f"validate {self.name}"


@dataclass(frozen=True)
class ReplaceFunction(Op):
    """A function whose body names a renamed table (or column) as text: it does not
    follow the rename by OID the way views, triggers and foreign keys do. The new
    definition replaces only those identifiers; the old one is kept for the rollback."""

    signature: str  # schema.name(args), for messages
    regprocedure: str
    old_definition: str
    new_definition: str
    new_source: str
    kind = "replace function"

    def statements(self):
        return [self.new_definition.rstrip().rstrip(";")]

    def reverse(self):
        return ReplaceFunction(self.signature, self.regprocedure, self.new_definition, self.old_definition,
                               _source_of(self.old_definition))

    def check(self):
        return f"(SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure({literal(self.regprocedure)})) = {literal(self.new_source)}"

    def describe(self):
        return f"rewrite function {self.signature}"


def _source_of(definition: str) -> str:
    """The body of a ``pg_get_functiondef`` text (between its dollar-quote tags)."""
    import re

    m = re.search(r"AS (\$[A-Za-z_]*\$)(.*)\1", definition, re.S)
    return m.group(2) if m else ""


# -- serialisation: a plan is stored with its run, so the rollback is that same plan ------

def _registry() -> dict[str, type]:
    out = {}
    stack = [Op]
    while stack:
        c = stack.pop()
        for sub in c.__subclasses__():
            out[sub.__name__] = sub
            stack.append(sub)
    return out


def op_to_dict(op: Op) -> dict:
    from dataclasses import fields

    d = {"op": type(op).__name__}
    for f in fields(op):
        v = getattr(op, f.name)
        d[f.name] = op_to_dict(v) if isinstance(v, Op) else (list(v) if isinstance(v, tuple) else v)
    return d


def op_from_dict(d: dict) -> Op:
    from dataclasses import fields

    cls = _registry()[d["op"]]
    kw = {}
    for f in fields(cls):
        v = d.get(f.name)
        if isinstance(v, dict) and "op" in v:
            v = op_from_dict(v)
        elif isinstance(v, list):
            v = tuple(v)
        kw[f.name] = v
    return cls(**kw)
