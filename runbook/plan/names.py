"""The names of a renamed table's dependent objects: constraints, indexes, triggers,
sequences, statistics objects, and the foreign-key clones inside a partition hierarchy.
The names Prisma gives them come from :mod:`runbook.prisma.naming`."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog.inspect import Constraint, Snapshot, Statistics, Table
from ..findings import Note
from ..mapping import Mapping, TableMapping
from ..naming import MAX_IDENTIFIER_BYTES, pg_object_name
from ..ops import Op, RenameConstraint, RenameIndex, RenameSequence, RenameStatistics, RenameTrigger
from ..prisma import Schema as PrismaSchema
from ..prisma import implicit_many_to_many, prisma_constraint_name, prisma_default_names, prisma_m2m_names
from .model import Blocker, TableState


def _default_names(table: str, cols, suffix: str) -> set[str]:
    """The names Prisma or PostgreSQL would have given this object."""
    names = {prisma_constraint_name(table, list(cols) if suffix != "pkey" else [], suffix)}
    if suffix != "pkey":
        names.add(pg_object_name(table, "_".join(cols), suffix))
    else:
        names.add(pg_object_name(table, None, "pkey"))
    return names


#: Prisma's suffix of each kind of object: primary key, unique index, index, foreign key
_SUFFIX = {"pkey": "pkey", "unique": "key", "index": "idx", "fkey": "fkey"}
#: the objects of an implicit many-to-many join table: (kind, columns) -> prisma_m2m_names key
_M2M_KEYS = {("pkey", ("A", "B")): "pkey", ("unique", ("A", "B")): "unique", ("index", ("B",)): "index",
             ("fkey", ("A",)): "A_fkey", ("fkey", ("B",)): "B_fkey"}


@dataclass
class _Names:
    """What the plan does with the names of one table's dependent objects."""

    ops: list = field(default_factory=list)
    blockers: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _is_join_table(table: Table, *names: str) -> bool:
    """An implicit many-to-many join table of Prisma: ``_<Relation>`` with columns A and B."""
    return all(n.startswith("_") for n in names) and {c.name for c in table.columns} == {"A", "B"}


def _target_of(target: PrismaSchema | None, schema: str, table: str):
    """The target schema's model mapped to ``table`` and its names (``map:`` applied), and
    the implicit many-to-many relation whose join table ``table`` is (either None)."""
    if target is None:
        return None, None, None
    model = next((m for m in target.models if m.db_name == table and m.schema in (None, schema)
                  and not m.is_ignored), None)
    names = prisma_default_names(model, target, use_map=True) if model else None
    join = next((j for j in implicit_many_to_many(target) if j.table == table and j.schema in (None, schema)), None)
    return model, names, join


