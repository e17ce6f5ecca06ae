"""Column defaults: the default ``prisma migrate`` would create for a field, compared
with the column's.

What the client does itself is not a blocker: Prisma's query engine fills
``@default(cuid())``, ``uuid()``, ``now()`` and literal defaults, and ``@updatedAt``,
before it inserts, so a missing database default there is only drift (a warning).
``autoincrement()`` and ``dbgenerated()`` are the database's job: without the default,
inserts fail.
"""

from __future__ import annotations

import json
import re

from ..catalog.inspect import Column
from ..naming import literal, q
from ..prisma import Call, Field, Model, Ref, Schema
from .findings import BLOCKER, INFO, WARNING, WRITES, Finding
from .types import enum_of, expected_type

__all__ = ["CLIENT_GENERATORS", "norm_expr", "default_sql", "fills_itself", "default_findings"]

#: Client-side id generators: the client sends the value, the database needs no default.
CLIENT_GENERATORS = {"cuid", "uuid", "nanoid", "ulid", "now"}

_NOW = ("current_timestamp", "now()", "current_timestamp(3)", "localtimestamp", "statement_timestamp()",
        "transaction_timestamp()", "clock_timestamp()")


def norm_expr(expr: str | None) -> str:
    """A default expression without casts, quotes, spaces and case: ``'USER'::"UserRole"`` -> ``user``."""
    if expr is None:
        return ""
    e = expr.strip()
    while True:  # strip trailing casts: ::text, ::"UserRole", ::character varying, ::timestamp(3) without time zone
        m = re.match(r"^(.*)::((?:(?:\"[^\"]+\"|[a-z_][a-z0-9_]*)\.)?(?:\"[^\"]+\"|[a-z_][a-z0-9_ ]*)"
                     r"(\([0-9, ]+\))?( with(out)? time zone)?(\[\])?)$", e, re.IGNORECASE | re.DOTALL)
        if not m:
            break
        e = m.group(1).strip()
        if e.startswith("(") and e.endswith(")"):
            e = e[1:-1].strip()
    if len(e) >= 2 and e[0] == "'" and e[-1] == "'":
        e = e[1:-1].replace("''", "'")
    return re.sub(r"\s+", "", e).lower()


def _enum_label(schema: Schema, f: Field, v: Ref) -> str:
    """The database label (its ``@map``) of the enum value ``v`` of field ``f``."""
    e = enum_of(schema, f.type)
    return next((x.db_name for x in e.values if x.name == v.name), v.name) if e else v.name


def _expected_default(f: Field, schema: Schema) -> tuple[str, str | None]:
    """(kind, normalised expression) of the database default prisma migrate would create.

    kind: ``none`` (no @default), ``client`` (the client generates it: cuid(), uuid() ...;
    no database default), ``now``, ``autoincrement``, ``dbgenerated``, ``literal``.
    """
    v = f.default
    if not f.has_default:
        return "none", None
    if isinstance(v, Call):
        if v.name == "now":
            return "now", "current_timestamp"
        if v.name in CLIENT_GENERATORS:
            return "client", None
        if v.name == "autoincrement" or v.name == "sequence":
            return "autoincrement", None
        if v.name == "dbgenerated":
            args = v.positional
            return "dbgenerated", norm_expr(args[0]) if args else None
        return "client", None
    if isinstance(v, bool):
        return "literal", "true" if v else "false"
    if isinstance(v, (int, float)):
        return "literal", norm_expr(str(v))
    if isinstance(v, Ref):  # an enum value: its @map name in the database
        return "literal", norm_expr(_enum_label(schema, f, v))
    if isinstance(v, str):
        return "literal", norm_expr("'" + v.replace("'", "''") + "'")
    return "literal", None  # list defaults: not compared


def default_sql(f: Field, schema: Schema) -> str | None:
    """The DEFAULT clause prisma migrate would write for ``f`` (None when none)."""
    v = f.default
    if not f.has_default:
        return None
    if isinstance(v, Call):
        if v.name == "now":
            return "CURRENT_TIMESTAMP"
        if v.name == "dbgenerated":
            return v.positional[0] if v.positional else None
        return None
    if isinstance(v, Ref):
        return literal(_enum_label(schema, f, v))
    if isinstance(v, (bool, int, float, str)):
        return literal(v)
    if isinstance(v, tuple):
        if not v:
            return f"ARRAY[]::{expected_type(f, schema)}"
        return "ARRAY[" + ", ".join(literal(x.name if isinstance(x, Ref) else x) for x in v) + "]"
    return None


