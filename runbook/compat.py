"""Can a Prisma client that knows only a given schema work on the live database?

A service's client knows the models of its Prisma schema and nothing else (the mapping's
``[service] target_schema``; the default mapping's is the AI Assistant's, spec 3.1). This
module compares such a schema (parsed by :mod:`runbook.prisma`) with a catalog
:class:`~runbook.catalog.inspect.Snapshot`, model by model:

* the mapped table exists (``@@map``, ``@@schema``);
* every scalar field has its column (``@map``), with a compatible type, nullability and
  default; every enum exists with the same labels;
* every relation has its foreign key (columns, target, referential actions), every
  ``@id``/``@unique``/``@@index`` its index, and the names are Prisma's defaults for the
  mapped table (:func:`runbook.prisma.prisma_default_names`);
* and the check that matters most: **a NOT NULL column without a default that the
  model does not know makes every insert from that client fail** (``users."passwordHash"``).

Each problem is a frozen :class:`Finding` (model, column, problem, consequence, fix).
``blocks`` says what it breaks for the client: ``reads`` (any query of the model) or
``writes`` (creates). :attr:`Compatibility.blocking` counts read blockers of every model
and write blockers of the models the service writes (the ``[service] writes`` of the
mapping; every model of the schema when it names none).

What the client does itself is not a blocker: Prisma's query engine fills
``@default(cuid())``, ``uuid()``, ``now()`` and literal defaults, and ``@updatedAt``,
before it inserts, so a missing database default there is only drift from what
``prisma migrate`` would create (a warning). ``autoincrement()`` and ``dbgenerated()``
are the database's job: without the default, inserts fail.

:func:`check` reads a database and compares; :func:`write_blockers` returns the result as
:class:`runbook.verify.Check` rows for ``runbook verify``; :func:`predict` rehearses the
rename plan's catalog steps in a transaction that is rolled back and compares the
result, so the analysis can show what will remain before anything runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Iterable

from .catalog.inspect import Column, Snapshot, Table, inspect
from .errors import BadInput
from .naming import literal, q, qq
from .prisma import (Call, Enum, Field, Model, Ref, Schema, load, prisma_default_names,
                     prisma_join_table_name, prisma_m2m_names)

__all__ = [
    "Finding",
    "ModelStatus",
    "Compatibility",
    "compare",
    "check",
    "predict",
    "write_blockers",
    "expected_type",
    "render_ddl",
]

BLOCKER, WARNING, INFO = "blocker", "warning", "info"
SEVERITY_ORDER = {BLOCKER: 0, WARNING: 1, INFO: 2}
READS, WRITES = "reads", "writes"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Finding:
    """One difference between the schema and the database, for one model."""

    model: str
    table: str  # schema-qualified, as the database names it
    column: str  # a column, or the object concerned ("" for the table itself)
    check: str  # table | column | type | nullability | default | enum | relation | unique | index | name | unknown column
    severity: str  # blocker | warning | info
    problem: str
    consequence: str
    fix: str
    blocks: tuple[str, ...] = ()  # what the client cannot do: "reads", "writes"

    def row(self) -> dict:
        """The table form: model, column, problem, consequence, fix (and severity)."""
        what = self.severity if not self.blocks else f"{self.severity} ({' + '.join(self.blocks)})"
        return {"model": self.model, "column": self.column or "-", "severity": what, "problem": self.problem,
                "consequence": self.consequence, "fix": self.fix}


@dataclass(frozen=True)
class ModelStatus:
    model: str
    table: str
    exists: bool
    readable: bool
    writable: bool
    written: bool  # the service creates rows of it


@dataclass(frozen=True)
class Compatibility:
    """The comparison of one schema with one database."""

    source: str  # the schema file
    database: str  # redacted URL or database name
    db_schema: str
    written: tuple[str, ...]
    models: tuple[ModelStatus, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()

    @property
    def blocking(self) -> tuple[Finding, ...]:
        """Blockers that matter to the service: reads of any model, writes of the written ones."""
        return tuple(f for f in self.findings if f.severity == BLOCKER and
                     (READS in f.blocks or (WRITES in f.blocks and f.model in self.written)))

    @property
    def ok(self) -> bool:
        return not self.blocking

    def of(self, *severities: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity in severities)

    def rows(self, severities: Iterable[str] = (BLOCKER, WARNING)) -> list[dict]:
        keep = set(severities)
        return [f.row() for f in self.findings if f.severity in keep]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "source": self.source, "database": self.database, "db_schema": self.db_schema,
                "written": list(self.written), "notes": list(self.notes), "models": [asdict(m) for m in self.models],
                "blocking": [asdict(f) for f in self.blocking],
                "findings": [asdict(f) for f in self.findings]}

    def as_checks(self) -> list:
        """One failing :class:`runbook.verify.Check` per blocking finding, or one passing check."""
        from .checks import Check, Kind

        if not self.blocking:
            n = len(self.of(BLOCKER))
            rest = f"; {n} blocker(s) of models it does not write (see runbook check-schema)" if n else ""
            return [Check("target schema: the service can read every model and write "
                          + ", ".join(self.written), True, f"no blocker{rest}", kind=Kind.SERVICE)]
        return [Check(f"target schema: {f.model} {f.column or f.table}: {f.problem}", False,
                      f"{f.consequence}; fix: {f.fix}", kind=Kind.SERVICE) for f in self.blocking]


# --------------------------------------------------------------------------- types

#: Prisma scalar -> the column type ``prisma migrate`` creates on PostgreSQL.
SCALAR_TYPES = {
    "String": "text",
    "Boolean": "boolean",
    "Int": "integer",
    "BigInt": "bigint",
    "Float": "double precision",
    "Decimal": "numeric(65,30)",
    "DateTime": "timestamp(3) without time zone",
    "Json": "jsonb",
    "Bytes": "bytea",
}

#: Prisma scalar -> ``pg_type.typname`` of the columns its client reads and writes.
COMPATIBLE = {
    "String": {"text", "varchar", "bpchar", "citext", "uuid", "xml", "inet", "name", "bit", "varbit"},
    "Boolean": {"bool"},
    "Int": {"int4", "int2", "oid"},
    "BigInt": {"int8", "int4", "int2"},
    "Float": {"float8", "float4"},
    "Decimal": {"numeric", "money"},
    "DateTime": {"timestamp", "timestamptz", "date", "time", "timetz"},
    "Json": {"jsonb", "json"},
    "Bytes": {"bytea"},
}

#: Prisma native type attribute (``@db.X``) -> format_type() text; ``{}`` takes the arguments.
NATIVE_TYPES = {
    "Text": "text", "VarChar": "character varying{}", "Char": "character{}", "Uuid": "uuid", "Xml": "xml",
    "Inet": "inet", "Citext": "citext", "Bit": "bit{}", "VarBit": "bit varying{}", "Boolean": "boolean",
    "Integer": "integer", "SmallInt": "smallint", "Oid": "oid", "BigInt": "bigint",
    "DoublePrecision": "double precision", "Real": "real", "Decimal": "numeric{}", "Money": "money",
    "Timestamp": "timestamp{} without time zone", "Timestamptz": "timestamp{} with time zone", "Date": "date",
    "Time": "time{} without time zone", "Timetz": "time{} with time zone", "Json": "json", "JsonB": "jsonb",
    "ByteA": "bytea",
}

#: Client-side id generators: the client sends the value, the database needs no default.
CLIENT_GENERATORS = {"cuid", "uuid", "nanoid", "ulid", "now"}


def _enum_of(schema: Schema, name: str) -> Enum | None:
    for e in schema.enums:
        if e.name == name:
            return e
    return None


def expected_type(f: Field, schema: Schema, db_schema: str = "public") -> str:
    """The column type ``prisma migrate`` would create for field ``f`` (format_type text)."""
    if f.kind == "enum":
        e = _enum_of(schema, f.type)
        base = qq(e.schema or db_schema, e.db_name) if e and (e.schema or db_schema) != "public" else q(e.db_name if e else f.type)
    elif f.kind == "unsupported":
        base = f.unsupported or ""
    elif f.native_type and f.native_type[0] in NATIVE_TYPES:
        name, args = f.native_type
        fmt = NATIVE_TYPES[name]
        base = fmt.format(f"({','.join(a.replace(' ', '') for a in args)})" if args else "")
    else:
        base = SCALAR_TYPES.get(f.type, f.type)
    return base + ("[]" if f.list else "")


def _canon_type(t: str) -> str:
    return re.sub(r"\s*,\s*", ",", t.strip().lower())


def _type_finding(model: Model, f: Field, col: Column, schema: Schema, db_schema: str, table: str) -> list[Finding]:
    want = expected_type(f, schema, db_schema)
    have = col.type
    if _canon_type(want) == _canon_type(have):
        return []
    is_array = have.endswith("[]")
    elem = col.type_name[1:] if is_array and col.type_name.startswith("_") else col.type_name
    if f.kind == "enum":
        return []  # judged by _enum_findings
    if f.kind == "unsupported":
        return [Finding(model.name, table, col.name, "type", INFO, f"type {have}, schema says Unsupported({want!r})",
                        "the client cannot read or write it anyway", "none needed")]
    if f.list != is_array or elem not in COMPATIBLE.get(f.type, set()):
        return [Finding(model.name, table, col.name, "type", BLOCKER, f"type {have}, the client expects {want}",
                        f"reads and writes of {model.name}.{f.name} fail (the client cannot convert {have})",
                        f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} TYPE {want} USING {q(col.name)}::{want}",
                        (READS, WRITES))]
    note = "values are converted"
    if f.type == "Int" and elem == "int2":
        note = "values above 32767 cannot be written"
    elif f.type == "String" and col.type.startswith(("character varying(", "character(")):
        note = "longer strings cannot be written"
    elif f.type == "DateTime" and "(0)" in have:
        note = "milliseconds are lost"
    return [Finding(model.name, table, col.name, "type", WARNING,
                    f"type {have}, prisma migrate would create {want}",
                    f"the client reads and writes it; {note}; prisma migrate diff reports drift",
                    f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} TYPE {want}")]


# --------------------------------------------------------------------------- defaults


def _norm_expr(expr: str | None) -> str:
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
            return "dbgenerated", _norm_expr(args[0]) if args else None
        return "client", None
    if isinstance(v, bool):
        return "literal", "true" if v else "false"
    if isinstance(v, (int, float)):
        return "literal", _norm_expr(str(v))
    if isinstance(v, Ref):  # an enum value: its @map name in the database
        e = _enum_of(schema, f.type)
        db = next((x.db_name for x in e.values if x.name == v.name), v.name) if e else v.name
        return "literal", _norm_expr(db)
    if isinstance(v, str):
        return "literal", _norm_expr("'" + v.replace("'", "''") + "'")
    if isinstance(v, tuple):
        return "literal", None  # list defaults: not compared
    return "literal", None


def _default_sql(f: Field, schema: Schema) -> str | None:
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
        e = _enum_of(schema, f.type)
        db = next((x.db_name for x in e.values if x.name == v.name), v.name) if e else v.name
        return literal(db)
    if isinstance(v, (bool, int, float, str)):
        return literal(v)
    if isinstance(v, tuple):
        if not v:
            return f"ARRAY[]::{expected_type(f, schema)}"
        return "ARRAY[" + ", ".join(literal(x.name if isinstance(x, Ref) else x) for x in v) + "]"
    return None


def _is_now(expr: str) -> bool:
    return expr in ("current_timestamp", "now()", "current_timestamp(3)", "localtimestamp", "statement_timestamp()",
                    "transaction_timestamp()", "clock_timestamp()")


def _fills_itself(col: Column) -> bool:
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


def _default_findings(model: Model, f: Field, col: Column, schema: Schema, table: str) -> list[Finding]:
    kind, want = _expected_default(f, schema)
    have = _norm_expr(col.default)
    out: list[Finding] = []
    ref = f"{model.name}.{f.name}"
    if kind == "none" or kind == "client":
        if kind == "none" and col.default is not None and not f.is_updated_at and not col.identity:
            out.append(Finding(model.name, table, col.name, "default", INFO, f"default {col.default} not in the schema",
                               "none for the client; prisma migrate would drop it",
                               f"add @default(...) to {ref} or ALTER TABLE {table} ALTER COLUMN {q(col.name)} DROP DEFAULT"))
        return out
    if kind == "autoincrement":
        if not (col.identity or (col.default or "").startswith("nextval(")):
            sev, blocks = (BLOCKER, (WRITES,)) if col.not_null else (WARNING, ())
            out.append(Finding(model.name, table, col.name, "default", sev, "no sequence default (autoincrement())",
                               f"creates of {model.name} fail: the client leaves {col.name} to the database"
                               if col.not_null else f"creates of {model.name} store NULL in {col.name}",
                               f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} ADD GENERATED BY DEFAULT AS IDENTITY",
                               blocks))
        return out
    if kind == "dbgenerated":
        if col.default is None and not col.identity and not col.generated:
            sev, blocks = (BLOCKER, (WRITES,)) if col.not_null else (WARNING, ())
            expr = f.default.positional[0] if f.default.positional else "?"
            out.append(Finding(model.name, table, col.name, "default", sev, f"no default, the schema says dbgenerated({expr!r})",
                               f"creates of {model.name} fail: the client leaves {col.name} to the database"
                               if col.not_null else f"creates of {model.name} store NULL in {col.name}",
                               f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} SET DEFAULT {expr}", blocks))
        elif want and have != want:
            out.append(Finding(model.name, table, col.name, "default", INFO,
                               f"default {col.default}, the schema says dbgenerated({f.default.positional[0]!r})",
                               "the database fills it differently than the schema describes", "align the two"))
        return out
    # now() and literals: the client sends the value itself
    sql = _default_sql(f, schema)
    if col.default is None:
        if sql is not None:
            out.append(Finding(model.name, table, col.name, "default", WARNING, f"no default, the schema says {sql}",
                               "none for this client (it sends the value); other writers get NULL or an error; "
                               "prisma migrate diff reports drift",
                               f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} SET DEFAULT {sql}"))
        return out
    same = (kind == "now" and _is_now(have)) or (want is not None and have == want) or _same_json(f, col.default, sql)
    if not same and want is not None:
        out.append(Finding(model.name, table, col.name, "default", WARNING, f"default {col.default}, the schema says {sql}",
                           "none for this client (it sends the value); other writers get a different value",
                           f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} SET DEFAULT {sql}"))
    return out


# --------------------------------------------------------------------------- relations


_ACTION = {"CASCADE": "Cascade", "RESTRICT": "Restrict", "SET NULL": "SetNull", "SET DEFAULT": "SetDefault",
           "NO ACTION": "NoAction"}
_SQL_ACTION = {v: k for k, v in _ACTION.items()}


def _fk_actions(definition: str) -> tuple[str, str]:
    def one(word: str) -> str:
        m = re.search(rf"ON {word} (CASCADE|RESTRICT|SET NULL|SET DEFAULT|NO ACTION)", definition)
        return _ACTION[m.group(1)] if m else "NoAction"

    return one("DELETE"), one("UPDATE")


def _fk_ref_columns(definition: str) -> tuple[str, ...]:
    m = re.search(r"REFERENCES\s+.+?\(([^)]*)\)", definition)
    if not m:
        return ()
    return tuple(c.strip().strip('"').replace('""', '"') for c in m.group(1).split(","))


def _action_consequence(model: Model, f: Field, target: str, want: str, have: str) -> str:
    if have == "Cascade":
        return f"deleting a {target} also deletes its {model.name} rows (the schema expects {want})"
    if have == "SetNull":
        return f"deleting a {target} sets {model.name}.{'/'.join(f.relation.fields)} to NULL (the schema expects {want})"
    if want == "Cascade":
        return f"deleting a {target} fails while {model.name} rows point at it (the schema expects them deleted)"
    if want == "SetNull":
        return f"deleting a {target} fails while {model.name} rows point at it (the schema expects NULL)"
    return f"the database does {have} where the schema says {want}"


# --------------------------------------------------------------------------- comparison


def _table_of(snap: Snapshot, schema_name: str, name: str) -> Table | None:
    return snap.table(schema_name, name)


def _legacy_hint(table: str) -> str:
    """``runbook migrate`` when the default mapping renames a table to ``table``."""
    try:
        from .mapping import load_mapping

        for t in load_mapping(None).tables:
            if t.new == table:
                return f"runbook migrate (renames {q(t.old)} to {q(t.new)})"
    except Exception:  # the hint is a convenience; never fail the check for it
        pass
    return ""


def _model_findings(model: Model, schema: Schema, snap: Snapshot, db_schema: str) -> tuple[list[Finding], Table | None]:
    sch = model.schema or db_schema
    table_name = model.db_name
    t = _table_of(snap, sch, table_name)
    tq = qq(sch, table_name)
    out: list[Finding] = []
    if model.kind == "view":
        if t is None and not any(v.schema == sch and v.name == table_name for v in snap.views):
            out.append(Finding(model.name, tq, "", "table", BLOCKER, f"view {tq} does not exist",
                               f"every query of {model.name} fails", f"create the view {tq}", (READS,)))
        return out, None
    if t is None:
        hint = _legacy_hint(table_name) if sch == "public" else ""
        out.append(Finding(model.name, tq, "", "table", BLOCKER, f"table {tq} does not exist",
                           f"every query of {model.name} fails (relation {table_name} does not exist)",
                           hint or f"create it: {render_table(model, schema, db_schema).splitlines()[0]} ...",
                           (READS, WRITES)))
        return out, None

    known: set[str] = set()
    for f in model.scalar_fields():
        if f.kind in ("composite", "unknown"):
            continue
        if f.is_ignored:
            continue
        known.add(f.db_name)
        col = t.column(f.db_name)
        if col is None:
            out.append(Finding(model.name, tq, f.db_name, "column", BLOCKER, "column does not exist",
                               f"every query of {model.name} fails (the client selects {f.db_name})",
                               f"ALTER TABLE {tq} ADD COLUMN {_column_sql(f, schema, db_schema)}", (READS, WRITES)))
            continue
        if f.kind == "enum":
            out += _enum_findings(model, f, col, schema, snap, db_schema, tq)
        else:
            out += _type_finding(model, f, col, schema, db_schema, tq)
        # nullability
        required = not f.optional and not f.list
        if required and not col.not_null:
            out.append(Finding(model.name, tq, col.name, "nullability", WARNING, "nullable, the field is required",
                               f"reading a {model.name} whose {col.name} is NULL fails in the client",
                               f"fill the NULLs, then ALTER TABLE {tq} ALTER COLUMN {q(col.name)} SET NOT NULL"))
        if f.optional and col.not_null:
            if _fills_itself(col) or f.is_id:
                out.append(Finding(model.name, tq, col.name, "nullability", WARNING, "NOT NULL, the field is optional",
                                   f"setting {model.name}.{f.name} to null fails",
                                   f"ALTER TABLE {tq} ALTER COLUMN {q(col.name)} DROP NOT NULL"))
            else:
                out.append(Finding(model.name, tq, col.name, "nullability", BLOCKER,
                                   "NOT NULL without default, the field is optional",
                                   f"creating a {model.name} without {f.name} fails (not-null violation)",
                                   f"ALTER TABLE {tq} ALTER COLUMN {q(col.name)} DROP NOT NULL", (WRITES,)))
        out += _default_findings(model, f, col, schema, tq)

    # the columns the client does not know
    for col in t.columns:
        if col.name in known:
            continue
        if col.not_null and not _fills_itself(col):
            out.append(Finding(model.name, tq, col.name, "unknown column", BLOCKER,
                               "NOT NULL, no default, not in the model",
                               f"every create of {model.name} fails: null value in column \"{col.name}\" "
                               "violates not-null constraint",
                               _unknown_fix(tq, col), (WRITES,)))
        else:
            why = "nullable" if not col.not_null else f"default {col.default}" if col.default else "filled by the database"
            out.append(Finding(model.name, tq, col.name, "unknown column", INFO, f"not in the model ({why})",
                               "none: the client neither reads nor writes it", "none needed"))

    out += _key_findings(model, schema, snap, t, tq)
    return out, t


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


def _enum_findings(model: Model, f: Field, col: Column, schema: Schema, snap: Snapshot, db_schema: str,
                   tq: str) -> list[Finding]:
    e = _enum_of(schema, f.type)
    esch = (e.schema if e else None) or db_schema
    ename = e.db_name if e else f.type
    have = snap.enum(esch, ename)
    out: list[Finding] = []
    want_type = expected_type(f, schema, db_schema)
    elem = col.type_name[1:] if col.type.endswith("[]") and col.type_name.startswith("_") else col.type_name
    if have is None:
        labels = ", ".join(literal(v) for v in (e.db_values if e else ()))
        out.append(Finding(model.name, tq, col.name, "enum", BLOCKER, f"enum type {qq(esch, ename)} does not exist",
                           f"reads and writes of {model.name}.{f.name} fail (the client casts to {ename})",
                           f"CREATE TYPE {qq(esch, ename)} AS ENUM ({labels}); then ALTER TABLE {tq} ALTER COLUMN "
                           f"{q(col.name)} TYPE {want_type} USING {q(col.name)}::text::{want_type}",
                           (READS, WRITES)))
        return out
    is_enum = col.type_kind == "e" or (col.type.endswith("[]") and snap.enum(col.type_schema, elem) is not None)
    if not is_enum or elem != ename or col.type_schema != esch or f.list != col.type.endswith("[]"):
        out.append(Finding(model.name, tq, col.name, "type", BLOCKER, f"type {col.type}, the client expects enum {ename}",
                           f"reads and writes of {model.name}.{f.name} fail",
                           f"ALTER TABLE {tq} ALTER COLUMN {q(col.name)} TYPE {want_type} "
                           f"USING {q(col.name)}::text::{want_type}", (READS, WRITES)))
    want = e.db_values if e else ()
    missing = [v for v in want if v not in have.labels]
    extra = [v for v in have.labels if v not in want]
    if missing:
        out.append(Finding(model.name, tq, col.name, "enum", BLOCKER,
                           f"enum {ename} lacks {', '.join(missing)}",
                           f"writing {model.name}.{f.name} = {missing[0]} fails (invalid input value for enum)",
                           "; ".join(f"ALTER TYPE {qq(esch, ename)} ADD VALUE {literal(v)}" for v in missing),
                           (WRITES,)))
    if extra:
        out.append(Finding(model.name, tq, col.name, "enum", WARNING,
                           f"enum {ename} has labels the schema does not: {', '.join(extra)}",
                           f"reading a {model.name} whose {f.name} is {extra[0]} fails in the client",
                           f"add {', '.join(extra)} to enum {e.name if e else ename} in the schema"))
    if not missing and not extra and tuple(have.labels) != tuple(want):
        out.append(Finding(model.name, tq, col.name, "enum", INFO, f"enum {ename} labels in another order",
                           "ORDER BY this column sorts differently than the schema lists the values", "none needed"))
    return out


def _key_findings(model: Model, schema: Schema, snap: Snapshot, t: Table, tq: str) -> list[Finding]:
    out: list[Finding] = []
    names = prisma_default_names(model, schema, use_map=True)
    cons = snap.constraints_of(t.oid)
    idx = snap.indexes_of(t.oid)

    def cols(spec) -> tuple[str, ...]:
        return tuple(model.column(n) if model.has_field(n) else n for n in spec.field_names)

    # primary key
    pk = model.primary_key
    have_pk = next((c for c in cons if c.type == "p"), None)
    if pk is not None:
        want = cols(pk)
        if have_pk is None:
            out.append(Finding(model.name, tq, ", ".join(want), "unique", WARNING, "no primary key",
                               f"duplicates of {model.name} ids are possible; upserts on the id fail",
                               f"ALTER TABLE {tq} ADD CONSTRAINT {q(names['pkey'])} PRIMARY KEY "
                               f"({', '.join(q(c) for c in want)})"))
        elif tuple(have_pk.columns) != want:
            out.append(Finding(model.name, tq, ", ".join(want), "unique", WARNING,
                               f"primary key is ({', '.join(have_pk.columns)})",
                               f"{model.name} is identified by other columns than the client uses", "align the two"))
        elif names["pkey"] and have_pk.name != names["pkey"]:
            out.append(_name_finding(model, tq, "primary key", have_pk.name, names["pkey"], "constraint"))
    # unique
    for spec in model.unique_constraints:
        want = cols(spec)
        hit = _best_index([i for i in idx if i.is_unique and i.is_valid and set(i.columns) == set(want)],
                          names["unique"][want], want)
        label = ", ".join(want)
        if hit is None:
            out.append(Finding(model.name, tq, label, "unique", WARNING, "no unique index",
                               "duplicates are possible; findUnique returns the first; native upserts fail",
                               f"CREATE UNIQUE INDEX {q(names['unique'][want])} ON {tq} ({', '.join(q(c) for c in want)})"))
        elif hit.name != names["unique"][want]:
            out.append(_name_finding(model, tq, f"unique ({label})", hit.name, names["unique"][want], "index"))
    # @@index
    for spec in model.indexes:
        if spec.kind != "index":
            continue
        want = cols(spec)
        hit = _best_index([i for i in idx if tuple(i.columns) == want], names["index"][want], want)
        label = ", ".join(want)
        if hit is None:
            out.append(Finding(model.name, tq, label, "index", WARNING, "no index",
                               "queries that filter on these columns scan the table",
                               f"CREATE INDEX {q(names['index'][want])} ON {tq} ({', '.join(q(c) for c in want)})"))
        elif hit.name != names["index"][want]:
            out.append(_name_finding(model, tq, f"index ({label})", hit.name, names["index"][want], "index"))
    # relations (the side that holds the foreign key)
    fks = [c for c in cons if c.type == "f"]
    for f in model.relation_fields():
        rel = f.relation
        if rel is None or not rel.fields or not schema.has_model(f.type):
            continue
        target = schema.model(f.type)
        tsch = target.schema or t.schema
        want = tuple(model.column(n) if model.has_field(n) else n for n in rel.fields)
        ref_cols = tuple(target.column(n) if target.has_field(n) else n for n in rel.references)
        label = ", ".join(want)
        fk = next((c for c in fks if tuple(c.columns) == want), None)
        optional = f.optional
        want_del = rel.on_delete or ("SetNull" if optional else "Restrict")
        want_upd = rel.on_update or "Cascade"
        fk_name = names["fkey"].get(want)
        target_table = snap.table(tsch, target.db_name)
        if fk is None:
            out.append(Finding(model.name, tq, label, "relation", WARNING,
                               f"no foreign key to {qq(tsch, target.db_name)}",
                               f"{model.name}.{f.name} may point at a missing {target.name}; the client does not check",
                               f"ALTER TABLE {tq} ADD CONSTRAINT {q(fk_name)} FOREIGN KEY ({', '.join(q(c) for c in want)}) "
                               f"REFERENCES {qq(tsch, target.db_name)} ({', '.join(q(c) for c in ref_cols)}) "
                               f"ON DELETE {_SQL_ACTION[want_del]} ON UPDATE {_SQL_ACTION[want_upd]}"))
            continue
        if target_table is None or fk.ref_table_oid != target_table.oid or _fk_ref_columns(fk.definition) != ref_cols:
            got = snap.table_by_oid(fk.ref_table_oid)
            out.append(Finding(model.name, tq, label, "relation", BLOCKER,
                               f"foreign key {fk.name} references {got.qualified if got else fk.ref_table_oid}"
                               f"({', '.join(_fk_ref_columns(fk.definition))}), not "
                               f"{qq(tsch, target.db_name)}({', '.join(ref_cols)})",
                               f"creating a {model.name} that points at a {target.name} fails", "point it at the right table",
                               (WRITES,)))
            continue
        have_del, have_upd = _fk_actions(fk.definition)
        for what, w, h in (("ON DELETE", want_del, have_del), ("ON UPDATE", want_upd, have_upd)):
            if w == h or {w, h} == {"Restrict", "NoAction"}:
                continue
            cons_text = (_action_consequence(model, f, target.name, w, h) if what == "ON DELETE"
                         else f"changing a {target.name} id does {h} instead of {w}")
            out.append(Finding(model.name, tq, label, "relation", WARNING,
                               f"{fk.name}: {what} {_SQL_ACTION[h]}, the schema says {_SQL_ACTION[w]}", cons_text,
                               f"say onDelete: {h} in the schema, or recreate {fk.name} with {what} {_SQL_ACTION[w]}"
                               if what == "ON DELETE" else f"recreate {fk.name} with {what} {_SQL_ACTION[w]}"))
        if not fk.validated:
            out.append(Finding(model.name, tq, label, "relation", WARNING, f"{fk.name} is NOT VALID",
                               "old rows are not checked", f"ALTER TABLE {tq} VALIDATE CONSTRAINT {q(fk.name)}"))
        if fk_name and fk.name != fk_name:
            out.append(_name_finding(model, tq, f"foreign key ({label})", fk.name, fk_name, "constraint"))
    return out


def _best_index(candidates: list, name: str, cols: tuple[str, ...]):
    """The index Prisma would call ``name``, else one in the same column order that does
    not back the primary key, else any candidate."""
    for key in (lambda i: i.name == name, lambda i: tuple(i.columns) == cols and not i.is_primary,
                lambda i: not i.is_primary, lambda i: True):
        hit = next((i for i in candidates if key(i)), None)
        if hit is not None:
            return hit
    return None


def _name_finding(model: Model, tq: str, what: str, have: str, want: str, kind: str) -> Finding:
    fix = (f"ALTER INDEX {q(have)} RENAME TO {q(want)}" if kind == "index"
           else f"ALTER TABLE {tq} RENAME CONSTRAINT {q(have)} TO {q(want)}")
    return Finding(model.name, tq, what, "name", INFO, f"named {have}, Prisma's default is {want}",
                   "none for the client; prisma migrate diff would rename it", fix)


def _m2m_findings(schema: Schema, snap: Snapshot, db_schema: str) -> list[Finding]:
    """Implicit many-to-many relations: Prisma's join table ``_<Relation>`` with ``A`` and ``B``."""
    out: list[Finding] = []
    for a, b, name in _implicit_m2m(schema):
        t = snap.table(a.schema or db_schema, prisma_join_table_name(name))
        tq = qq(a.schema or db_schema, prisma_join_table_name(name))
        if t is None:
            out.append(Finding(a.name, tq, "", "relation", WARNING, f"join table {tq} does not exist",
                               f"queries that include or connect {a.name} <-> {b.name} fail",
                               f"create {tq} (A -> {a.db_name}, B -> {b.db_name})"))
            continue
        for c in ("A", "B"):
            if t.column(c) is None:
                out.append(Finding(a.name, tq, c, "relation", WARNING, f"join table {tq} has no column {c}",
                                   f"queries that include or connect {a.name} <-> {b.name} fail", "recreate it"))
    return out