class _DependentNames:
    """Rename one table's constraints, indexes, triggers, sequences and statistics objects
    to the names Prisma (or PostgreSQL) gives them on the new table.

    The name each object should have: with a target schema that maps the table, the name
    Prisma would use there (its ``map:``, or its default); for an implicit many-to-many
    join table ``_<T>_AB_pkey``, ``_<T>_B_index``, ``_<T>_A_fkey``, ``_<T>_B_fkey``;
    otherwise Prisma's default for the new table, and only for objects whose name is
    the default for the old one. Every other name is kept and listed in the notes;
    names that start with the old table's name are renamed by prefix with the mapping's
    ``rename_prefixed``. Each kind of object has its own method; :meth:`plan` runs them
    in order (the order of the operations is part of the plan's fingerprint).
    """

    def __init__(self, snap: Snapshot, mapping: Mapping, tm: TableMapping, cur: Table, newcol, taken: set[str],
                 target: PrismaSchema | None):
        self.snap, self.mapping, self.cur, self.newcol, self.taken = snap, mapping, cur, newcol, taken
        self.S, self.old_t, self.new_t = mapping.schema, tm.old, tm.new
        self.out = _Names()
        _, self.want, self.join_rel = _target_of(target, self.S, self.new_t)
        self.join = _is_join_table(cur, self.old_t, self.new_t)
        self.m2m_new, self.m2m_old = ((prisma_m2m_names(self.new_t), prisma_m2m_names(self.old_t)) if self.join
                                      else (None, None))
        self.constraints = snap.constraints_of(cur.oid)
        self.con_names = {c.name for c in self.constraints}  # constraint names of this table, as the plan leaves them
        self.claimed: set[str] = set()  # names given (or kept) by the target schema on this table
        self.renamed_idx: set[int] = set()
        self.kept: list[tuple[str, str, object]] = []  # (what, name, object): keeps its name

    def plan(self) -> _Names:
        self.join_blockers()
        self.plan_constraints()
        self.plan_indexes()
        self.plan_triggers()
        self.plan_sequences()
        self.plan_kept()
        return self.out

    # -- the rules ----------------------------------------------------------------------
    def expected(self, kind: str, cols: tuple[str, ...], old_cols: tuple[str, ...]) -> tuple[str, bool, set[str]]:
        """(the name the object should get, whether the target schema says so, the
        default names of the old table that make an object "named by default")."""
        key = _M2M_KEYS.get((kind, cols)) if self.join else None
        olds = _default_names(self.old_t, old_cols, _SUFFIX[kind])
        if key:
            return self.m2m_new[key], self.join_rel is not None, olds | {self.m2m_old[key]}
        if self.want is not None:
            name = self.want["pkey"] if kind == "pkey" else self.want[kind].get(cols)
            if name:
                return name, True, olds
        return prisma_constraint_name(self.new_t, cols if kind != "pkey" else (), _SUFFIX[kind]), False, olds

    def rename_ok(self, what: str, old: str, new: str, relation: bool, constraint: bool, schema: str | None = None) -> bool:
        """Is ``new`` free (as a relation name of the schema, as a constraint name of the
        table)? If so it is taken now; if not, a conflict is recorded."""
        schema = schema or self.S
        if relation and f"{schema}.{new}" in self.taken:
            self.out.blockers.append(Blocker("conflict", f"{schema}.{new}", f"{what} name {new!r} is taken", code="RB106"))
            return False
        if constraint and new in self.con_names:
            self.out.blockers.append(Blocker("conflict", f"{self.new_t}.{new}",
                                             f"constraint name {new!r} is taken on {self.new_t!r} ({what} {old!r})",
                                             code="RB106"))
            return False
        if relation:
            self.taken.add(f"{schema}.{new}")
        if constraint:
            self.con_names.discard(old)
            self.con_names.add(new)
        return True

    def decide(self, what: str, name: str, kind: str, obj, make) -> None:
        """Rename ``obj`` with ``make(new)`` to the name it should have, or keep it."""
        cols = tuple(self.newcol(c) for c in obj.columns)
        new, from_target, olds = self.expected(kind, cols, tuple(obj.columns))
        if from_target and new in self.claimed and new != name:
            self.kept.append((what, name, obj))  # two objects for one entry of the schema
            return
        if name == new:
            if from_target:
                self.claimed.add(new)
                if (new != prisma_constraint_name(self.new_t, cols if kind != "pkey" else (), _SUFFIX[kind])
                        and not self.join):
                    self.out.notes.append(Note(f"{what} {name!r} on {self.new_t!r} keeps its custom name, "
                                               "as the target schema maps it", "RB205"))
            return
        if from_target or name in olds:
            if from_target:
                self.claimed.add(new)
            make(new)  # or a blocker: the name is taken
            return
        self.kept.append((what, name, obj))

    # -- each kind of object ------------------------------------------------------------
    def join_blockers(self) -> None:
        """An implicit many-to-many join table: A references the model whose name sorts
        first, and renamed models could swap them."""
        if self.join_rel is None:
            return
        for side, mdl in (("A", self.join_rel.a), ("B", self.join_rel.b)):
            fk = next((c for c in self.constraints if c.type == "f" and c.columns == (side,)), None)
            ref = self.snap.table_by_oid(fk.ref_table_oid) if fk else None
            if ref is not None and self.mapping.final_name(ref.name) != mdl.db_name:
                self.out.blockers.append(Blocker(
                    "conflict", f"{self.S}.{self.new_t}",
                    f'column "{side}" references {ref.name!r}, but in the target schema '
                    f'"{side}" of relation {self.join_rel.relation!r} is {mdl.name} ({mdl.db_name!r}): '
                    f"Prisma would read the join rows backwards", code="RB113"))

    def _by_column_name(self, con, label: str, relation: bool) -> None:
        """A NOT NULL, CHECK or EXCLUDE constraint: renamed when PostgreSQL named it
        after the old table and its first column."""
        cols = con.columns
        if cols and con.name == pg_object_name(self.old_t, cols[0], label):
            new = pg_object_name(self.new_t, self.newcol(cols[0]), label)
            if self.rename_ok("constraint", con.name, new, relation, True):
                self.out.ops.append(RenameConstraint(self.S, self.new_t, con.name, new))
        elif con.name.startswith(f"{self.old_t}_"):
            self.kept.append(("constraint", con.name, con))

    def plan_constraints(self) -> None:
        for con in self.constraints:
            if con.type == "f" and con.parent_oid:
                continue  # a partition's clone of its parent's foreign key: partition_names
            if con.type == "n":
                self._by_column_name(con, "not_null", False)
                continue
            if con.type in ("c", "x"):
                self._by_column_name(con, "check" if con.type == "c" else "excl", con.type == "x")
                continue
            kind = {"p": "pkey", "u": "unique", "f": "fkey"}.get(con.type)
            if kind is None:
                if con.name.startswith(f"{self.old_t}_"):
                    self.kept.append(("constraint", con.name, con))
                continue
            backed = con.type in ("p", "u")  # the constraint's index carries its name

            def make(new, con=con, backed=backed):
                if not self.rename_ok("constraint", con.name, new, backed, True):
                    return False
                self.out.ops.append(RenameConstraint(self.S, self.new_t, con.name, new))
                if backed and con.index_oid:
                    self.renamed_idx.add(con.index_oid)
                return True

            self.decide("constraint", con.name, kind, con, make)

    def plan_indexes(self) -> None:
        for idx in self.snap.indexes_of(self.cur.oid):
            if idx.oid in self.renamed_idx or idx.backs_constraint:
                continue
            if "(expr)" in idx.columns:
                self.kept.append(("expression index", idx.name, idx))
                continue
            kind = "unique" if idx.is_unique else "index"
            cols = tuple(self.newcol(c) for c in idx.columns)

            def make(new, idx=idx):
                if not self.rename_ok("index", idx.name, new, True, False):
                    return False
                self.out.ops.append(RenameIndex(self.S, self.new_t, idx.name, new))
                return True

            if " WHERE " in idx.definition and self.want is not None and not self.join:
                # a partial index is not what an @@index of the target schema describes
                new = prisma_constraint_name(self.new_t, cols, _SUFFIX[kind])
                if idx.name in _default_names(self.old_t, idx.columns, _SUFFIX[kind]) and idx.name != new:
                    make(new)
                elif idx.name != new:
                    self.kept.append(("index", idx.name, idx))
                continue
            self.decide("index", idx.name, kind, idx, make)

    def plan_triggers(self) -> None:
        for trg in self.snap.triggers_on(self.cur.oid):
            # not Prisma's, but a trigger named after its table should not keep the old name
            if trg.name.startswith(f"{self.old_t}_"):
                new = self.new_t + trg.name[len(self.old_t):]
                if len(new.encode()) <= 63 and not any(t.name == new for t in self.snap.triggers_on(self.cur.oid)):
                    self.out.ops.append(RenameTrigger(self.S, self.new_t, trg.name, new))

    def plan_sequences(self) -> None:
        for seq in self.snap.sequences_of(self.cur.oid):
            if seq.column and seq.name == pg_object_name(self.old_t, seq.column, "seq"):
                new = pg_object_name(self.new_t, self.newcol(seq.column), "seq")
                if f"{seq.schema}.{new}" in self.taken:
                    self.out.blockers.append(Blocker("conflict", f"{seq.schema}.{new}", f"sequence name {new!r} is taken",
                                                      code="RB106"))
                    continue
                self.out.ops.append(RenameSequence(seq.schema, self.new_t, seq.name, new))
                self.taken.add(f"{seq.schema}.{new}")

    def plan_kept(self) -> None:
        """Names kept: listed; those that start with the old table's name renamed by prefix
        (statistics objects are always here: Prisma does not name them)."""
        old_t, new_t, out = self.old_t, self.new_t, self.out
        stats_taken = {(st.schema, st.name) for st in self.snap.statistics}
        for st in self.snap.statistics_on(self.cur.oid):
            if st.name.startswith(f"{old_t}_"):
                self.kept.append(("statistics object", st.name, st))
        for what, name, obj in self.kept:
            if not name.startswith(f"{old_t}_"):
                out.notes.append(Note(f"{what} {name!r} on {new_t!r} keeps its custom name", "RB204"))
                continue
            new = new_t + name[len(old_t):]
            if len(new.encode()) > MAX_IDENTIFIER_BYTES:
                out.notes.append(Note(f"{what} {name!r} on {new_t!r} keeps the old table's name as its prefix "
                                      f"({new!r} would be {len(new.encode())} bytes)", "RB207"))
                continue
            if not self.mapping.rename_prefixed:
                out.notes.append(Note(f"{what} {name!r} on {new_t!r} keeps the old table's name as its prefix; "
                                      f"rename_prefixed = true in the mapping renames it to {new!r}", "RB206"))
                continue
            if isinstance(obj, Statistics):
                if (obj.schema, new) in stats_taken:
                    out.blockers.append(Blocker("conflict", f"{obj.schema}.{new}", f"statistics name {new!r} is taken",
                                                 code="RB106"))
                    continue
                stats_taken.add((obj.schema, new))
                out.ops.append(RenameStatistics(obj.schema, new_t, name, new))
            elif isinstance(obj, Constraint):
                backed = obj.type in ("p", "u", "x")
                if self.rename_ok("constraint", name, new, backed, True):
                    out.ops.append(RenameConstraint(self.S, new_t, name, new))
            elif self.rename_ok("index", name, new, True, False):
                out.ops.append(RenameIndex(self.S, new_t, name, new))


