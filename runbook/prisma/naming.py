"""Prisma's naming rules: the names Prisma Migrate gives constraints, indexes and the
join tables of implicit many-to-many relations, cut to PostgreSQL's 63 bytes as
Prisma cuts them (prisma-engines, ``psl/psl-core/src/datamodel_connector/constraint_names.rs``).

They work on the parsed :mod:`runbook.prisma.model` classes and the *database* names
(``@@map`` / ``@map``).  PostgreSQL's own implicit names (``<table>_<column>_seq`` ...)
are :mod:`runbook.naming`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .model import IndexSpec, Model, Schema

__all__ = [
    "prisma_constraint_name",
    "prisma_default_names",
    "prisma_join_table_name",
    "prisma_m2m_names",
    "ImplicitManyToMany",
    "implicit_many_to_many",
    "POSTGRES_MAX_IDENTIFIER_LENGTH",
]

POSTGRES_MAX_IDENTIFIER_LENGTH = 63


# --------------------------------------------------------------------------- constraint names


def prisma_constraint_name(
    table: str,
    columns: Iterable[str] = (),
    suffix: str = "pkey",
    max_length: int = POSTGRES_MAX_IDENTIFIER_LENGTH,
) -> str:
    """Prisma's default name of a constraint or index, truncated as Prisma does.

    Follows ``ConstraintNames`` in prisma-engines
    (``psl/psl-core/src/datamodel_connector/constraint_names.rs``), always with the
    *database* names (``@@map`` / ``@map``), never the model / field names:

    * primary key: ``{table}_pkey`` (``columns`` empty);
    * unique: ``{table}_{col1}_{col2}_key``; index: ``{table}_{cols}_idx``;
      foreign key: ``{table}_{cols}_fkey`` (the referencing table and its columns).

    Truncation: the part before the suffix (``table`` or ``table_col1_col2``, *not*
    only the table name) is cut to ``max_length - len("_" + suffix)`` **bytes** of
    UTF-8 (backing off to a character boundary) when it is at least that long, then
    the suffix is appended; so the result never exceeds ``max_length`` (63 on
    PostgreSQL) bytes and the suffix is always kept whole.  Unlike PostgreSQL's own
    implicit names there is no per-part trimming and no numeric de-duplication.
    Checked against the DDL Prisma 7.10 writes (``tests/data/naming/``): 58- and
    59-byte tables, a cut inside a two-byte character, column lists cut mid-name.

    ``suffix`` may be given with or without its leading underscore (``"pkey"``,
    ``"_key"``, ``"idx"``, ``"fkey"``, ``"df"``).  The implicit many-to-many suffixes
    (``"AB_pkey"``, ``"B_index"``, ``"A_fkey"`` ...) are one suffix each, kept whole:
    see :func:`prisma_m2m_names`.
    """
    suffix = suffix if suffix.startswith("_") else "_" + suffix
    cols = list(columns)
    base = table + ("_" + "_".join(cols) if cols else "")
    limit = max_length - len(suffix.encode("utf-8"))
    raw = base.encode("utf-8")
    if len(raw) >= limit:
        raw = raw[:limit]
        base = raw.decode("utf-8", errors="ignore")  # drops a cut multi-byte character
    return base + suffix


def prisma_default_names(model: Model, schema: Schema | None = None, *, use_map: bool = False) -> dict:
    """The names Prisma Migrate gives ``model``'s table constraints and indexes.

    Returns ``{"pkey": str | None, "unique": {cols: name}, "index": {cols: name},
    "fkey": {cols: name}}`` where ``cols`` is the tuple of *column* names (``@map``
    applied) and every name comes from :func:`prisma_constraint_name` on the table's
    ``@@map`` name.  With ``use_map=True`` an explicit ``map: "..."`` on the
    attribute replaces the default, i.e. the name Prisma would really use.

    Views and composite types have no constraints: all entries are empty/None.
    ``schema`` is accepted for symmetry (and to check relation targets exist) and
    may be omitted.
    """
    out: dict[str, Any] = {"pkey": None, "unique": {}, "index": {}, "fkey": {}}
    if model.kind != "model":
        return out
    table = model.db_name

    def cols(spec: IndexSpec) -> tuple[str, ...]:
        return tuple(model.column(n) if model.has_field(n) else n for n in spec.field_names)

    pk = model.primary_key
    if pk is not None:
        out["pkey"] = (pk.map if use_map and pk.map else None) or prisma_constraint_name(table, (), "pkey")
    for spec in model.unique_constraints:
        c = cols(spec)
        out["unique"][c] = (spec.map if use_map and spec.map else None) or prisma_constraint_name(table, c, "key")
    for spec in model.indexes:
        c = cols(spec)
        out["index"][c] = (spec.map if use_map and spec.map else None) or prisma_constraint_name(table, c, "idx")
    for f in model.relation_fields():
        rel = f.relation
        if rel is None or not rel.fields:
            continue
        if schema is not None and not schema.has_model(f.type):
            continue
        c = tuple(model.column(n) if model.has_field(n) else n for n in rel.fields)
        out["fkey"][c] = (rel.map if use_map and rel.map else None) or prisma_constraint_name(table, c, "fkey")
    return out


# --------------------------------------------------------------------------- implicit many-to-many


def prisma_join_table_name(relation_name: str, max_length: int = POSTGRES_MAX_IDENTIFIER_LENGTH) -> str:
    """The join table of an implicit many-to-many relation: ``_<relation name>``, cut to
    ``max_length`` bytes (Prisma writes the cut name in its DDL)."""
    raw = ("_" + relation_name).encode("utf-8")[:max_length]
    return raw.decode("utf-8", errors="ignore")


def prisma_m2m_names(table: str) -> dict[str, str]:
    """The names Prisma gives the objects of an implicit many-to-many join table.

    ``pkey``: the primary key on ``("A", "B")``, ``_<T>_AB_pkey`` (Prisma 5 and later);
    ``unique``: the unique index on ``("A", "B")`` that Prisma 4 and earlier made instead,
    ``_<T>_AB_unique``; ``index``: the index on ``"B"``, ``_<T>_B_index``; ``A_fkey`` and
    ``B_fkey``: the foreign keys of ``"A"`` and ``"B"``.  Over 63 bytes the table name is
    cut and the suffix kept whole (``_AB_pkey`` is one suffix, not ``_AB`` + ``_pkey``).
    """
    return {k: prisma_constraint_name(table, (), suffix) for k, suffix in
            (("pkey", "AB_pkey"), ("unique", "AB_unique"), ("index", "B_index"), ("A_fkey", "A_fkey"),
             ("B_fkey", "B_fkey"))}


@dataclass(frozen=True)
class ImplicitManyToMany:
    """An implicit many-to-many relation: column ``A`` references ``a``'s id, ``B``
    references ``b``'s (``a`` is the model whose name sorts first)."""

    a: Model
    b: Model
    relation: str
    table: str

    @property
    def schema(self) -> str | None:
        return self.a.schema


def implicit_many_to_many(schema: Schema) -> tuple[ImplicitManyToMany, ...]:
    """Every implicit many-to-many relation of ``schema`` (list fields on both sides, no
    relation model), with its join table name."""
    seen: dict[str, ImplicitManyToMany] = {}
    for m in schema.models:
        for f in m.relation_fields():
            if not f.list or not any(o.name == f.type for o in schema.models):
                continue
            other = schema.model(f.type)
            rname = f.relation.name if f.relation and f.relation.name else None
            back = [g for g in other.relation_fields() if g.type == m.name and g.list and g is not f
                    and (g.relation.name if g.relation else None) == rname]
            if not back:
                continue
            a, b = sorted([m, other], key=lambda x: x.name)
            name = rname or f"{a.name}To{b.name}"
            seen.setdefault(name, ImplicitManyToMany(a, b, name, prisma_join_table_name(name)))
    return tuple(seen.values())