def fills_itself(col: Column) -> bool:
    """The database gives the column a value when an insert leaves it out."""
    return col.default is not None or bool(col.identity) or bool(col.generated)


def _same_json(f: Field, have: str | None, want: str | None) -> bool:
    """Json defaults compare as JSON values (jsonb reorders keys)."""
    if f.type != "Json" or have is None or want is None:
        return False
    try:
        return json.loads(_unquote(have)) == json.loads(_unquote(want))
    except ValueError:
        return False


def _unquote(expr: str) -> str:
    e = re.sub(r"::[a-z_ ]+$", "", expr.strip())
    return e[1:-1].replace("''", "'") if len(e) >= 2 and e[0] == e[-1] == "'" else e


def default_findings(model: Model, f: Field, col: Column, schema: Schema, table: str) -> list[Finding]:
    """The column's default against the field's ``@default``."""
    kind, want = _expected_default(f, schema)
    if kind in ("none", "client"):
        return _unexpected_default(model, f, col, table) if kind == "none" else []
    if kind == "autoincrement":
        return _missing_sequence(model, col, table)
    if kind == "dbgenerated":
        return _dbgenerated_findings(model, f, col, table, want)
    return _client_sent_findings(model, f, col, schema, table, kind, want)


def _unexpected_default(model: Model, f: Field, col: Column, table: str) -> list[Finding]:
    """A database default where the schema has no ``@default``."""
    if col.default is None or f.is_updated_at or col.identity:
        return []
    return [Finding(model.name, table, col.name, "default", INFO, f"default {col.default} not in the schema",
                    "none for the client; prisma migrate would drop it",
                    f"add @default(...) to {model.name}.{f.name} or ALTER TABLE {table} ALTER COLUMN {q(col.name)} "
                    "DROP DEFAULT")]


def _left_to_the_database(model: Model, col: Column) -> tuple[str, tuple[str, ...], str]:
    """(severity, blocks, consequence) of a value the client leaves to a database that gives none."""
    if col.not_null:
        return BLOCKER, (WRITES,), f"creates of {model.name} fail: the client leaves {col.name} to the database"
    return WARNING, (), f"creates of {model.name} store NULL in {col.name}"


def _missing_sequence(model: Model, col: Column, table: str) -> list[Finding]:
    """``autoincrement()``: the database must number the rows."""
    if col.identity or (col.default or "").startswith("nextval("):
        return []
    sev, blocks, consequence = _left_to_the_database(model, col)
    return [Finding(model.name, table, col.name, "default", sev, "no sequence default (autoincrement())", consequence,
                    f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} ADD GENERATED BY DEFAULT AS IDENTITY", blocks)]


def _dbgenerated_findings(model: Model, f: Field, col: Column, table: str, want: str | None) -> list[Finding]:
    """``dbgenerated(...)``: the database must fill the column, as the expression says."""
    if col.default is None and not col.identity and not col.generated:
        sev, blocks, consequence = _left_to_the_database(model, col)
        expr = f.default.positional[0] if f.default.positional else "?"
        return [Finding(model.name, table, col.name, "default", sev, f"no default, the schema says dbgenerated({expr!r})",
                        consequence, f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} SET DEFAULT {expr}", blocks)]
    if want and norm_expr(col.default) != want:
        return [Finding(model.name, table, col.name, "default", INFO,
                        f"default {col.default}, the schema says dbgenerated({f.default.positional[0]!r})",
                        "the database fills it differently than the schema describes", "align the two")]
    return []


def _client_sent_findings(model: Model, f: Field, col: Column, schema: Schema, table: str, kind: str,
                          want: str | None) -> list[Finding]:
    """``now()`` and literals: the client sends the value itself; a different default is drift."""
    sql = default_sql(f, schema)
    if col.default is None:
        if sql is None:
            return []
        return [Finding(model.name, table, col.name, "default", WARNING, f"no default, the schema says {sql}",
                        "none for this client (it sends the value); other writers get NULL or an error; "
                        "prisma migrate diff reports drift",
                        f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} SET DEFAULT {sql}")]
    have = norm_expr(col.default)
    same = (kind == "now" and have in _NOW) or (want is not None and have == want) or _same_json(f, col.default, sql)
    if same or want is None:
        return []
    return [Finding(model.name, table, col.name, "default", WARNING, f"default {col.default}, the schema says {sql}",
                    "none for this client (it sends the value); other writers get a different value",
                    f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} SET DEFAULT {sql}")]