def _implicit_m2m(schema: Schema) -> list[tuple[Model, Model, str]]:
    """(model A, model B, relation name) of each implicit many-to-many relation, A < B by name."""
    seen: dict[str, tuple[Model, Model, str]] = {}
    for m in schema.models:
        for f in m.relation_fields():
            if not f.list or not schema.has_model(f.type):
                continue
            other = schema.model(f.type)
            rname = f.relation.name if f.relation and f.relation.name else None
            back = [g for g in other.relation_fields() if g.type == m.name and g.list and
                    ((g.relation.name if g.relation else None) == rname) and (g is not f)]
            if not back:
                continue
            a, b = sorted([m, other], key=lambda x: x.name)
            name = rname or f"{a.name}To{b.name}"
            seen.setdefault(name, (a, b, name))
    return list(seen.values())


def compare(schema: Schema, snap: Snapshot, *, db_schema: str = "public", written: Iterable[str] | None = None,
            source: str = "", database: str = "") -> Compatibility:
    """Compare ``schema`` with the catalog ``snap`` (no database access). ``written``:
    the models the service creates rows of (None: every model)."""
    written = tuple(m.name for m in schema.models if not m.is_ignored) if written is None else tuple(written)
    unknown = [m for m in written if not schema.has_model(m)]
    if unknown:
        raise BadInput(f"--writes names {', '.join(unknown)}, not a model of the schema "
                       f"(models: {', '.join(m.name for m in schema.models)})")
    findings: list[Finding] = []
    statuses: list[ModelStatus] = []
    for model in schema.models + schema.views:
        if model.is_ignored:
            continue
        found, t = _model_findings(model, schema, snap, db_schema)
        findings += found
        reads = any(f.severity == BLOCKER and READS in f.blocks for f in found)
        writes = any(f.severity == BLOCKER and WRITES in f.blocks for f in found)
        statuses.append(ModelStatus(model.name, qq(model.schema or db_schema, model.db_name), t is not None or
                                    model.kind == "view" and not reads, not reads, not reads and not writes,
                                    model.name in written))
    findings += _m2m_findings(schema, snap, db_schema)
    order = {m.name: i for i, m in enumerate(schema.models + schema.views)}
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], order.get(f.model, 1 << 30)))
    return Compatibility(source, database or snap.database, db_schema, written, tuple(statuses), tuple(findings))


