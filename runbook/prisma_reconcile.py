"""``runbook prisma-schema --reconcile``: the service's schema, told what its tables hold.

A target schema that leaves out columns the tables have (the AI Assistant's ``users``
keep ``passwordHash``, ``createdAt``, ``updatedAt``), their indexes, or the referential
actions of their foreign keys, is one ``prisma migrate dev`` would "fix" by dropping
them, data included. This declares them, read from the live catalog with their exact
types, defaults and names: each missing column as a field (``@map`` when its name is
no Prisma identifier or is taken), each missing index as ``@@index``/``@@unique`` with
``map:``, a foreign key's ``ON DELETE``/``ON UPDATE`` as ``onDelete``/``onUpdate`` where
the relation leaves them to Prisma's default and they differ. What a Prisma schema
cannot say (an expression or partial index, another index method, a foreign key no
relation declares, an action the relation states otherwise) is kept as a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_NATIVE_SCALAR = {
    "Text": "String", "VarChar": "String", "Char": "String", "Uuid": "String", "Xml": "String", "Inet": "String",
    "Citext": "String", "Bit": "String", "VarBit": "String", "Boolean": "Boolean", "Integer": "Int",
    "SmallInt": "Int", "Oid": "Int", "BigInt": "BigInt", "DoublePrecision": "Float", "Real": "Float",
    "Decimal": "Decimal", "Money": "Decimal", "Timestamp": "DateTime", "Timestamptz": "DateTime",
    "Date": "DateTime", "Time": "DateTime", "Timetz": "DateTime", "Json": "Json", "JsonB": "Json", "ByteA": "Bytes",
}
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Reconciled:
    text: str
    added: tuple[str, ...]  # "Model.field", "Model @@index(name)", "Model.field onDelete"
    notes: tuple[str, ...]


def reconcile(url: str | None, target: str | Path, db_schema: str) -> Reconciled:
    """The schema ``target`` with what the live tables of ``db_schema`` have and it lacks."""
    from .catalog.inspect import inspect
    from .connection import connect, resolve_url
    from .mapping_init import read_prisma_file

    text, _ = read_prisma_file(target, "--reconcile")
    conn = connect(resolve_url(url), application_name="runbook-prisma-schema")
    try:
        snap = inspect(conn)
    finally:
        conn.rollback()
        conn.close()
    return reconcile_text(text, snap, db_schema)


def reconcile_text(text: str, snap, db_schema: str) -> Reconciled:
    from .mapping_init import _Text
    from .prisma import parse

    schema, tx = parse(text), _Text(text)
    nl = "\r\n" if "\r\n" in text else "\n"
    edits: list[tuple[int, int, str]] = []
    added: list[str] = []
    notes: list[str] = []
    for m in schema.models:
        t = snap.table(m.schema or db_schema, m.db_name)
        if m.kind != "model" or t is None or m.attribute("ignore") is not None:
            continue
        fields = _fields(m, t, schema, added, notes)
        if fields:
            pos = tx.field_end(m.fields[-1].line) if m.fields else tx.offset(tx.toks[tx.index_at(m.line, "{")]) + 1
            edits.append((pos, pos, "".join(f"{nl}  {f}" for f in fields)))
        blocks = _indexes(m, t, schema, snap, fields, added, notes)
        if blocks:
            close = tx.block_close(m.line)
            start = text.rfind("\n", 0, close) + 1
            body = "".join(f"  {b}{nl}" for b in blocks)
            edits.append((start, start, body) if not text[start:close].strip() else (close, close, nl + body))
        edits += _actions(tx, m, t, schema, snap, added, notes)
    for start, end, rep in sorted(edits, reverse=True):
        text = text[:start] + rep + text[end:]
    parse(text)  # it must parse as written
    return Reconciled(text, tuple(added), tuple(notes))


def _fields(m, t, schema, added: list[str], notes: list[str]) -> list[str]:
    """Field lines for the columns of ``t`` the model does not know."""
    known = {f.db_name for f in m.scalar_fields()} | {f.db_name for f in m.fields if f.kind == "unsupported"}
    names = {f.name for f in m.fields}
    out = []
    for col in t.columns:
        if col.name in known or col.generated or col.identity:
            if col.name not in known:
                notes.append(f"{m.name}: column {col.name} is generated or an identity: not declared")
            continue
        name = col.name if _IDENT.fullmatch(col.name) and col.name not in names else _free_name(col.name, names)
        names.add(name)
        typ, native = _field_type(col, schema)
        line = f"{name} {typ}{'' if col.not_null or typ.endswith('[]') else '?'}{native}"
        if col.default is not None:
            line += f" @default({_default(col.default, typ)})"
        if name != col.name:
            line += f' @map("{col.name}")'
        out.append(line)
        added.append(f"{m.name}.{name}")
    return out


def _free_name(column: str, names: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", column)
    base = base if base[:1].isalpha() else "f_" + base
    n, i = base, 1
    while n in names:
        i += 1
        n = f"{base}{i}"
    return n


def _field_type(col, schema) -> tuple[str, str]:
    """(Prisma type, native type attribute) of a column, as ``prisma db pull`` writes it."""
    array = col.type.endswith("[]")
    suffix = "[]" if array else ""
    if col.type_kind == "e":
        e = next((e for e in schema.enums if e.db_name == col.type_name.removesuffix("[]").lstrip("_")), None)
        if e is not None:
            return e.name + suffix, ""
    typ, native = prisma_type(col.type[:-2] if array else col.type)
    return typ + suffix, native


def prisma_type(pg: str) -> tuple[str, str]:
    """(Prisma scalar, native type attribute) of a PostgreSQL type (format_type text);
    ``Unsupported("...")`` for one Prisma has no scalar for."""
    from .compat.types import NATIVE_TYPES, SCALAR_TYPES

    for scalar, base in SCALAR_TYPES.items():
        if pg == base:
            return scalar, ""
    for native, fmt in NATIVE_TYPES.items():
        m = re.fullmatch(re.escape(fmt).replace(r"\{\}", r"(?:\(([0-9, ]+)\))?"), pg)
        if m:
            args = f"({m.group(1).replace(' ', '')})" if "{}" in fmt and m.group(1) else ""
            return _NATIVE_SCALAR[native], f" @db.{native}{args}"
    return f'Unsupported("{pg}")', ""


def _default(expr: str, typ: str) -> str:
    """A column default as Prisma's ``@default`` argument."""
    from .prisma import render_value

    e = expr.strip()
    if e in ("CURRENT_TIMESTAMP", "now()"):
        return "now()"
    if e.startswith("nextval("):
        return "autoincrement()"
    if e in ("true", "false") or re.fullmatch(r"-?\d+(\.\d+)?", e):
        return e
    m = re.fullmatch(r"'((?:[^']|'')*)'::(.+)", e)
    if m and not typ.startswith(("String", "Json", "DateTime", "Decimal", "Bytes", "Unsupported")) and \
            _IDENT.fullmatch(m.group(1)):
        return m.group(1)  # an enum value
    if m and typ.startswith("String"):
        return render_value(m.group(1).replace("''", "'"))
    return f"dbgenerated({render_value(e)})"


