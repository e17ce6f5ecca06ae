"""Keys and relations: the primary key, every ``@unique``/``@@unique`` and ``@@index``
its index, every relation its foreign key (columns, target, referential actions), the
names Prisma gives them by default (:func:`runbook.prisma.prisma_default_names`), and
the join tables of implicit many-to-many relations."""

from __future__ import annotations

import re

from ..catalog.inspect import Constraint, Index, Snapshot, Table
from ..naming import q, qq
from ..prisma import Field, IndexSpec, Model, Schema, implicit_many_to_many, prisma_default_names
from .findings import BLOCKER, INFO, WARNING, WRITES, Finding

__all__ = ["SQL_ACTION", "key_findings", "m2m_findings"]

_ACTION = {"CASCADE": "Cascade", "RESTRICT": "Restrict", "SET NULL": "SetNull", "SET DEFAULT": "SetDefault",
           "NO ACTION": "NoAction"}
#: Prisma's referential action -> its SQL words (``SetNull`` -> ``SET NULL``).
SQL_ACTION = {v: k for k, v in _ACTION.items()}


def key_findings(model: Model, schema: Schema, snap: Snapshot, t: Table, tq: str) -> list[Finding]:
    """The keys, indexes and foreign keys of ``model`` against those of its table ``t``."""
    names = prisma_default_names(model, schema, use_map=True)
    cons = snap.constraints_of(t.oid)
    idx = snap.indexes_of(t.oid)
    out = _primary_key_findings(model, names["pkey"], next((c for c in cons if c.type == "p"), None), tq)
    out += _unique_findings(model, names["unique"], idx, tq)
    out += _index_findings(model, names["index"], idx, tq)
    fks = [c for c in cons if c.type == "f"]
    for f in model.relation_fields():  # the side that holds the foreign key
        rel = f.relation
        if rel is None or not rel.fields or not schema.has_model(f.type):
            continue
        out += _relation_findings(model, f, schema.model(f.type), names["fkey"], fks, snap, t, tq)
    return out


def _columns(model: Model, spec: IndexSpec) -> tuple[str, ...]:
    return tuple(model.column(n) if model.has_field(n) else n for n in spec.field_names)


def _primary_key_findings(model: Model, name: str | None, have: Constraint | None, tq: str) -> list[Finding]:
    pk = model.primary_key
    if pk is None:
        return []
    want = _columns(model, pk)
    if have is None:
        return [Finding(model.name, tq, ", ".join(want), "unique", WARNING, "no primary key",
                        f"duplicates of {model.name} ids are possible; upserts on the id fail",
                        f"ALTER TABLE {tq} ADD CONSTRAINT {q(name)} PRIMARY KEY ({', '.join(q(c) for c in want)})")]
    if tuple(have.columns) != want:
        return [Finding(model.name, tq, ", ".join(want), "unique", WARNING, f"primary key is ({', '.join(have.columns)})",
                        f"{model.name} is identified by other columns than the client uses", "align the two")]
    if name and have.name != name:
        return [_name_finding(model, tq, "primary key", have.name, name, "constraint")]
    return []


def _unique_findings(model: Model, names: dict, idx: list[Index], tq: str) -> list[Finding]:
    out: list[Finding] = []
    for spec in model.unique_constraints:
        want = _columns(model, spec)
        hit = _best_index([i for i in idx if i.is_unique and i.is_valid and set(i.columns) == set(want)],
                          names[want], want)
        label = ", ".join(want)
        if hit is None:
            out.append(Finding(model.name, tq, label, "unique", WARNING, "no unique index",
                               "duplicates are possible; findUnique returns the first; native upserts fail",
                               f"CREATE UNIQUE INDEX {q(names[want])} ON {tq} ({', '.join(q(c) for c in want)})"))
        elif hit.name != names[want]:
            out.append(_name_finding(model, tq, f"unique ({label})", hit.name, names[want], "index"))
    return out


def _index_findings(model: Model, names: dict, idx: list[Index], tq: str) -> list[Finding]:
    out: list[Finding] = []
    for spec in model.indexes:
        if spec.kind != "index":
            continue
        want = _columns(model, spec)
        hit = _best_index([i for i in idx if tuple(i.columns) == want], names[want], want)
        label = ", ".join(want)
        if hit is None:
            out.append(Finding(model.name, tq, label, "index", WARNING, "no index",
                               "queries that filter on these columns scan the table",
                               f"CREATE INDEX {q(names[want])} ON {tq} ({', '.join(q(c) for c in want)})"))
        elif hit.name != names[want]:
            out.append(_name_finding(model, tq, f"index ({label})", hit.name, names[want], "index"))
    return out


def _best_index(candidates: list[Index], name: str, cols: tuple[str, ...]) -> Index | None:
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


# --------------------------------------------------------------------------- foreign keys


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


