"""What a plan is: frozen data. A :class:`Plan` is an ordered tuple of operations
(:mod:`runbook.ops`), the state of each mapped table, the blockers and notes found while
planning, and the tables its lock phase locks. It renders its SQL, its fingerprint (the
sha256 of that SQL: what was reviewed is what runs) and its reverse."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .._version import __version__
from ..catalog.inspect import Snapshot
from ..errors import ConflictError, UnsafeFunction, WrongState
from ..findings import lookup
from ..mapping import Mapping
from ..naming import literal, qq
from ..ops import FINISH, LOCK, PREPARE, Op, dollar_quote, end_checks, op_from_dict

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
    """Something that stops ``migrate`` before anything changes; ``code`` is its finding
    code (:mod:`runbook.findings`: presentation, not part of the plan's fingerprint)."""

    kind: str
    object: str
    reason: str
    exit_code: int = 2
    code: str = ""

    def __post_init__(self):
        lookup(self.code)  # every blocker names a registered code


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
            checks = end_checks(lock) if final_checks else []
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
        reads it) ran, refused unless every operation validates itself and the plan still
        has the fingerprint recorded with it (a plan edited in ``runbook.runs`` is not run
        again)."""
        try:
            ops = tuple(op_from_dict(d) for d in run["plan"])
            lock_tables = run.get("lock_tables")
            if lock_tables is not None and not all(isinstance(t, str) for t in lock_tables):
                raise TypeError("lock_tables")
            plan = cls.from_ops(snap, mapping, ops, lock_tables=tuple(lock_tables or ()))
            fingerprint = plan.fingerprint
        except Exception as exc:
            # an operation that does not validate says why (op_from_dict); anything else, its type
            why = " ".join(str(exc).split())[:300] if isinstance(exc, ValueError) and str(exc) else type(exc).__name__
            raise WrongState(f"the plan recorded for migration {run['id']} cannot be read ({why}); "
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


def raise_for_blockers(plan: Plan) -> None:
    if not plan.blockers:
        return
    b = plan.blockers[0]
    more = f" (and {len(plan.blockers) - 1} more: run `runbook analyze`)" if len(plan.blockers) > 1 else ""
    cls = UnsafeFunction if b.kind == "unsafe function" else ConflictError
    raise cls(f"{b.kind}: {b.object}: {b.reason}{more}", blockers=plan.blockers)
