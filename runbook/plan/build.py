"""Snapshot + mapping -> one ordered list of operations.

The plan is computed from what the catalog holds *now*, so it covers only what is left:
on a migrated database it is empty, on a half-migrated one (a table renamed by hand) it
holds the remaining steps. The migration script, the rollback script, the dry run, the
runner and the verification all come from this one plan.

:func:`build_plan` runs one small planner per concern for each mapped table (its state
and rename, its columns, its dependent names, its added columns, its defaults), then the
partition names and the function bodies, and orders the operations by phase.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..catalog.inspect import Snapshot, Table
from ..mapping import Mapping, TableMapping
from ..naming import qq
from ..ops import (AddColumn, AddForeignKey, AddNotNullCheck, CreateEnum, FillNulls, Op, RenameColumn, RenameTable,
                   SetDefault, SetNotNull, ValidateConstraint)
from ..prisma import prisma_constraint_name
from .functions import function_ops
from .lock_order import _children_first, _lock_through_parents
from .model import Blocker, Plan, TableState, raise_for_blockers
from .names import dependent_names, partition_names
from .views import compat_view_ops, keep_filling


@dataclass
class _Builder:
    """The operations of a plan as they are found, by the group they run in."""

    snap: Snapshot
    mapping: Mapping
    taken: set[str]  # relation names of the schema, with the names the plan gives
    target: object  # the service's Prisma schema (its map: names win), or None
    enums: list[Op] = field(default_factory=list)
    prep: list[Op] = field(default_factory=list)
    renames: list[Op] = field(default_factory=list)
    staged: list[Op] = field(default_factory=list)  # the compat views made online, before the window
    views: list[Op] = field(default_factory=list)
    columns: list[Op] = field(default_factory=list)
    names: list[Op] = field(default_factory=list)
    added: list[Op] = field(default_factory=list)
    not_null: list[Op] = field(default_factory=list)
    fks: list[Op] = field(default_factory=list)
    functions: list[Op] = field(default_factory=list)
    finish: list[Op] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    states: list[TableState] = field(default_factory=list)
    lock_tables: list[str] = field(default_factory=list)
    created_enums: set[str] = field(default_factory=set)

    @property
    def S(self) -> str:
        return self.mapping.schema

    def ops(self) -> list[Op]:
        return (self.prep + self.staged + self.enums + self.renames + self.views + self.columns + self.names + self.added
                + self.not_null + self.fks + self.functions + self.finish)

    # -- one table ----------------------------------------------------------------------
    def table(self, tm: TableMapping) -> None:
        cur = self.table_state(tm)
        if cur is None:
            return
        colmap = self.plan_columns(tm, cur)
        newcol = lambda c: colmap.get(c, tm.new_column_name(c))  # noqa: E731
        # dependent names: also for a table renamed by hand (its dependent names may still be old)
        dn = dependent_names(self.snap, self.mapping, tm, cur, newcol, self.taken, self.target)
        self.names += dn.ops
        self.blockers += dn.blockers
        self.notes += dn.notes
        self.plan_added_columns(tm, cur)
        self.plan_defaults(tm, cur, newcol)

    def table_state(self, tm: TableMapping) -> Table | None:
        """The table's state (todo, done, conflict, missing) and its rename; the table as
        it is now, or None when nothing more can be planned for it."""
        S, snap = self.S, self.snap
        src, dst = snap.table(S, tm.old), snap.table(S, tm.new)
        if src and dst:
            self.states.append(TableState(tm.old, tm.new, "conflict", src.oid,
                                          f"target {tm.new!r} already exists ({dst.row_estimate} rows estimated)"))
            self.blockers.append(Blocker("conflict", f"{S}.{tm.new}",
                                         f"target table {tm.new!r} already exists beside {tm.old!r}", code="RB103"))
            return None
        if not src and not dst:
            self.states.append(TableState(tm.old, tm.new, "missing", None, "neither name exists"))
            self.blockers.append(Blocker("missing", f"{S}.{tm.old}", f"table {tm.old!r} does not exist (nor {tm.new!r})", code="RB105"))
            return None
        if src and f"{S}.{tm.new}" in self.taken:
            self.blockers.append(Blocker("conflict", f"{S}.{tm.new}",
                                         f"name {tm.new!r} is taken by a "
                                         f"{snap.relation_names().get(f'{S}.{tm.new}', 'name the plan gives another object')}",
                                         code="RB104"))
            self.states.append(TableState(tm.old, tm.new, "conflict", src.oid, f"{tm.new!r} is taken"))
            return None
        cur: Table = src or dst
        self.states.append(TableState(tm.old, tm.new, "todo" if src else "done", cur.oid))
        self.blockers.extend(_hierarchy_blockers(snap, tm, cur))
        self.lock_tables.append(qq(S, cur.name))
        if src:
            self.renames.append(RenameTable(S, tm.old, tm.new))
            self.taken.add(f"{S}.{tm.new}")
        return cur

    def plan_columns(self, tm: TableMapping, cur: Table) -> dict[str, str]:
        """Column renames and NOT NULLs (filled first where the mapping says so); the
        columns renamed, old -> new."""
        S = self.S
        colmap: dict[str, str] = {}
        for rc in tm.rename_columns:
            have_old, have_new = cur.column(rc.old), cur.column(rc.new)
            if have_old and have_new:
                self.blockers.append(Blocker("conflict", f"{tm.new}.{rc.new}",
                                             f"column {rc.new!r} already exists beside {rc.old!r}", code="RB107"))
                continue
            if not have_old and not have_new:
                self.blockers.append(Blocker("missing", f"{tm.old}.{rc.old}",
                                             f"column {rc.old!r} does not exist (nor {rc.new!r})", code="RB108"))
                continue
            col = have_old or have_new
            if have_old:
                self.columns.append(RenameColumn(S, tm.new, rc.old, rc.new))
                colmap[rc.old] = rc.new
            if not (rc.not_null and not col.not_null):
                continue
            check_name = prisma_constraint_name(tm.new, [rc.new], "not_null_check")
            fill = None
            if rc.fill_nulls is not None:
                fill = self.fill_nulls(tm, cur, rc, col.name)
                if fill is None:
                    continue
                self.prep.append(fill)
            self.prep.append(AddNotNullCheck(S, cur.name, col.name, check_name))
            self.not_null.append(SetNotNull(S, tm.new, rc.new, check_name, fill))
        return colmap

    def fill_nulls(self, tm: TableMapping, cur: Table, rc, column: str) -> FillNulls | None:
        """The online fill of a column's NULLs, by its single-column primary key (or a blocker)."""
        pk = [c for c in self.snap.constraints_of(cur.oid) if c.type == "p"]
        if not pk or len(pk[0].columns) != 1:
            self.blockers.append(Blocker("unsupported", f"{cur.name}.{column}",
                                         "filling NULLs needs a single-column primary key", code="RB111"))
            return None
        tag = hashlib.sha1(f"{self.S}.{tm.old}.{rc.old}".encode()).hexdigest()[:10]
        pk_col = cur.column(pk[0].columns[0])
        return FillNulls(self.S, cur.name, column, pk_col.name, rc.fill_nulls, tag, pk_col.type)

    def plan_added_columns(self, tm: TableMapping, cur: Table) -> None:
        for ac in tm.add_columns:
            if ac.enum:
                self.plan_enum(ac)
            existing = cur.column(ac.name)
            if existing:
                got = existing.type_name if ac.enum else existing.type
                if got != ac.type:
                    self.blockers.append(Blocker("conflict", f"{cur.name}.{ac.name}",
                                                 f"column {ac.name!r} exists with type {existing.type}, "
                                                 f"the mapping wants {ac.type}", code="RB107"))
            else:
                type_sql = qq(self.S, ac.type) if ac.enum else ac.type
                self.added.append(AddColumn(self.S, tm.new, ac.name, type_sql, ac.not_null, ac.default_sql()))
            if ac.references:
                self.plan_foreign_key(tm, cur, ac)

    def plan_enum(self, ac) -> None:
        """The enum type an added column needs: created once, or checked against the mapping."""
        S, snap = self.S, self.snap
        e = snap.enum(S, ac.type)
        spec = self.mapping.enum(ac.type)
        row_type = snap.relation_names().get(f"{S}.{ac.type}") in ("table", "view")
        if e is None and row_type:  # a table's row type is a type of the same name
            self.blockers.append(Blocker("conflict", f"{S}.{ac.type}", f"enum name {ac.type!r} is taken by a table",
                                         code="RB109"))
        elif e is None and ac.type not in self.created_enums:
            self.enums.append(CreateEnum(S, ac.type, spec.values))
            self.created_enums.add(ac.type)
        elif e is not None and tuple(e.labels) != tuple(spec.values):
            self.blockers.append(Blocker("conflict", f"{S}.{ac.type}",
                                         f"enum {ac.type!r} exists with values {list(e.labels)}, "
                                         f"the mapping wants {list(spec.values)}", code="RB109"))

    def plan_foreign_key(self, tm: TableMapping, cur: Table, ac) -> None:
        """An added column's foreign key: added NOT VALID in the lock phase, validated after."""
        S, snap = self.S, self.snap
        ref_final = self.mapping.final_name(ac.references.table)
        ref_now = snap.table(S, ac.references.table) or snap.table(S, ref_final)
        if ref_now is None:
            self.blockers.append(Blocker("missing", ac.references.table,
                                         f"{ac.name!r} references a table that does not exist", code="RB110"))
            return
        fk_name = prisma_constraint_name(tm.new, [ac.name], "fkey")
        existing = next((c for c in snap.constraints_of(cur.oid) if c.name == fk_name), None)
        if existing is None:
            self.fks.append(AddForeignKey(S, tm.new, fk_name, (ac.name,), ref_final, (ac.references.column,),
                                          ac.references.on_delete, ac.references.on_update))
            self.finish.append(ValidateConstraint(S, tm.new, fk_name))
            ref_q = qq(S, ref_now.name)
            if ref_q not in self.lock_tables:
                self.lock_tables.append(ref_q)
        elif not existing.validated:
            self.finish.append(ValidateConstraint(S, tm.new, fk_name))

    def plan_defaults(self, tm: TableMapping, cur: Table, newcol) -> None:
        for sd in tm.set_defaults:
            col = cur.column(sd.column) or cur.column(newcol(sd.column))
            if col is None:
                self.blockers.append(Blocker("missing", f"{cur.name}.{sd.column}", f"column {sd.column!r} does not exist",
                                         code="RB108"))
                continue
            want = sd.default_sql()
            if col.default is None or (want and _norm_default(col.default) != _norm_default(want)):
                self.added.append(SetDefault(self.S, tm.new, newcol(col.name), want, col.default))


