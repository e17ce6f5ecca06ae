"""Columns: every scalar field has its column (``@map``) with a compatible type,
nullability and default; and **a NOT NULL column without a default that the model does
not know makes every insert from that client fail** (``users."passwordHash"``)."""

from __future__ import annotations

from ..catalog.inspect import Column, Snapshot, Table
from ..naming import q
from ..prisma import Call, Field, Model, Schema
from .defaults import default_findings, default_sql, fills_itself
from .findings import BLOCKER, INFO, READS, WARNING, WRITES, Finding
from .types import enum_findings, expected_type, type_findings

__all__ = ["column_sql", "field_findings", "unknown_column_findings"]


def column_sql(f: Field, schema: Schema, db_schema: str = "public") -> str:
    """The column of field ``f`` as ``prisma migrate`` declares it: name, type, NOT NULL, DEFAULT."""
    t = expected_type(f, schema, db_schema)
    serial = isinstance(f.default, Call) and f.default.name in ("autoincrement", "sequence")
    if serial and not f.list:
        t = {"integer": "SERIAL", "bigint": "BIGSERIAL", "smallint": "SMALLSERIAL"}.get(t, t)
    parts = [q(f.db_name), t.upper() if t.islower() and '"' not in t else t]
    if not f.optional and not f.list:
        parts.append("NOT NULL")
    d = default_sql(f, schema)
    if d is not None and not serial:
        parts.append(f"DEFAULT {d}")
    return " ".join(parts)


def field_findings(model: Model, f: Field, t: Table, schema: Schema, snap: Snapshot, db_schema: str,
                   tq: str) -> list[Finding]:
    """One scalar field against its column of table ``t``: exists, type, nullability, default."""
    col = t.column(f.db_name)
    if col is None:
        return [Finding(model.name, tq, f.db_name, "column", BLOCKER, "column does not exist",
                        f"every query of {model.name} fails (the client selects {f.db_name})",
                        f"ALTER TABLE {tq} ADD COLUMN {column_sql(f, schema, db_schema)}", (READS, WRITES))]
    if f.kind == "enum":
        out = enum_findings(model, f, col, schema, snap, db_schema, tq)
    else:
        out = type_findings(model, f, col, schema, db_schema, tq)
    return out + _nullability_findings(model, f, col, tq) + default_findings(model, f, col, schema, tq)


def _nullability_findings(model: Model, f: Field, col: Column, tq: str) -> list[Finding]:
    if not f.optional and not f.list and not col.not_null:
        return [Finding(model.name, tq, col.name, "nullability", WARNING, "nullable, the field is required",
                        f"reading a {model.name} whose {col.name} is NULL fails in the client",
                        f"fill the NULLs, then ALTER TABLE {tq} ALTER COLUMN {q(col.name)} SET NOT NULL")]
    if not (f.optional and col.not_null):
        return []
    if fills_itself(col) or f.is_id:
        return [Finding(model.name, tq, col.name, "nullability", WARNING, "NOT NULL, the field is optional",
                        f"setting {model.name}.{f.name} to null fails",
                        f"ALTER TABLE {tq} ALTER COLUMN {q(col.name)} DROP NOT NULL")]
    return [Finding(model.name, tq, col.name, "nullability", BLOCKER, "NOT NULL without default, the field is optional",
                    f"creating a {model.name} without {f.name} fails (not-null violation)",
                    f"ALTER TABLE {tq} ALTER COLUMN {q(col.name)} DROP NOT NULL", (WRITES,))]


def unknown_column_findings(model: Model, t: Table, known: set[str], tq: str) -> list[Finding]:
    """The columns of ``t`` the model does not know: a blocker when an insert cannot leave them out."""
    out: list[Finding] = []
    for col in t.columns:
        if col.name in known:
            continue
        if col.not_null and not fills_itself(col):
            out.append(Finding(model.name, tq, col.name, "unknown column", BLOCKER,
                               "NOT NULL, no default, not in the model",
                               f"every create of {model.name} fails: null value in column \"{col.name}\" "
                               "violates not-null constraint",
                               _unknown_fix(tq, col), (WRITES,)))
        else:
            why = "nullable" if not col.not_null else f"default {col.default}" if col.default else "filled by the database"
            out.append(Finding(model.name, tq, col.name, "unknown column", INFO, f"not in the model ({why})",
                               "none: the client neither reads nor writes it", "none needed"))
    return out


def _unknown_fix(tq: str, col: Column) -> str:
    base = col.type_name
    if base in ("timestamp", "timestamptz"):
        return f"ALTER TABLE {tq} ALTER COLUMN {q(col.name)} SET DEFAULT CURRENT_TIMESTAMP"
    if base == "bool":
        return f"ALTER TABLE {tq} ALTER COLUMN {q(col.name)} SET DEFAULT false"
    if base in ("int2", "int4", "int8", "numeric", "float4", "float8"):
        return f"ALTER TABLE {tq} ALTER COLUMN {q(col.name)} SET DEFAULT 0"
    return (f"add the field to the model, or give it a default, or ALTER TABLE {tq} ALTER COLUMN "
            f"{q(col.name)} DROP NOT NULL")