def _indexes(m, t, schema, snap, new_fields: list[str], added: list[str], notes: list[str]) -> list[str]:
    """``@@index``/``@@unique`` lines for the indexes of ``t`` the model does not declare."""
    from .prisma import prisma_default_names

    names = prisma_default_names(m, schema, use_map=True)
    declared = {names["pkey"], *names["unique"].values(), *names["index"].values()}
    by_column = {f.db_name: f.name for f in m.fields if f.kind != "model"}
    by_column.update({_col_of(f): f.split(" ", 1)[0] for f in new_fields})
    out = []
    for i in snap.indexes_of(t.oid):
        if i.is_primary or i.name in declared:
            continue
        items = _index_items(i.definition)
        if items is None or any(c not in by_column for c, _ in items):
            notes.append(f"{m.name}: index {i.name} cannot be said in a Prisma schema ({i.definition})")
            continue
        cols = ", ".join(by_column[c] + ("(sort: Desc)" if desc else "") for c, desc in items)
        out.append(f'@@{"unique" if i.is_unique else "index"}([{cols}], map: "{i.name}")')
        added.append(f"{m.name} {i.name}")
    return out


def _col_of(field_line: str) -> str:
    m = re.search(r'@map\("([^"]*)"\)', field_line)
    return m.group(1) if m else field_line.split(" ", 1)[0]


def _index_items(definition: str) -> list[tuple[str, bool]] | None:
    """[(column, descending)] of a plain btree index; None for anything else."""
    m = re.fullmatch(r"CREATE (?:UNIQUE )?INDEX .+? USING btree \((.*)\)", definition.strip())
    if not m:
        return None
    out = []
    for part in m.group(1).split(", "):
        pm = re.fullmatch(r'("(?:[^"]|"")+"|[a-z_][a-z0-9_]*)( DESC)?', part)
        if not pm:
            return None
        name = pm.group(1)
        out.append((name[1:-1].replace('""', '"') if name.startswith('"') else name, bool(pm.group(2))))
    return out


def _actions(tx, m, t, schema, snap, added: list[str], notes: list[str]) -> list[tuple[int, int, str]]:
    """``onDelete``/``onUpdate`` for relations whose foreign key does otherwise than Prisma's default."""
    from .compat.keys import _fk_actions

    fks = [c for c in snap.constraints_of(t.oid) if c.type == "f"]
    edits = []
    for f in m.relation_fields():
        rel = f.relation
        if rel is None or not rel.fields or not schema.has_model(f.type):
            continue
        cols = tuple(m.column(n) if m.has_field(n) else n for n in rel.fields)
        fk = next((c for c in fks if tuple(c.columns) == cols), None)
        if fk is None:
            continue
        have_del, have_upd = _fk_actions(fk.definition)
        extra = []
        for arg, said, default, have in (("onDelete", rel.on_delete, "SetNull" if f.optional else "Restrict", have_del),
                                         ("onUpdate", rel.on_update, "Cascade", have_upd)):
            if said is None and have != default:
                extra.append(f"{arg}: {have}")
                added.append(f"{m.name}.{f.name} {arg}: {have}")
            elif said is not None and said != have:
                notes.append(f"{m.name}.{f.name}: {arg}: {said} in the schema, {have} in {fk.name}: kept")
        if extra:
            _, _, paren = tx.attribute_span(f.line, "@", "relation")
            pos = tx.offset(tx.toks[tx.close_paren(paren)])
            edits.append((pos, pos, ", " + ", ".join(extra)))
    declared = {tuple(m.column(n) if m.has_field(n) else n for n in f.relation.fields)
                for f in m.relation_fields() if f.relation is not None and f.relation.fields}
    notes += [f"{m.name}: foreign key {c.name} has no relation in the schema ({c.definition})"
              for c in fks if tuple(c.columns) not in declared]
    return edits
