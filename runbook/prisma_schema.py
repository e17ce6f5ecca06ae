"""``runbook prisma-schema --legacy``: a legacy service's Prisma schema, after the rename.

A service that still uses the legacy models (``User``, ``AssistantChatSession`` with no
``@@map``) keeps working against the renamed tables once its schema maps them: this
writes that schema with ``@@map("users")`` on every renamed model, ``@map("title")`` on
every renamed column, the explicit ``map:`` constraint names the migration renamed
(mapping init's editor, :func:`runbook.mapping_init.build_target_schema`, does all of
that), and then the fields (with their relations) and enums the migration added. Model
and field names are kept, so after ``prisma generate`` the service's code does not
change. The schema is edited as text: comments and layout stay.
"""

from __future__ import annotations

from pathlib import Path

from .errors import BadInput, WrongState
from .mapping import NOW, AddColumn, Mapping, TableMapping, as_mapping

def legacy_schema(text: str, mapping: Mapping, name_renames: dict[str, str]) -> str:
    """The legacy schema ``text`` mapped onto the renamed tables (see the module)."""
    from .mapping_init import Checked, InitOptions, TableProposal, build_target_schema
    from .prisma import parse

    schema = parse(text)
    props = [_proposal(TableProposal, t) for t in mapping.tables]
    c = Checked(InitOptions(schema=mapping.schema), "", None, None, text, schema, None, None)
    out, _ = build_target_schema(text, schema, props, c, name_renames)
    out = _add_fields(out, mapping)
    return _add_enums(out, mapping)


def _proposal(cls, t: TableMapping):
    m2m = t.old.startswith("_") and t.new.startswith("_")
    p = cls(t.old, t.new, "m2m" if m2m else "table", 0, None, False, 0,
            columns=[(c.old, c.new) for c in t.rename_columns])
    p.relation = t.new[1:] if m2m else None
    return p


def _model(schema, mapping: Mapping, table: str):
    for m in schema.models:
        if m.db_name == table and (m.schema is None or m.schema == mapping.schema):
            return m
    return None


def _new_name(mapping: Mapping, table: str) -> str:
    return next((t.new for t in mapping.tables if table in (t.old, t.new)), table)


def _add_fields(text: str, mapping: Mapping) -> str:
    """Insert the added columns as fields (after each model's last field), the
    back-relations of added foreign keys, and database defaults set by the migration."""
    from .mapping_init import _Text
    from .prisma import parse

    schema, tx = parse(text), _Text(text)
    nl = "\r\n" if "\r\n" in text else "\n"
    inserts: dict[str, list[str]] = {}  # model name -> field lines
    edits: list[tuple[int, int, str]] = []
    for t in mapping.tables:
        m = _model(schema, mapping, t.new)
        if m is None:
            continue
        known = {f.db_name for f in m.scalar_fields()}
        for col in t.add_columns:
            if col.name not in known:
                inserts.setdefault(m.name, []).extend(_field_lines(schema, mapping, m, col))
                if col.references is not None:
                    _back_relation(schema, mapping, m, col, inserts)
        for rc in t.rename_columns:  # made NOT NULL by the migration (its NULLs filled)
            f = next((f for f in m.scalar_fields() if f.db_name == rc.new), None)
            if rc.not_null and f is not None and f.optional:
                q = tx.offset(tx.toks[tx.index_at(f.line, "?")])
                edits.append((q, q + 1, ""))
        for sd in t.set_defaults:
            f = next((f for f in m.scalar_fields() if f.db_name == sd.column), None)
            if f is not None and not f.has_default:
                pos = tx.field_end(f.line)
                edits.append((pos, pos, f" @default({_default(sd.default, f.kind == 'enum')})"))
    for name, lines in inserts.items():
        m = schema.model(name)
        pos = tx.field_end(m.fields[-1].line) if m.fields else tx.block_close(m.line)
        edits.append((pos, pos, "".join(f"{nl}  {ln}" for ln in lines)))
    for start, end, rep in sorted(edits, reverse=True):
        text = text[:start] + rep + text[end:]
    return text


def _prisma_type(col: AddColumn) -> tuple[str, str]:
    from .prisma_reconcile import prisma_type

    return (col.type, "") if col.enum else prisma_type(col.type)


def _default(value, enum: bool) -> str:
    from .prisma import render_value

    if value == NOW:
        return "now()"
    return str(value) if enum else render_value(value)