def _relation_findings(model: Model, f: Field, target: Model, fk_names: dict, fks: list[Constraint],
                       snap: Snapshot, t: Table, tq: str) -> list[Finding]:
    """One relation field that holds the foreign key: the constraint, its target, its actions, its name."""
    rel = f.relation
    tsch = target.schema or t.schema
    want = tuple(model.column(n) if model.has_field(n) else n for n in rel.fields)
    ref_cols = tuple(target.column(n) if target.has_field(n) else n for n in rel.references)
    label = ", ".join(want)
    fk = next((c for c in fks if tuple(c.columns) == want), None)
    want_del = rel.on_delete or ("SetNull" if f.optional else "Restrict")
    want_upd = rel.on_update or "Cascade"
    fk_name = fk_names.get(want)
    target_table = snap.table(tsch, target.db_name)
    if fk is None:
        return [Finding(model.name, tq, label, "relation", WARNING,
                        f"no foreign key to {qq(tsch, target.db_name)}",
                        f"{model.name}.{f.name} may point at a missing {target.name}; the client does not check",
                        f"ALTER TABLE {tq} ADD CONSTRAINT {q(fk_name)} FOREIGN KEY ({', '.join(q(c) for c in want)}) "
                        f"REFERENCES {qq(tsch, target.db_name)} ({', '.join(q(c) for c in ref_cols)}) "
                        f"ON DELETE {SQL_ACTION[want_del]} ON UPDATE {SQL_ACTION[want_upd]}")]
    if target_table is None or fk.ref_table_oid != target_table.oid or _fk_ref_columns(fk.definition) != ref_cols:
        got = snap.table_by_oid(fk.ref_table_oid)
        return [Finding(model.name, tq, label, "relation", BLOCKER,
                        f"foreign key {fk.name} references {got.qualified if got else fk.ref_table_oid}"
                        f"({', '.join(_fk_ref_columns(fk.definition))}), not "
                        f"{qq(tsch, target.db_name)}({', '.join(ref_cols)})",
                        f"creating a {model.name} that points at a {target.name} fails", "point it at the right table",
                        (WRITES,))]
    out = _action_findings(model, f, target, fk, label, want_del, want_upd, tq)
    if not fk.validated:
        out.append(Finding(model.name, tq, label, "relation", WARNING, f"{fk.name} is NOT VALID",
                           "old rows are not checked", f"ALTER TABLE {tq} VALIDATE CONSTRAINT {q(fk.name)}"))
    if fk_name and fk.name != fk_name:
        out.append(_name_finding(model, tq, f"foreign key ({label})", fk.name, fk_name, "constraint"))
    return out


def _action_findings(model: Model, f: Field, target: Model, fk: Constraint, label: str, want_del: str,
                     want_upd: str, tq: str) -> list[Finding]:
    """The foreign key's ON DELETE and ON UPDATE against the relation's ``onDelete``/``onUpdate``."""
    out: list[Finding] = []
    have_del, have_upd = _fk_actions(fk.definition)
    for what, w, h in (("ON DELETE", want_del, have_del), ("ON UPDATE", want_upd, have_upd)):
        if w == h or {w, h} == {"Restrict", "NoAction"}:
            continue
        if what == "ON DELETE":
            consequence = _delete_consequence(model, f, target.name, w, h)
            fix = f"say onDelete: {h} in the schema, or recreate {fk.name} with {what} {SQL_ACTION[w]}"
        else:
            consequence = f"changing a {target.name} id does {h} instead of {w}"
            fix = f"recreate {fk.name} with {what} {SQL_ACTION[w]}"
        out.append(Finding(model.name, tq, label, "relation", WARNING,
                           f"{fk.name}: {what} {SQL_ACTION[h]}, the schema says {SQL_ACTION[w]}", consequence, fix))
    return out


def _delete_consequence(model: Model, f: Field, target: str, want: str, have: str) -> str:
    if have == "Cascade":
        return f"deleting a {target} also deletes its {model.name} rows (the schema expects {want})"
    if have == "SetNull":
        return f"deleting a {target} sets {model.name}.{'/'.join(f.relation.fields)} to NULL (the schema expects {want})"
    if want == "Cascade":
        return f"deleting a {target} fails while {model.name} rows point at it (the schema expects them deleted)"
    if want == "SetNull":
        return f"deleting a {target} fails while {model.name} rows point at it (the schema expects NULL)"
    return f"the database does {have} where the schema says {want}"


# --------------------------------------------------------------------------- implicit many-to-many


def m2m_findings(schema: Schema, snap: Snapshot, db_schema: str) -> list[Finding]:
    """Implicit many-to-many relations: Prisma's join table ``_<Relation>`` with ``A`` and ``B``."""
    out: list[Finding] = []
    for r in implicit_many_to_many(schema):
        a, b = r.a, r.b
        t = snap.table(a.schema or db_schema, r.table)
        tq = qq(a.schema or db_schema, r.table)
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