def dependent_names(snap: Snapshot, mapping: Mapping, tm: TableMapping, cur: Table, newcol, taken: set[str],
                    target: PrismaSchema | None) -> _Names:
    """The renames of ``cur``'s dependent objects (see :class:`_DependentNames`); ``taken``
    (the schema's relation names) gains the names given."""
    return _DependentNames(snap, mapping, tm, cur, newcol, taken, target).plan()


def partition_names(snap: Snapshot, mapping: Mapping, states: list[TableState], ops_names: list[Op],
                     notes: list[str]) -> list[Op]:
    """Names inside a partition hierarchy of a renamed table.

    - A foreign key of a partitioned table is cloned onto each partition under the same
      name, and a foreign key referencing a partitioned table gets one clone per
      partition on the referencing table (``..._fkey1``, PostgreSQL 18 ``..._fkey_1``);
      ``RENAME CONSTRAINT`` renames only the parent's, so the clones are renamed here.
      (CHECK and NOT NULL constraints are inherited by name: their rename recurses;
      indexes of partitions are named after the partition, not the parent.)
    - Partitions and inheritance children are tables of their own and keep their names
      unless the mapping names them: noted, so that a reviewer sees ``"Event_2024"``.
    """
    final = {st.oid: st.new for st in states if st.state in ("todo", "done") and st.oid}
    by_table = {st.new: st.oid for st in states if st.oid in final}
    clones: dict[int, list] = {}
    for c in snap.constraints:
        if c.parent_oid:
            clones.setdefault(c.parent_oid, []).append(c)
    out: list[Op] = []
    for op in ops_names:
        if not isinstance(op, RenameConstraint) or op.table_name not in by_table:
            continue
        con = next((c for c in snap.constraints_of(by_table[op.table_name]) if c.name == op.old and c.type == "f"), None)
        todo = list(clones.get(con.oid, ())) if con else []
        while todo:
            clone = todo.pop(0)
            todo.extend(clones.get(clone.oid, ()))
            rest = clone.name[len(op.old):] if clone.name.startswith(op.old) else None
            table = snap.table_by_oid(clone.table_oid)
            if table is None or rest is None or not (rest == "" or rest.lstrip("_").isdigit()):
                continue
            new = op.new + rest
            if len(new.encode()) > 63 or any(x.name == new for x in snap.constraints_of(clone.table_oid)):
                notes.append(Note(f"foreign key {clone.name!r} on {table.name!r} (a clone of {op.old!r}) keeps its "
                                  f"name: {new!r} is too long or taken", "RB208"))
                continue
            out.append(RenameConstraint(table.schema, final.get(table.oid, table.name), clone.name, new))
    for st in states:
        if st.state != "todo":
            continue
        for d in snap.descendants(st.oid):
            if d.oid in final:
                continue
            what = "partition" if d.is_partition else "inheritance child"
            prefix = " (it starts with the old name)" if d.name.startswith(st.old) else ""
            notes.append(Note(f"{what} {d.name!r} of {st.old!r} keeps its name{prefix}: name it in the mapping "
                              f"([[tables]] from = {d.name!r}) to rename it", "RB209"))
    return out
