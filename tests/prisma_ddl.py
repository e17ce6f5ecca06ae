"""The DDL ``prisma migrate`` would run for a schema on an empty database, so that the
tests can build a database from a schema itself and compare :func:`runbook.compat.compare`
against it (a round trip compares clean; each deliberate drift is then reported)."""

from __future__ import annotations

import re

from runbook.compat import column_sql, expected_type
from runbook.compat.keys import SQL_ACTION
from runbook.naming import literal, q, qq
from runbook.prisma import (Call, Model, Ref, Schema, implicit_many_to_many, prisma_default_names,
                            prisma_m2m_names)


def render_table(model: Model, schema: Schema, db_schema: str = "public") -> str:
    """``CREATE TABLE`` for ``model`` as ``prisma migrate`` lays it out (with its primary key)."""
    sch = model.schema or db_schema
    lines = [f"    {column_sql(f, schema, db_schema)}" for f in model.scalar_fields()
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
    many-to-many join tables)."""
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
        out += _indexes(m, schema, db_schema)
    for r in implicit_many_to_many(schema):
        out += _join_table(r.a, r.b, r.table, schema, db_schema)
    for m in models:
        out += _foreign_keys(m, schema, db_schema)
    return out


def _indexes(m: Model, schema: Schema, db_schema: str) -> list[str]:
    out: list[str] = []
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
    return out


def _join_table(a: Model, b: Model, table: str, schema: Schema, db_schema: str) -> list[str]:
    sch = a.schema or db_schema
    ta = expected_type(a.field(a.id_fields[0]), schema, db_schema)
    tb = expected_type(b.field(b.id_fields[0]), schema, db_schema)
    jt = qq(sch, table)
    m2m = prisma_m2m_names(table)
    out = [f'CREATE TABLE {jt} ("A" {ta.upper()} NOT NULL, "B" {tb.upper()} NOT NULL, '
           f'CONSTRAINT {q(m2m["pkey"])} PRIMARY KEY ("A", "B"))',
           f'CREATE INDEX {q(m2m["index"])} ON {jt} ("B")']
    for side, mdl in (("A", a), ("B", b)):
        out.append(f'ALTER TABLE {jt} ADD CONSTRAINT {q(m2m[side + "_fkey"])} FOREIGN KEY ({q(side)}) '
                   f'REFERENCES {qq(mdl.schema or db_schema, mdl.db_name)} ({q(mdl.column(mdl.id_fields[0]))}) '
                   f'ON DELETE CASCADE ON UPDATE CASCADE')
    return out


def _foreign_keys(m: Model, schema: Schema, db_schema: str) -> list[str]:
    out: list[str] = []
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
                   f"({', '.join(q(c) for c in refs)}) ON DELETE {SQL_ACTION[d]} ON UPDATE {SQL_ACTION[u]}")
    return out