def _default_service():
    from .mapping import load_mapping

    return load_mapping().service


def _load_schema(schema) -> tuple[Schema, str]:
    """A parsed schema and where it came from; None: the default mapping's service schema."""
    if schema is None:
        svc = _default_service()
        return svc.load_schema(), str(svc.target_schema)
    if isinstance(schema, Schema):
        return schema, "<schema>"
    p = Path(schema)
    if not p.exists():
        raise BadInput(f"target schema {p} does not exist", path=str(p))
    try:
        return load(p), str(p)
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read target schema {p}: {getattr(exc, 'strerror', None) or 'not UTF-8'}") from None


def _written(schema_arg, sch: Schema, written):
    """None with no schema given: the default mapping's service writes; None with a schema:
    every model (compare's default)."""
    if written is None and schema_arg is None:
        return _default_service().written_models(sch)
    return written


def check(url_or_conn=None, schema=None, *, db_schema: str = "public",
          written: Iterable[str] | None = None, snapshot: Snapshot | None = None) -> Compatibility:
    """Read the database (a URL, ``$DATABASE_URL``, or an open psycopg2 connection) and compare.

    ``schema``: a parsed :class:`~runbook.prisma.Schema`, a ``.prisma`` path (or a folder
    of them), or None for the default mapping's service schema. ``snapshot``: a catalog
    snapshot just taken of that database, used instead of reading it again.
    """
    from .connection import connect, redact, resolve_url

    sch, source = _load_schema(schema)
    written = _written(schema, sch, written)
    if snapshot is not None:
        snap = snapshot
        database = redact(url_or_conn) if isinstance(url_or_conn, str) else snapshot.database
    elif url_or_conn is None or isinstance(url_or_conn, str):
        url = resolve_url(url_or_conn)
        conn = connect(url, application_name="runbook-check-schema", autocommit=True)
        try:
            snap = inspect(conn)
        finally:
            conn.close()
        database = redact(url)
    else:
        snap = inspect(url_or_conn)
        database = snap.database
    return compare(sch, snap, db_schema=db_schema, written=written, source=source, database=database)


