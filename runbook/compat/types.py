"""Column types: the type ``prisma migrate`` would create for a field
(:func:`expected_type`), the types its client can still read and write, and the
findings of a column (or an enum) whose type differs."""

from __future__ import annotations

import re

from ..catalog.inspect import Column, Snapshot
from ..naming import literal, q, qq
from ..prisma import Enum, Field, Model, Schema
from .findings import BLOCKER, INFO, READS, WARNING, WRITES, Finding

__all__ = ["SCALAR_TYPES", "COMPATIBLE", "NATIVE_TYPES", "enum_of", "expected_type", "type_findings",
           "enum_findings"]

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


def enum_of(schema: Schema, name: str) -> Enum | None:
    """The schema's enum called ``name``, or None."""
    return next((e for e in schema.enums if e.name == name), None)


def expected_type(f: Field, schema: Schema, db_schema: str = "public") -> str:
    """The column type ``prisma migrate`` would create for field ``f`` (format_type text)."""
    if f.kind == "enum":
        e = enum_of(schema, f.type)
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


def _element_type(col: Column) -> str:
    """``pg_type.typname`` of the column, or of its elements when it is an array."""
    return col.type_name[1:] if col.type.endswith("[]") and col.type_name.startswith("_") else col.type_name


def type_findings(model: Model, f: Field, col: Column, schema: Schema, db_schema: str, table: str) -> list[Finding]:
    """The column's type against the field's (enums are judged by :func:`enum_findings`)."""
    want = expected_type(f, schema, db_schema)
    have = col.type
    if _canon_type(want) == _canon_type(have) or f.kind == "enum":
        return []
    if f.kind == "unsupported":
        return [Finding(model.name, table, col.name, "type", INFO, f"type {have}, schema says Unsupported({want!r})",
                        "the client cannot read or write it anyway", "none needed")]
    elem = _element_type(col)
    if f.list != have.endswith("[]") or elem not in COMPATIBLE.get(f.type, set()):
        return [Finding(model.name, table, col.name, "type", BLOCKER, f"type {have}, the client expects {want}",
                        f"reads and writes of {model.name}.{f.name} fail (the client cannot convert {have})",
                        f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} TYPE {want} USING {q(col.name)}::{want}",
                        (READS, WRITES))]
    return [Finding(model.name, table, col.name, "type", WARNING,
                    f"type {have}, prisma migrate would create {want}",
                    f"the client reads and writes it; {_conversion_note(f, col, elem)}; prisma migrate diff reports drift",
                    f"ALTER TABLE {table} ALTER COLUMN {q(col.name)} TYPE {want}")]


def _conversion_note(f: Field, col: Column, elem: str) -> str:
    """What the client loses on a compatible column of another type."""
    if f.type == "Int" and elem == "int2":
        return "values above 32767 cannot be written"
    if f.type == "String" and col.type.startswith(("character varying(", "character(")):
        return "longer strings cannot be written"
    if f.type == "DateTime" and "(0)" in col.type:
        return "milliseconds are lost"
    return "values are converted"


def enum_findings(model: Model, f: Field, col: Column, schema: Schema, snap: Snapshot, db_schema: str,
                  tq: str) -> list[Finding]:
    """An enum field's column: the type exists, the column has it, the labels match."""
    e = enum_of(schema, f.type)
    esch = (e.schema if e else None) or db_schema
    ename = e.db_name if e else f.type
    have = snap.enum(esch, ename)
    want_type = expected_type(f, schema, db_schema)
    if have is None:
        labels = ", ".join(literal(v) for v in (e.db_values if e else ()))
        return [Finding(model.name, tq, col.name, "enum", BLOCKER, f"enum type {qq(esch, ename)} does not exist",
                        f"reads and writes of {model.name}.{f.name} fail (the client casts to {ename})",
                        f"CREATE TYPE {qq(esch, ename)} AS ENUM ({labels}); then ALTER TABLE {tq} ALTER COLUMN "
                        f"{q(col.name)} TYPE {want_type} USING {q(col.name)}::text::{want_type}",
                        (READS, WRITES))]
    out: list[Finding] = []
    elem = _element_type(col)
    is_enum = col.type_kind == "e" or (col.type.endswith("[]") and snap.enum(col.type_schema, elem) is not None)
    if not is_enum or elem != ename or col.type_schema != esch or f.list != col.type.endswith("[]"):
        out.append(Finding(model.name, tq, col.name, "type", BLOCKER, f"type {col.type}, the client expects enum {ename}",
                           f"reads and writes of {model.name}.{f.name} fail",
                           f"ALTER TABLE {tq} ALTER COLUMN {q(col.name)} TYPE {want_type} "
                           f"USING {q(col.name)}::text::{want_type}", (READS, WRITES)))
    return out + _label_findings(model, f, col, e, ename, esch, tuple(have.labels), tq)


def _label_findings(model: Model, f: Field, col: Column, e: Enum | None, ename: str, esch: str,
                    have: tuple[str, ...], tq: str) -> list[Finding]:
    """The enum's labels in the database (``have``) against the schema's values."""
    out: list[Finding] = []
    want = e.db_values if e else ()
    missing = [v for v in want if v not in have]
    extra = [v for v in have if v not in want]
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
    if not missing and not extra and have != tuple(want):
        out.append(Finding(model.name, tq, col.name, "enum", INFO, f"enum {ename} labels in another order",
                           "ORDER BY this column sorts differently than the schema lists the values", "none needed"))
    return out
