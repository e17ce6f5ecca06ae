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

from . import __version__
from .catalog.inspect import Snapshot, Table
from .errors import ConflictError, UnsafeFunction
from .mapping import Mapping, TableMapping
from .naming import literal, pg_object_name, prisma_constraint_name, q, qq
from .ops import (FINISH, LOCK, PREPARE, AddColumn, AddForeignKey, AddNotNullCheck, CreateEnum, FillNulls, Op,
                  RenameColumn, RenameConstraint, RenameIndex, RenameSequence, RenameTable, RenameTrigger, ReplaceFunction,
                  SetDefault, SetNotNull, ValidateConstraint, dollar_quote)
from .rewrite import REWRITABLE_LANGUAGES, UnsafeRewrite, names_any, rewrite_definition, rewrite_source

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


# ----------------------------------------------------------------------------------------

def _index_suffix(idx) -> str:
    return "key" if idx.is_unique else "idx"


def _default_names(table: str, cols, suffix: str) -> set[str]:
    """The names Prisma or PostgreSQL would have given this object."""
    names = {prisma_constraint_name(table, list(cols) if suffix != "pkey" else [], suffix)}
    if suffix != "pkey":
        names.add(pg_object_name(table, "_".join(cols), suffix))
    else:
        names.add(pg_object_name(table, None, "pkey"))
    return names


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
        if True:  # also for a table renamed by hand: its dependent names may still be old
            old_tbl = tm.old
            renamed_idx: set[int] = set()
            for con in snap.constraints_of(cur.oid):
                suffix = {"p": "pkey", "u": "key", "f": "fkey"}.get(con.type)
                if con.type == "n":
                    cols = con.columns
                    if con.name == pg_object_name(old_tbl, cols[0] if cols else "", "not_null"):
                        new = pg_object_name(tm.new, newcol(cols[0]), "not_null")
                        ops_names.append(RenameConstraint(S, tm.new, con.name, new))
                    continue
                if con.type in ("c", "x") and len(con.columns) >= 1:
                    label = "check" if con.type == "c" else "excl"
                    if con.name == pg_object_name(old_tbl, con.columns[0], label):
                        new = pg_object_name(tm.new, newcol(con.columns[0]), label)
                        ops_names.append(RenameConstraint(S, tm.new, con.name, new))
                        continue
                if suffix is None:
                    if con.name.startswith(f"{old_tbl}_"):
                        notes.append(f"constraint {con.name!r} on {tm.old!r} keeps its name (not a Prisma default name)")
                    continue
                cols = [] if suffix == "pkey" else list(con.columns)
                if con.name in _default_names(old_tbl, cols, suffix):
                    new = prisma_constraint_name(tm.new, [newcol(c) for c in cols], suffix)
                    if new != con.name:
                        if f"{S}.{new}" in taken and con.index_oid:
                            blockers.append(Blocker("conflict", f"{S}.{new}", f"index name {new!r} is taken"))
                            continue
                        ops_names.append(RenameConstraint(S, tm.new, con.name, new))
                        if con.index_oid:
                            renamed_idx.add(con.index_oid)
                            taken.add(f"{S}.{new}")
                else:
                    notes.append(f"constraint {con.name!r} on {tm.old!r} keeps its custom name")
            for idx in snap.indexes_of(cur.oid):
                if idx.oid in renamed_idx or idx.backs_constraint:
                    continue
                suffix = _index_suffix(idx)
                if "(expr)" in idx.columns:
                    notes.append(f"expression index {idx.name!r} keeps its name")
                    continue
                if idx.name in _default_names(old_tbl, idx.columns, suffix):
                    new = prisma_constraint_name(tm.new, [newcol(c) for c in idx.columns], suffix)
                    if new == idx.name:
                        continue
                    if f"{S}.{new}" in taken:
                        blockers.append(Blocker("conflict", f"{S}.{new}", f"index name {new!r} is taken"))
                        continue
                    ops_names.append(RenameIndex(S, tm.new, idx.name, new))
                    taken.add(f"{S}.{new}")
                else:
                    notes.append(f"index {idx.name!r} on {tm.old!r} keeps its custom name")
            for trg in snap.triggers_on(cur.oid):
                # not Prisma's, but a trigger named after its table should not keep the old name
                if trg.name.startswith(f"{old_tbl}_"):
                    new = tm.new + trg.name[len(old_tbl):]
                    if len(new.encode()) <= 63 and not any(t.name == new for t in snap.triggers_on(cur.oid)):
                        ops_names.append(RenameTrigger(S, tm.new, trg.name, new))
            for seq in snap.sequences_of(cur.oid):
                if seq.column and seq.name == pg_object_name(old_tbl, seq.column, "seq"):
                    new = pg_object_name(tm.new, newcol(seq.column), "seq")
                    if f"{seq.schema}.{new}" in taken:
                        blockers.append(Blocker("conflict", f"{seq.schema}.{new}", f"sequence name {new!r} is taken"))
                        continue
                    ops_names.append(RenameSequence(seq.schema, tm.new, seq.name, new))
                    taken.add(f"{seq.schema}.{new}")
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

    # -- functions naming old tables ----------------------------------------------------
    renamed = {t.old: t.new for t, st in zip(mapping.tables, states) if st.state in ("todo", "done")}
    col_renames: dict[str, str] = {}
    for tm in mapping.tables:
        for rc in tm.rename_columns:
            col_renames[rc.old] = rc.new
    ops_fn: list[Op] = []
    for fn in snap.functions:
        if not fn.source:
            continue  # BEGIN ATOMIC bodies are parsed and follow OIDs
        hits = names_any(fn.source, set(renamed))
        if not hits:
            continue
        if fn.language not in REWRITABLE_LANGUAGES:
            blockers.append(Blocker("unsafe function", fn.signature,
                                    f"{fn.language} function names {sorted(hits)[0]!r}; runbook rewrites only SQL and PL/pgSQL bodies"))
            continue
        try:
            new_src = rewrite_source(fn.source, {h: renamed[h] for h in hits},
                                     {o: n for o, n in col_renames.items()})
            new_def = rewrite_definition(fn.definition or "", fn.source, new_src)
        except UnsafeRewrite as exc:
            blockers.append(Blocker("unsafe function", fn.signature, f"{exc}; rewrite it by hand before migrating"))
            continue
        if new_src != fn.source:
            ops_fn.append(ReplaceFunction(fn.signature, fn.regprocedure, fn.definition, new_def, new_src))

    lock_tables = _children_first(snap, S, lock_tables)
    ops = (ops_prep + ops_enum + ops_rename + ops_cols + ops_names + ops_add + ops_notnull + ops_fk + ops_fn
           + ops_fin)
    plan = Plan(S, tuple(ops), tuple(states), tuple(blockers), tuple(notes), tuple(lock_tables),
                mapping.audit_table)
    if strict and blockers:
        raise_for_blockers(plan)
    return plan


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
