"""Online fills: NULLs given a placeholder in batches before the lock window, every filled row
recorded so the rollback can put its NULL back."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..naming import literal, q, qq
from .base import FINISH, PREPARE, STATE_SCHEMA, Op, _reg, dollar_quote, operation


@operation
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
    identifiers = ("schema", "table_name", "column", "pk")
    texts = ("pk_type",)

    @property
    def func(self) -> str:
        return qq(STATE_SCHEMA, f"fill_{self.tag}")

    @property
    def trigger(self) -> str:
        return f"runbook_fill_{self.tag}"

    def install_statements(self) -> list[str]:
        t = qq(self.schema, self.table_name)
        return [
            self.function_statement(),
            f"DROP TRIGGER IF EXISTS {q(self.trigger)} ON {t}",
            f"CREATE TRIGGER {q(self.trigger)} BEFORE INSERT OR UPDATE OF {q(self.column)} ON {t} "
            f"FOR EACH ROW EXECUTE FUNCTION {self.func}()",
        ]

    def function_statement(self) -> str:
        """The trigger function. It records the filled column by its number, which it reads
        from its own trigger (``UPDATE OF`` the column: ``tgattr``, by number too), not by
        name: a trigger kept through the lock window's renames records the same column
        (:class:`runbook.ops.KeepFilling` then replaces only this function, whose body
        names the column and the key)."""
        body = (
            f"\nBEGIN\n"
            f"  IF NEW.{q(self.column)} IS NULL THEN\n"
            f"    NEW.{q(self.column)} := {literal(self.value)};\n"
            f"    INSERT INTO runbook.filled (relid, attnum, pk) SELECT TG_RELID, t.tgattr[0], NEW.{q(self.pk)}::text\n"
            f"      FROM pg_trigger t WHERE t.tgrelid = TG_RELID AND t.tgname = TG_NAME\n"
            f"      ON CONFLICT DO NOTHING;\n"
            f"  END IF;\n"
            f"  RETURN NEW;\n"
            f"END "
        )
        # SECURITY DEFINER: the service's roles write the table while the fill runs, and
        # need not be able to use schema runbook, where the filled rows are recorded; a
        # fixed search_path, as such a function needs
        return (f"CREATE OR REPLACE FUNCTION {self.func}() RETURNS trigger LANGUAGE plpgsql "
                f"SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS {dollar_quote(body, 'fn')}")

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

    def _validate(self):
        # the tag names the fill's trigger and function (fill_<tag>): letters and digits only
        return [None if isinstance(self.value, str) else "value is not a text",
                None if isinstance(self.tag, str) and re.fullmatch(r"[0-9a-z]{1,32}", self.tag)
                else "tag is not a short key of lowercase letters and digits"]

    def statements(self):
        # As rendered for a person running the script by hand: the same batches in a DO loop.
        loop = "DO " + dollar_quote(
            "\nDECLARE n bigint;\nBEGIN\n  LOOP\n"
            f"    {self.batch_statement(10000)};\n"
            "    GET DIAGNOSTICS n = ROW_COUNT;\n    COMMIT;\n    EXIT WHEN n = 0;\n  END LOOP;\nEND ", "fill")
        from ..state import SCHEMA_SQL

        return [SCHEMA_SQL.strip().rstrip(";"), *self.install_statements(), loop]

    def reverse(self):
        return RestoreNulls(self.schema, self.table_name, self.column, self.pk, self.value, self.tag, self.pk_type)

    def check(self):
        return f"NOT EXISTS (SELECT 1 FROM {qq(self.schema, self.table_name)} WHERE {q(self.column)} IS NULL)"

    def describe(self):
        return f"fill NULL {self.table_name}.{self.column} with {self.value!r} (batched, recorded)"


@operation
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