def write_blockers(url_or_conn=None, schema=None, *, db_schema: str = "public",
                   written: Iterable[str] | None = None, snapshot: Snapshot | None = None) -> list:
    """For ``runbook verify``: one failing :class:`runbook.verify.Check` per blocker that stops the
    service (read blockers of any model, write blockers of ``written``), or one passing check."""
    return check(url_or_conn, schema, db_schema=db_schema, written=written, snapshot=snapshot).as_checks()


def predict(url: str | None = None, mapping=None, schema=None, *, db_schema: str | None = None,
            written: Iterable[str] | None = None, lock_timeout: str = "2s") -> Compatibility:
    """What the comparison will say after the rename plan, before anything runs.

    Rehearses the plan's catalog steps (lock and finish phases; the data-filling prepare
    steps are skipped, and a step that cannot run without them is skipped too) in one
    transaction, reads the catalog inside it, and rolls back. It takes the plan's locks
    for a few milliseconds, giving up after ``lock_timeout``.
    """
    import psycopg2

    from .mapping import as_mapping
    from .connection import connect, redact, resolve_url
    from .ops import PREPARE
    from .plan import build_plan

    url = resolve_url(url)
    m = as_mapping(mapping)
    if schema is None and m.service.configured:
        schema = m.service.load_schema()
        written = m.service.written_models(schema) if written is None else written
    sch, source = _load_schema(schema)
    written = _written(schema, sch, written)
    conn = connect(url, application_name="runbook-predict", autocommit=False)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET LOCAL lock_timeout = {literal(lock_timeout)}")
        snap = inspect(conn)
        plan = build_plan(snap, m, strict=False)
        notes = []
        with conn.cursor() as cur:
            for i, op in enumerate(plan.ops):
                if op.phase == PREPARE:
                    notes.append(f"not rehearsed (data step): {op.describe()}")
                    continue
                cur.execute(f"SAVEPOINT runbook_predict_{i}")
                try:
                    for stmt in op.statements():
                        cur.execute(stmt)
                except psycopg2.Error as exc:  # a step that needs the skipped data fill
                    cur.execute(f"ROLLBACK TO SAVEPOINT runbook_predict_{i}")
                    first = (str(exc).strip().splitlines() or ["?"])[0]
                    notes.append(f"not rehearsed: {op.describe()} ({first})")
                cur.execute(f"RELEASE SAVEPOINT runbook_predict_{i}")
        after = inspect(conn)
    finally:
        conn.rollback()
        conn.close()
    c = compare(sch, after, db_schema=db_schema or m.schema, written=written, source=source,
                database=redact(url) + " (predicted after the plan)")
    return replace(c, notes=tuple(notes))