def _field_lines(schema, mapping: Mapping, m, col: AddColumn) -> list[str]:
    typ, native = _prisma_type(col)
    line = f"{col.name} {typ}{'' if col.not_null else '?'}{native}"
    if col.default is not None:
        line += f" @default({_default(col.default, col.enum)})"
    lines = [line]
    ref = col.references
    if ref is not None:
        target = _model(schema, mapping, _new_name(mapping, ref.table))
        if target is None:
            raise WrongState(f"added column {m.name}.{col.name} references {ref.table}, which no model maps")
        field = _free(m, target.name[0].lower() + target.name[1:])
        key = next((f.name for f in target.scalar_fields() if f.db_name == ref.column), ref.column)
        lines.append(f"{field} {target.name}{'' if col.not_null else '?'} @relation(\"{_relation_name(m, col)}\", "
                     f"fields: [{col.name}], references: [{key}], "
                     f"onDelete: {_action(ref.on_delete)}, onUpdate: {_action(ref.on_update)})")
    return lines


def _action(sql: str) -> str:
    """``SET NULL`` -> Prisma's ``SetNull``."""
    from .compat.keys import SQL_ACTION

    return next(k for k, v in SQL_ACTION.items() if v == sql)


def _relation_name(m, col: AddColumn) -> str:
    return f"{m.name}_{col.name}"


def _free(m, name: str) -> str:
    """``name``, or ``name2``, ``name3`` ... when the model has a field of that name."""
    n, i = name, 1
    while m.has_field(n):
        i += 1
        n = f"{name}{i}"
    return n


def _back_relation(schema, mapping: Mapping, m, col: AddColumn, inserts: dict[str, list[str]]) -> None:
    target = _model(schema, mapping, _new_name(mapping, col.references.table))
    field = _free(target, m.name[0].lower() + m.name[1:] + "s")
    inserts.setdefault(target.name, []).append(f'{field} {m.name}[] @relation("{_relation_name(m, col)}")')


def _add_enums(text: str, mapping: Mapping) -> str:
    from .prisma import parse

    schema = parse(text)
    nl = "\r\n" if "\r\n" in text else "\n"
    for e in mapping.enums:
        if not schema.has_enum(e.name):
            body = "".join(f"  {v}{nl}" for v in e.values)
            text = text.rstrip() + f"{nl}{nl}enum {e.name} {{{nl}{body}}}{nl}"
    return text


def name_renames(url: str | None, mapping: Mapping) -> dict[str, str]:
    """The constraint and index names the last migration renamed (its stored plan)."""
    from . import state
    from .catalog.inspect import inspect
    from .connection import connect, resolve_url
    from .ops import RenameConstraint, RenameIndex
    from .plan import Plan

    conn = connect(resolve_url(url), application_name="runbook-prisma-schema")
    try:
        run = state.last_run(conn, ("migrated", "committed", "rolled back", "restoring"))
        if run is None or run["status"] not in ("migrated", "committed"):
            why = "no runbook migration is recorded" if run is None else f"the last run ({run['id']}) is {run['status']}"
            raise WrongState(f"{why} in this database: run `runbook migrate` first; nothing was written")
        plan = Plan.from_stored(inspect(conn), mapping, run)
    finally:
        conn.rollback()
        conn.close()
    return {op.old: op.new for op in plan.ops if type(op) in (RenameConstraint, RenameIndex)}


def write_legacy(url: str | None, mapping, legacy: str | Path, out: str | Path, force: bool = False) -> str:
    """Check the arguments, read the stored plan, write ``out``; the text written."""
    from .mapping_init import _write_atomic, read_prisma_file
    from .prisma import parse

    m = as_mapping(mapping)
    out = check_out(out, force, legacy)
    text, _ = read_prisma_file(legacy, "--legacy")
    result = legacy_schema(text, m, name_renames(url, m))
    parse(result, source=str(out))  # it must parse as written
    _write_atomic(out, result)
    return result


def check_out(out: str | Path | None, force: bool, *inputs) -> Path:
    if not out:
        raise BadInput("--out FILE: where to write the schema")
    p = Path(out)
    if p.is_dir():
        raise BadInput(f"--out {p}: a folder")
    if not p.parent.is_dir():
        raise BadInput(f"--out {p}: folder {p.parent} does not exist")
    if any(i and Path(i).resolve() == p.resolve() for i in inputs):
        raise BadInput(f"--out {p} names the input schema")
    if p.exists() and not force:
        raise BadInput(f"--out {p} exists; pass --force to overwrite it")
    return p