def build_plan(snap: Snapshot, mapping: Mapping, *, strict: bool = True) -> Plan:
    """Compute the plan. With ``strict``, conflicts raise :class:`ConflictError` (bad
    input, exit 2); otherwise they are returned as blockers (for the analysis)."""
    b = _Builder(snap, mapping, set(snap.relation_names()), mapping.service.load_schema())
    for tm in mapping.tables:
        b.table(tm)
    b.names += partition_names(snap, mapping, b.states, b.names, b.notes)
    if mapping.compat_views:
        b.staged, b.views, view_blockers = compat_view_ops(snap, mapping, b.states)
        b.blockers += view_blockers
        b.not_null = keep_filling(b.not_null, b.views, b.columns)
    renamed = {t.old: t.new for t, st in zip(mapping.tables, b.states) if st.state in ("todo", "done")}
    fn_ops, fn_blockers = function_ops(snap, mapping.schema, renamed, b.columns)
    b.functions += fn_ops
    b.blockers += fn_blockers
    lock_tables = _children_first(snap, mapping.schema, _lock_through_parents(snap, b.lock_tables))
    plan = Plan(mapping.schema, tuple(b.ops()), tuple(b.states), tuple(b.blockers), tuple(b.notes),
                tuple(lock_tables), mapping.audit_table)
    if strict and b.blockers:
        raise_for_blockers(plan)
    return plan


def _hierarchy_blockers(snap: Snapshot, tm: TableMapping, cur: Table) -> list[Blocker]:
    """Column changes PostgreSQL refuses on a partition or an inherited column: they are
    made on the partitioned (parent) table, which passes them on."""
    out = []
    parents = [snap.table_by_oid(o) for o in cur.parents]
    inherited = {c.name for p_ in parents if p_ for c in p_.columns}
    what = "partition" if cur.is_partition else "inheritance child"
    for rc in tm.rename_columns:
        if rc.old in inherited or rc.new in inherited:
            out.append(Blocker("unsupported", f"{cur.name}.{rc.old}",
                               f"column {rc.old!r} of {what} {cur.name!r} is inherited: rename it on "
                               f"{parents[0].name!r}, which renames it in every {what}", code="RB112"))
    if cur.is_partition and tm.add_columns:
        out.append(Blocker("unsupported", cur.name, f"columns cannot be added to partition {cur.name!r}: add them "
                                                    f"to the partitioned table {parents[0].name!r}", code="RB112"))
    return out


def _norm_default(expr: str) -> str:
    e = expr.strip().lower()
    return {"current_timestamp": "now()", "now()": "now()"}.get(e, e)
