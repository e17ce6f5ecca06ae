"""Snapshot + mapping -> one ordered list of operations.

The plan is computed from what the catalog holds *now*, so it covers only what is left:
on a migrated database it is empty, on a half-migrated one (a table renamed by hand) it
holds the remaining steps. The migration script, the rollback script, the dry run, the
runner and the verification all come from this one plan.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ._version import __version__
from .catalog.inspect import Constraint, Snapshot, Statistics, Table
from .errors import ConflictError, UnsafeFunction, WrongState
from .mapping import Mapping, TableMapping
from .naming import MAX_IDENTIFIER_BYTES, literal, pg_object_name, q, qq
from .ops import (FINISH, LOCK, PREPARE, AddColumn, AddForeignKey, AddNotNullCheck, CreateEnum, FillNulls, Op,
                  RenameColumn, RenameConstraint, RenameIndex, RenameSequence, RenameStatistics, RenameTable, RenameTrigger,
                  ReplaceFunction, SetDefault, SetNotNull, ValidateConstraint, dollar_quote, op_from_dict)
from .prisma import Schema as PrismaSchema
from .prisma import implicit_many_to_many, prisma_constraint_name, prisma_default_names, prisma_m2m_names
from .rewrite import UnsafeRewrite, names_any, rewrite_definition

MIGRATION_FILE = "rename-tables-to-snake-case.sql"
ROLLBACK_FILE = "rollback-table-rename.sql"


def comment(text: str) -> str:
    """A ``-- ...`` line of a script: whatever ``text`` holds, it stays one line.

    A comment ends at a newline or carriage return (the lexer's ``non_newline``), and
    what follows it would run: ``describe()`` texts hold names and labels from the
    mapping and the catalog, so control and line-separator characters are written as
    escapes (``\\n``, ``\\u2028``), and a backslash as two."""
    out = []
    for c in text:
        if c == "\\":
            out.append("\\\\")
        elif unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp"):
            out.append(c.encode("unicode_escape").decode("ascii"))
        else:
            out.append(c)
    return "-- " + "".join(out)


@dataclass(frozen=True)
class Blocker:
    """Something that stops ``migrate`` before anything changes."""

    kind: str
    object: str
    reason: str
    exit_code: int = 2


@dataclass(frozen=True)
class TableState:
    old: str
    new: str
    state: str  # todo | done | conflict | missing
    oid: int | None
    detail: str = ""


@dataclass(frozen=True)
class Plan:
    schema: str
    ops: tuple[Op, ...]
    tables: tuple[TableState, ...]
    blockers: tuple[Blocker, ...] = ()
    notes: tuple[str, ...] = ()
    lock_tables: tuple[str, ...] = ()  # qualified, quoted: the tables the lock phase locks (old names)
    audit_table: str | None = None

    # -- shape ------------------------------------------------------------------------
    def phase(self, name: str) -> list[Op]:
        return [o for o in self.ops if o.phase == name]

    @property
    def empty(self) -> bool:
        return not self.ops

    def reverse(self, drop_added: bool = False) -> "Plan":
        """The rollback: reversed list of reversed operations (alembic's habit).

        Dropping added columns and types loses what was written into them: only with
        ``drop_added``.
        """
        rev = []
        for op in reversed(self.ops):
            r = op.reverse()
            if r is None or (r.drops_data and not drop_added):
                continue
            rev.append(r)
        # The rollback is one transaction: every step runs in the lock phase.
        locks = tuple(qq(self.schema, t.new) for t in self.tables if t.state in ("todo", "done"))
        return Plan(self.schema, tuple(rev), self.tables, (), (), locks, self.audit_table)

    # -- SQL ----------------------------------------------------------------------------
    def sql_body(self, lock_timeout: str = "5s", statement_timeout: str = "60s", final_checks: bool = True) -> str:
        parts = []
        prep, lock, fin = self.phase(PREPARE), self.phase(LOCK), self.phase(FINISH)
        if prep:
            parts.append("-- Phase 1: prepare, online (no exclusive lock held while data is scanned)")
            for op in prep:
                parts.append(comment(op.describe()))
                parts.extend(s + ";" for s in op.statements())
            parts.append("")
        if lock:
            parts.append("-- Phase 2: one transaction; catalog changes only while the exclusive locks are held")
            parts.append("BEGIN;")
            parts.append(f"SET LOCAL lock_timeout = {literal(lock_timeout)};")
            parts.append(f"SET LOCAL statement_timeout = {literal(statement_timeout)};")
            parts.append("SET LOCAL check_function_bodies = off;")
            if self.lock_tables:
                parts.append(f"LOCK TABLE {', '.join(self.lock_tables)} IN ACCESS EXCLUSIVE MODE;")
            for op in lock:
                parts.append(comment(op.describe()))
                parts.extend(s + ";" for s in op.statements())
            # (a rollback renames tables last, so its steps' checks hold only step by step;
            # the runner checks each step as it goes, the script checks the forward plan's end)
            checks = [op.check() for op in lock] if final_checks else []
            if checks:
                parts.append("-- every step took effect, or nothing commits")
                parts.append("DO " + dollar_quote(" BEGIN IF NOT (" + "\n  AND ".join(checks) +
                             ") THEN RAISE EXCEPTION 'runbook: verification failed'; END IF; END ", "verify") + ";")
            parts.append("COMMIT;")
            parts.append("")
        if fin:
            parts.append("-- Phase 3: finish, online")
            for op in fin:
                parts.append(comment(op.describe()))
                parts.extend(s + ";" for s in op.statements())
        return "\n".join(parts).rstrip() + "\n"

    @property
    def fingerprint(self) -> str:
        """sha256 of the plan's SQL: what was reviewed is what runs."""
        return hashlib.sha256(self.sql_body().encode()).hexdigest()

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint[:12]

    def render(self, title: str, fingerprint: str | None = None, final_checks: bool = True) -> str:
        fp = fingerprint or self.fingerprint
        header = (
            f"{comment(title)}\n"
            f"-- Generated by runbook {__version__}; do not edit by hand: run `runbook plan`.\n"
            f"-- Plan fingerprint: sha256:{fp}\n"
            f"{comment(f'Schema: {self.schema}; {len(self.ops)} operations.')}\n"
            "-- Phases 1 and 3 run outside a transaction block (the fill loop commits per batch),\n"
            "-- so run this file with psql, not inside BEGIN ... COMMIT.\n\n"
        )
        return header + (self.sql_body(final_checks=final_checks) if self.ops else "-- Nothing to do: the database is already in the target state.\n")

    def write_scripts(self, folder: str | Path = "sql", drop_added: bool = False) -> tuple[Path, Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        fwd = folder / MIGRATION_FILE
        back = folder / ROLLBACK_FILE
        fwd.write_text(self.render("Migration: rename tables to snake_case (spec 2.2)"))
        back.write_text(self.reverse(drop_added).render(
            "Rollback (spec 2.3) of the migration plan whose fingerprint follows, derived from it by reversing every step",
            fingerprint=self.fingerprint, final_checks=False))
        return fwd, back

    def as_rows(self) -> list[dict]:
        return [
            {"step": i + 1, "phase": op.phase, "kind": op.kind, "table": op.table or "", "description": op.describe(),
             "sql": ";\n".join(op.statements()) + ";"}
            for i, op in enumerate(self.ops)
        ]

    # -- a plan that ran, read back from runbook.runs -------------------------------------
    @classmethod
    def from_ops(cls, snap: Snapshot, mapping: Mapping, ops: tuple[Op, ...],
                 lock_tables: tuple[str, ...] = ()) -> Plan:
        """A recorded run's operations, with the mapping's tables as they are now (for its
        reverse and its verification)."""
        states = []
        for t in mapping.tables:
            now = snap.table(mapping.schema, t.new) or snap.table(mapping.schema, t.old)
            states.append(TableState(t.old, t.new, "done" if snap.table(mapping.schema, t.new) else "todo",
                                     now.oid if now else None))
        return cls(mapping.schema, ops, tuple(states), (), (), tuple(lock_tables), mapping.audit_table)

    @classmethod
    def from_stored(cls, snap: Snapshot, mapping: Mapping, run: dict) -> Plan:
        """The plan a recorded run (a row of ``runbook.runs``, as :func:`runbook.state.last_run`
        reads it) ran, refused unless it still has the fingerprint recorded with it (a plan
        edited in ``runbook.runs`` is not run again)."""
        try:
            ops = tuple(op_from_dict(d) for d in run["plan"])
            lock_tables = run.get("lock_tables")
            if lock_tables is not None and not all(isinstance(t, str) for t in lock_tables):
                raise TypeError("lock_tables")
            plan = cls.from_ops(snap, mapping, ops, lock_tables=tuple(lock_tables or ()))
            fingerprint = plan.fingerprint
        except Exception as exc:
            raise WrongState(f"the plan recorded for migration {run['id']} cannot be read ({type(exc).__name__}); "
                             "it is not run; nothing was changed") from None
        if run.get("lock_tables") is None:
            raise WrongState(f"migration {run['id']} was recorded by an older runbook, without what its fingerprint "
                             "covers: its stored plan cannot be checked, so it is not run; nothing was changed "
                             "(sql/rollback-table-rename.sql, reviewed, undoes it)")
        if fingerprint != run["fingerprint"]:
            raise WrongState(f"the plan recorded for migration {run['id']} does not match its fingerprint "
                             f"(recorded {str(run['fingerprint'])[:12]}, its operations give {fingerprint[:12]}): it "
                             "was changed after it ran and is not trusted; nothing was changed")
        return plan


# ----------------------------------------------------------------------------------------

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


def _dependent_names(snap: Snapshot, mapping: Mapping, tm: TableMapping, cur: Table, newcol, taken: set[str],
                     target: PrismaSchema | None) -> _Names:
    """Rename the table's constraints, indexes, triggers, sequences and statistics objects
    to the names Prisma (or PostgreSQL) gives them on the new table.

    The name each object should have: with a target schema that maps the table, the name
    Prisma would use there (its ``map:``, or its default); for an implicit many-to-many
    join table ``_<T>_AB_pkey``, ``_<T>_B_index``, ``_<T>_A_fkey``, ``_<T>_B_fkey``;
    otherwise Prisma's default for the new table, and only for objects whose name is
    the default for the old one. Every other name is kept and listed in the notes;
    names that start with the old table's name are renamed by prefix with the mapping's
    ``rename_prefixed``.
    """
    S, old_t, new_t = mapping.schema, tm.old, tm.new
    out = _Names()
    _, want, join_rel = _target_of(target, S, new_t)
    join = _is_join_table(cur, old_t, new_t)
    m2m_new, m2m_old = (prisma_m2m_names(new_t), prisma_m2m_names(old_t)) if join else (None, None)
    constraints = snap.constraints_of(cur.oid)
    con_names = {c.name for c in constraints}  # constraint names of this table, as the plan leaves them
    claimed: set[str] = set()  # names given (or kept) by the target schema on this table
    renamed_idx: set[int] = set()
    kept: list[tuple[str, str, object]] = []  # (what, name, object): keeps its name

    if join_rel is not None:
        # A references the model whose name sorts first: renamed models could swap them
        for side, mdl in (("A", join_rel.a), ("B", join_rel.b)):
            fk = next((c for c in constraints if c.type == "f" and c.columns == (side,)), None)
            ref = snap.table_by_oid(fk.ref_table_oid) if fk else None
            if ref is not None and mapping.final_name(ref.name) != mdl.db_name:
                out.blockers.append(Blocker("conflict", f"{S}.{new_t}",
                                            f'column "{side}" references {ref.name!r}, but in the target schema '
                                            f'"{side}" of relation {join_rel.relation!r} is {mdl.name} ({mdl.db_name!r}): '
                                            f"Prisma would read the join rows backwards"))

    def expected(kind: str, cols: tuple[str, ...], old_cols: tuple[str, ...]) -> tuple[str, bool, set[str]]:
        """(the name the object should get, whether the target schema says so, the
        default names of the old table that make an object "named by default")."""
        key = _M2M_KEYS.get((kind, cols)) if join else None
        olds = _default_names(old_t, old_cols, _SUFFIX[kind])
        if key:
            return m2m_new[key], join_rel is not None, olds | {m2m_old[key]}
        if want is not None:
            name = want["pkey"] if kind == "pkey" else want[kind].get(cols)
            if name:
                return name, True, olds
        return prisma_constraint_name(new_t, cols if kind != "pkey" else (), _SUFFIX[kind]), False, olds

    def rename_ok(what: str, old: str, new: str, relation: bool, constraint: bool, schema: str = S) -> bool:
        if relation and f"{schema}.{new}" in taken:
            out.blockers.append(Blocker("conflict", f"{schema}.{new}", f"{what} name {new!r} is taken"))
            return False
        if constraint and new in con_names:
            out.blockers.append(Blocker("conflict", f"{new_t}.{new}",
                                        f"constraint name {new!r} is taken on {new_t!r} ({what} {old!r})"))
            return False
        if relation:
            taken.add(f"{schema}.{new}")
        if constraint:
            con_names.discard(old)
            con_names.add(new)
        return True

    def decide(what: str, name: str, kind: str, obj, make) -> None:
        cols = tuple(newcol(c) for c in obj.columns)
        new, from_target, olds = expected(kind, cols, tuple(obj.columns))
        if from_target and new in claimed and new != name:
            kept.append((what, name, obj))  # two objects for one entry of the schema
            return
        if name == new:
            if from_target:
                claimed.add(new)
                if new != prisma_constraint_name(new_t, cols if kind != "pkey" else (), _SUFFIX[kind]) and not join:
                    out.notes.append(f"{what} {name!r} on {new_t!r} keeps its custom name, as the target schema maps it")
            return
        if from_target or name in olds:
            if from_target:
                claimed.add(new)
            make(new)  # or a blocker: the name is taken
            return
        kept.append((what, name, obj))

    for con in constraints:
        if con.type == "f" and con.parent_oid:
            continue  # a partition's clone of its parent's foreign key: _partition_names
        if con.type == "n":
            cols = con.columns
            if cols and con.name == pg_object_name(old_t, cols[0], "not_null"):
                new = pg_object_name(new_t, newcol(cols[0]), "not_null")
                if rename_ok("constraint", con.name, new, False, True):
                    out.ops.append(RenameConstraint(S, new_t, con.name, new))
            elif con.name.startswith(f"{old_t}_"):
                kept.append(("constraint", con.name, con))
            continue
        if con.type in ("c", "x"):
            label = "check" if con.type == "c" else "excl"
            if con.columns and con.name == pg_object_name(old_t, con.columns[0], label):
                new = pg_object_name(new_t, newcol(con.columns[0]), label)
                if rename_ok("constraint", con.name, new, con.type == "x", True):
                    out.ops.append(RenameConstraint(S, new_t, con.name, new))
            elif con.name.startswith(f"{old_t}_"):
                kept.append(("constraint", con.name, con))
            continue
        kind = {"p": "pkey", "u": "unique", "f": "fkey"}.get(con.type)
        if kind is None:
            if con.name.startswith(f"{old_t}_"):
                kept.append(("constraint", con.name, con))
            continue
        backed = con.type in ("p", "u")  # the constraint's index carries its name

        def make(new, con=con, backed=backed):
            if not rename_ok("constraint", con.name, new, backed, True):
                return False
            out.ops.append(RenameConstraint(S, new_t, con.name, new))
            if backed and con.index_oid:
                renamed_idx.add(con.index_oid)
            return True

        decide("constraint", con.name, kind, con, make)
    for idx in snap.indexes_of(cur.oid):
        if idx.oid in renamed_idx or idx.backs_constraint:
            continue
        if "(expr)" in idx.columns:
            kept.append(("expression index", idx.name, idx))
            continue
        kind = "unique" if idx.is_unique else "index"
        cols = tuple(newcol(c) for c in idx.columns)

        def make(new, idx=idx):
            if not rename_ok("index", idx.name, new, True, False):
                return False
            out.ops.append(RenameIndex(S, new_t, idx.name, new))
            return True

        if " WHERE " in idx.definition and want is not None and not join:
            # a partial index is not what an @@index of the target schema describes
            new = prisma_constraint_name(new_t, cols, _SUFFIX[kind])
            if idx.name in _default_names(old_t, idx.columns, _SUFFIX[kind]) and idx.name != new:
                make(new)
            elif idx.name != new:
                kept.append(("index", idx.name, idx))
            continue
        decide("index", idx.name, kind, idx, make)
    for trg in snap.triggers_on(cur.oid):
        # not Prisma's, but a trigger named after its table should not keep the old name
        if trg.name.startswith(f"{old_t}_"):
            new = new_t + trg.name[len(old_t):]
            if len(new.encode()) <= 63 and not any(t.name == new for t in snap.triggers_on(cur.oid)):
                out.ops.append(RenameTrigger(S, new_t, trg.name, new))
    for seq in snap.sequences_of(cur.oid):
        if seq.column and seq.name == pg_object_name(old_t, seq.column, "seq"):
            new = pg_object_name(new_t, newcol(seq.column), "seq")
            if f"{seq.schema}.{new}" in taken:
                out.blockers.append(Blocker("conflict", f"{seq.schema}.{new}", f"sequence name {new!r} is taken"))
                continue
            out.ops.append(RenameSequence(seq.schema, new_t, seq.name, new))
            taken.add(f"{seq.schema}.{new}")
    stats_taken = {(st.schema, st.name) for st in snap.statistics}
    for st in snap.statistics_on(cur.oid):
        if st.name.startswith(f"{old_t}_"):
            kept.append(("statistics object", st.name, st))
    # -- names kept: listed; those that start with the old table's name renamed by prefix
    for what, name, obj in kept:
        if not name.startswith(f"{old_t}_"):
            out.notes.append(f"{what} {name!r} on {new_t!r} keeps its custom name")
            continue
        new = new_t + name[len(old_t):]
        if len(new.encode()) > MAX_IDENTIFIER_BYTES:
            out.notes.append(f"{what} {name!r} on {new_t!r} keeps the old table's name as its prefix "
                             f"({new!r} would be {len(new.encode())} bytes)")
            continue
        if not mapping.rename_prefixed:
            out.notes.append(f"{what} {name!r} on {new_t!r} keeps the old table's name as its prefix; "
                             f"rename_prefixed = true in the mapping renames it to {new!r}")
            continue
        if isinstance(obj, Statistics):
            if (obj.schema, new) in stats_taken:
                out.blockers.append(Blocker("conflict", f"{obj.schema}.{new}", f"statistics name {new!r} is taken"))
                continue
            stats_taken.add((obj.schema, new))
            out.ops.append(RenameStatistics(obj.schema, new_t, name, new))
        elif isinstance(obj, Constraint):
            backed = obj.type in ("p", "u", "x")
            if rename_ok("constraint", name, new, backed, True):
                out.ops.append(RenameConstraint(S, new_t, name, new))
        elif rename_ok("index", name, new, True, False):
            out.ops.append(RenameIndex(S, new_t, name, new))
    return out


def build_plan(snap: Snapshot, mapping: Mapping, *, strict: bool = True) -> Plan:
    """Compute the plan. With ``strict``, conflicts raise :class:`ConflictError` (bad
    input, exit 2); otherwise they are returned as blockers (for the analysis)."""
    S = mapping.schema
    ops_enum: list[Op] = []
    ops_prep: list[Op] = []
    ops_rename: list[Op] = []
    ops_cols: list[Op] = []
    ops_names: list[Op] = []
    ops_add: list[Op] = []
    ops_notnull: list[Op] = []
    ops_fk: list[Op] = []
    ops_fin: list[Op] = []
    blockers: list[Blocker] = []
    notes: list[str] = []
    states: list[TableState] = []
    lock_tables: list[str] = []
    taken = set(snap.relation_names())
    created_enums: set[str] = set()
    target = mapping.service.load_schema()  # the service's Prisma schema: its map: names win

    for tm in mapping.tables:
        src, dst = snap.table(S, tm.old), snap.table(S, tm.new)
        if src and dst:
            states.append(TableState(tm.old, tm.new, "conflict", src.oid,
                                     f"target {tm.new!r} already exists ({dst.row_estimate} rows estimated)"))
            blockers.append(Blocker("conflict", f"{S}.{tm.new}", f"target table {tm.new!r} already exists beside {tm.old!r}"))
            continue
        if not src and not dst:
            states.append(TableState(tm.old, tm.new, "missing", None, "neither name exists"))
            blockers.append(Blocker("missing", f"{S}.{tm.old}", f"table {tm.old!r} does not exist (nor {tm.new!r})"))
            continue
        if src and f"{S}.{tm.new}" in taken:
            blockers.append(Blocker("conflict", f"{S}.{tm.new}", f"name {tm.new!r} is taken by a {snap.relation_names()[f'{S}.{tm.new}']}"))
            states.append(TableState(tm.old, tm.new, "conflict", src.oid, f"{tm.new!r} is taken"))
            continue
        cur: Table = src or dst
        states.append(TableState(tm.old, tm.new, "todo" if src else "done", cur.oid))
        blockers.extend(_hierarchy_blockers(snap, tm, cur))
        lock_tables.append(qq(S, cur.name))
        if src:
            ops_rename.append(RenameTable(S, tm.old, tm.new))
            taken.add(f"{S}.{tm.new}")
        # -- columns ------------------------------------------------------------------
        colmap: dict[str, str] = {}
        for rc in tm.rename_columns:
            have_old, have_new = cur.column(rc.old), cur.column(rc.new)
            if have_old and have_new:
                blockers.append(Blocker("conflict", f"{tm.new}.{rc.new}", f"column {rc.new!r} already exists beside {rc.old!r}"))
                continue
            if not have_old and not have_new:
                blockers.append(Blocker("missing", f"{tm.old}.{rc.old}", f"column {rc.old!r} does not exist (nor {rc.new!r})"))
                continue
            col = have_old or have_new
            colname_now = col.name
            if have_old:
                ops_cols.append(RenameColumn(S, tm.new, rc.old, rc.new))
                colmap[rc.old] = rc.new
            if rc.not_null and not col.not_null:
                check_name = prisma_constraint_name(tm.new, [rc.new], "not_null_check")
                fill = None
                if rc.fill_nulls is not None:
                    pk = [c for c in snap.constraints_of(cur.oid) if c.type == "p"]
                    if not pk or len(pk[0].columns) != 1:
                        blockers.append(Blocker("unsupported", f"{cur.name}.{colname_now}",
                                                "filling NULLs needs a single-column primary key"))
                        continue
                    tag = hashlib.sha1(f"{S}.{tm.old}.{rc.old}".encode()).hexdigest()[:10]
                    pk_col = cur.column(pk[0].columns[0])
                    fill = FillNulls(S, cur.name, colname_now, pk_col.name, rc.fill_nulls, tag, pk_col.type)
                    ops_prep.append(fill)
                ops_prep.append(AddNotNullCheck(S, cur.name, colname_now, check_name))
                ops_notnull.append(SetNotNull(S, tm.new, rc.new, check_name, fill))
        newcol = lambda c: colmap.get(c, tm.new_column_name(c))  # noqa: E731
        # -- dependent names: constraints, indexes, sequences ---------------------------
        # (also for a table renamed by hand: its dependent names may still be old)
        dn = _dependent_names(snap, mapping, tm, cur, newcol, taken, target)
        ops_names += dn.ops
        blockers += dn.blockers
        notes += dn.notes
        # -- added columns ---------------------------------------------------------------
        for ac in tm.add_columns:
            existing = cur.column(ac.name)
            if ac.enum:
                e = snap.enum(S, ac.type)
                spec = mapping.enum(ac.type)
                row_type = snap.relation_names().get(f"{S}.{ac.type}") in ("table", "view")
                if e is None and row_type:  # a table's row type is a type of the same name
                    blockers.append(Blocker("conflict", f"{S}.{ac.type}", f"enum name {ac.type!r} is taken by a table"))
                elif e is None and ac.type not in created_enums:
                    ops_enum.append(CreateEnum(S, ac.type, spec.values))
                    created_enums.add(ac.type)
                elif e is not None and tuple(e.labels) != tuple(spec.values):
                    blockers.append(Blocker("conflict", f"{S}.{ac.type}",
                                            f"enum {ac.type!r} exists with values {list(e.labels)}, the mapping wants {list(spec.values)}"))
            type_sql = qq(S, ac.type) if ac.enum else ac.type
            if existing:
                want = ac.type if not ac.enum else ac.type
                got = existing.type_name if ac.enum else existing.type
                if got != want and not (ac.enum and existing.type_name == ac.type):
                    blockers.append(Blocker("conflict", f"{cur.name}.{ac.name}",
                                            f"column {ac.name!r} exists with type {existing.type}, the mapping wants {ac.type}"))
            else:
                ops_add.append(AddColumn(S, tm.new, ac.name, type_sql, ac.not_null, ac.default_sql()))
            if ac.references:
                ref_final = mapping.final_name(ac.references.table)
                ref_now = snap.table(S, ac.references.table) or snap.table(S, ref_final)
                if ref_now is None:
                    blockers.append(Blocker("missing", ac.references.table, f"{ac.name!r} references a table that does not exist"))
                    continue
                fk_name = prisma_constraint_name(tm.new, [ac.name], "fkey")
                if not any(c.name == fk_name for c in snap.constraints_of(cur.oid)):
                    ops_fk.append(AddForeignKey(S, tm.new, fk_name, (ac.name,), ref_final, (ac.references.column,),
                                                ac.references.on_delete, ac.references.on_update))
                    ops_fin.append(ValidateConstraint(S, tm.new, fk_name))
                    ref_q = qq(S, ref_now.name)
                    if ref_q not in lock_tables:
                        lock_tables.append(ref_q)
                elif not [c for c in snap.constraints_of(cur.oid) if c.name == fk_name][0].validated:
                    ops_fin.append(ValidateConstraint(S, tm.new, fk_name))
        # -- defaults --------------------------------------------------------------------
        for sd in tm.set_defaults:
            col = cur.column(sd.column) or cur.column(newcol(sd.column))
            if col is None:
                blockers.append(Blocker("missing", f"{cur.name}.{sd.column}", f"column {sd.column!r} does not exist"))
                continue
            want = sd.default_sql()
            if col.default is None or (want and _norm_default(col.default) != _norm_default(want)):
                ops_add.append(SetDefault(S, tm.new, newcol(col.name), want, col.default))

    ops_names += _partition_names(snap, mapping, states, ops_names, notes)

    # -- functions naming old tables ----------------------------------------------------
    # Bodies are read by PostgreSQL's parser (runbook/sqlbody.py): a reference is renamed
    # only where it resolves to a renamed table of schema S (or a renamed column of one).
    from .sqlbody import REWRITABLE_LANGUAGES, BodyError, TableRename, analyze, apply_edits

    renamed = {t.old: t.new for t, st in zip(mapping.tables, states) if st.state in ("todo", "done")}
    fn_renames = [TableRename(S, old, new, {o.old: o.new for o in ops_cols if o.table_name == new})
                  for old, new in renamed.items()]
    watched = set(renamed) | {c for r in fn_renames for c in r.columns}
    ops_fn: list[Op] = []
    for fn in snap.functions:
        if not fn.source:
            continue  # BEGIN ATOMIC bodies are parsed and follow OIDs
        if fn.language not in REWRITABLE_LANGUAGES:
            hits = names_any(fn.source, set(renamed))
            if hits:
                blockers.append(Blocker("unsafe function", fn.signature,
                                        f"{fn.language} function names {sorted(hits)[0]!r}; runbook rewrites only SQL and PL/pgSQL bodies"))
            continue
        try:
            body = analyze(fn.language, fn.source, fn.definition, snap.sql_catalog, fn.search_path(snap.current_user),
                           fn_renames, snap.trigger_tables_of(fn))
        except BodyError as exc:
            if names_any(fn.source, watched):
                blockers.append(Blocker("unsafe function", fn.signature,
                                        f"its body could not be parsed ({exc}); rewrite it by hand before migrating"))
            continue
        if body.unsafe:
            blockers.append(Blocker("unsafe function", fn.signature,
                                    f"{'; '.join(body.unsafe)}; rewrite it by hand before migrating"))
            continue
        if not body.edits:
            continue
        try:
            new_src = apply_edits(fn.source, body.edits)
            new_def = rewrite_definition(fn.definition or "", fn.source, new_src)
        except (UnsafeRewrite, BodyError) as exc:
            blockers.append(Blocker("unsafe function", fn.signature, f"{exc}; rewrite it by hand before migrating"))
            continue
        if new_src != fn.source:
            ops_fn.append(ReplaceFunction(fn.signature, fn.regprocedure, fn.definition, new_def, new_src))

    lock_tables = _children_first(snap, S, _lock_through_parents(snap, lock_tables))
    ops = (ops_prep + ops_enum + ops_rename + ops_cols + ops_names + ops_add + ops_notnull + ops_fk + ops_fn
           + ops_fin)
    plan = Plan(S, tuple(ops), tuple(states), tuple(blockers), tuple(notes), tuple(lock_tables),
                mapping.audit_table)
    if strict and blockers:
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
                               f"{parents[0].name!r}, which renames it in every {what}"))
    if cur.is_partition and tm.add_columns:
        out.append(Blocker("unsupported", cur.name, f"columns cannot be added to partition {cur.name!r}: add them "
                                                    f"to the partitioned table {parents[0].name!r}"))
    return out


def _partition_names(snap: Snapshot, mapping: Mapping, states: list[TableState], ops_names: list[Op],
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
                notes.append(f"foreign key {clone.name!r} on {table.name!r} (a clone of {op.old!r}) keeps its name: "
                             f"{new!r} is too long or taken")
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
            notes.append(f"{what} {d.name!r} of {st.old!r} keeps its name{prefix}: name it in the mapping "
                         f"([[tables]] from = {d.name!r}) to rename it")
    return out


def _lock_through_parents(snap: Snapshot, quoted: list[str]) -> list[str]:
    """``LOCK TABLE`` on a partitioned table or an inheritance parent locks its partitions
    and children too, parent first, as a query through the parent does
    (https://www.postgresql.org/docs/current/sql-lock.html): a mapped partition whose
    ancestor is locked is left to that ancestor, so it is never locked before it."""
    by_q = {qq(t.schema, t.name): t for t in snap.tables}
    locked = {by_q[x].oid for x in quoted if x in by_q}
    return [x for x in quoted if x not in by_q or not any(a.oid in locked for a in snap.ancestors(by_q[x].oid))]


def _children_first(snap: Snapshot, schema: str, quoted: list[str]) -> list[str]:
    """Order the tables to lock so that a table comes before the tables it references.

    A service transaction locks a child (insert a message) and then its parent (the
    foreign key check, a trigger touching the session). Taking the parents first would
    hold them while waiting for the child: a deadlock. Children first, we wait holding
    nothing the service still needs.
    """
    by_q = {qq(t.schema, t.name): t for t in snap.tables}
    tabs = [by_q.get(x) for x in quoted]
    oids = {t.oid for t in tabs if t}
    parents = {t.oid: {c.ref_table_oid for c in snap.constraints_of(t.oid) if c.type == "f"
                       and c.ref_table_oid in oids and c.ref_table_oid != t.oid} for t in tabs if t}
    children_of: dict[int, set[int]] = {o: set() for o in oids}
    for child, ps in parents.items():
        for p_ in ps:
            children_of[p_].add(child)
    out: list[str] = []
    placed: set[int] = set()
    pending = [(x, t) for x, t in zip(quoted, tabs)]
    while pending:
        progress = False
        for x, t in list(pending):
            # place a table once every table that references it is placed
            if t is None or children_of.get(t.oid, set()) <= placed:
                out.append(x)
                pending.remove((x, t))
                if t is not None:
                    placed.add(t.oid)
                progress = True
        if not progress:  # a cycle of foreign keys: keep the given order for the rest
            out.extend(x for x, _ in pending)
            break
    return out


def raise_for_blockers(plan: Plan) -> None:
    if not plan.blockers:
        return
    b = plan.blockers[0]
    more = f" (and {len(plan.blockers) - 1} more: run `runbook analyze`)" if len(plan.blockers) > 1 else ""
    cls = UnsafeFunction if b.kind == "unsafe function" else ConflictError
    raise cls(f"{b.kind}: {b.object}: {b.reason}{more}", blockers=plan.blockers)


def _norm_default(expr: str) -> str:
    e = expr.strip().lower()
    return {"current_timestamp": "now()", "now()": "now()"}.get(e, e)