# --------------------------------------------------------------------------- DDL


def _column_sql(f: Field, schema: Schema, db_schema: str = "public") -> str:
    t = expected_type(f, schema, db_schema)
    serial = isinstance(f.default, Call) and f.default.name in ("autoincrement", "sequence")
    if serial and not f.list:
        t = {"integer": "SERIAL", "bigint": "BIGSERIAL", "smallint": "SMALLSERIAL"}.get(t, t)
    parts = [q(f.db_name), t.upper() if t.islower() and '"' not in t else t]
    if not f.optional and not f.list:
        parts.append("NOT NULL")
    d = _default_sql(f, schema)
    if d is not None and not serial:
        parts.append(f"DEFAULT {d}")
    return " ".join(parts)


def render_table(model: Model, schema: Schema, db_schema: str = "public") -> str:
    """``CREATE TABLE`` for ``model`` as ``prisma migrate`` lays it out (with its primary key)."""
    sch = model.schema or db_schema
    lines = [f"    {_column_sql(f, schema, db_schema)}" for f in model.scalar_fields()
             if f.kind in ("scalar", "enum", "unsupported")]
    names = prisma_default_names(model, schema, use_map=True)
    pk = model.primary_key
    if pk is not None:
        cols = ", ".join(q(model.column(n)) for n in pk.field_names)
        lines.append(f"    CONSTRAINT {q(names['pkey'])} PRIMARY KEY ({cols})")
    return f"CREATE TABLE {qq(sch, model.db_name)} (\n" + ",\n".join(lines) + "\n)"


def _ops_sql(ops) -> str:
    """An index field's operator class: ``raw("gin_trgm_ops")`` or a Prisma name (``JsonbPathOps``)."""
    if ops is None:
        return ""
    if isinstance(ops, Call) and ops.name == "raw" and ops.positional:
        return " " + str(ops.positional[0])
    name = ops.name if isinstance(ops, (Ref, Call)) else str(ops)
    return " " + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def render_ddl(schema: Schema, db_schema: str = "public") -> list[str]:
    """The statements ``prisma migrate`` would run for ``schema`` on an empty database
    (schemas, enums, tables, unique indexes, indexes, foreign keys, implicit
    many-to-many join tables). Used for the fixes and to test :func:`compare` against
    a database built from the schema itself."""
    out: list[str] = []
    schemas = sorted({m.schema for m in schema.models if m.schema} | {e.schema for e in schema.enums if e.schema})
    out += [f"CREATE SCHEMA IF NOT EXISTS {q(s)}" for s in schemas]
    for e in schema.enums:
        out.append(f"CREATE TYPE {qq(e.schema or db_schema, e.db_name)} AS ENUM "
                   f"({', '.join(literal(v) for v in e.db_values)})")
    models = [m for m in schema.models if not m.is_ignored]
    for m in models:
        out.append(render_table(m, schema, db_schema))
    for m in models:
        tq = qq(m.schema or db_schema, m.db_name)
        names = prisma_default_names(m, schema, use_map=True)
        for spec in m.unique_constraints:
            cols = tuple(m.column(n) for n in spec.field_names)
            out.append(f"CREATE UNIQUE INDEX {q(names['unique'][cols])} ON {tq} ({', '.join(q(c) for c in cols)})")
        for spec in m.indexes:
            if spec.kind != "index":
                continue
            cols = tuple(m.column(n) for n in spec.field_names)
            using = f" USING {spec.type.upper()}" if spec.type else ""
            items = ", ".join(q(m.column(x.name)) + _ops_sql(x.ops) + (" DESC" if x.sort == "Desc" else "")
                              for x in spec.fields)
            out.append(f"CREATE INDEX {q(names['index'][cols])} ON {tq}{using} ({items})")
    for a, b, name in _implicit_m2m(schema):
        sch = a.schema or db_schema
        ta = expected_type(a.field(a.id_fields[0]), schema, db_schema)
        tb = expected_type(b.field(b.id_fields[0]), schema, db_schema)
        jt = qq(sch, prisma_join_table_name(name))
        m2m = prisma_m2m_names(prisma_join_table_name(name))
        out.append(f'CREATE TABLE {jt} ("A" {ta.upper()} NOT NULL, "B" {tb.upper()} NOT NULL, '
                   f'CONSTRAINT {q(m2m["pkey"])} PRIMARY KEY ("A", "B"))')
        out.append(f'CREATE INDEX {q(m2m["index"])} ON {jt} ("B")')
        for side, mdl in (("A", a), ("B", b)):
            out.append(f'ALTER TABLE {jt} ADD CONSTRAINT {q(m2m[side + "_fkey"])} FOREIGN KEY ({q(side)}) '
                       f'REFERENCES {qq(mdl.schema or db_schema, mdl.db_name)} ({q(mdl.column(mdl.id_fields[0]))}) '
                       f'ON DELETE CASCADE ON UPDATE CASCADE')
    for m in models:
        tq = qq(m.schema or db_schema, m.db_name)
        names = prisma_default_names(m, schema, use_map=True)
        for f in m.relation_fields():
            rel = f.relation
            if rel is None or not rel.fields or not schema.has_model(f.type):
                continue
            target = schema.model(f.type)
            cols = tuple(m.column(n) for n in rel.fields)
            refs = tuple(target.column(n) for n in rel.references)
            d = rel.on_delete or ("SetNull" if f.optional else "Restrict")
            u = rel.on_update or "Cascade"
            out.append(f"ALTER TABLE {tq} ADD CONSTRAINT {q(names['fkey'][cols])} FOREIGN KEY "
                       f"({', '.join(q(c) for c in cols)}) REFERENCES {qq(target.schema or db_schema, target.db_name)} "
                       f"({', '.join(q(c) for c in refs)}) ON DELETE {_SQL_ACTION[d]} ON UPDATE {_SQL_ACTION[u]}")
    return out
