"""The lock window's estimate, calibrated on the server itself.

A fixed cost a step does not know this server, its load, its catalog. So ``analyze``
times a *probe*: a lock window of the same kinds of steps (renames of tables,
constraints, indexes, columns; added columns with constant defaults ...) on scratch
temporary tables, built by the same :class:`~runbook.execute.lock_window.LockBatch`
(its group marks, its set checks, an audit-like row and a status-like update), in a
transaction that is rolled back: nothing of it remains, and it locks none of the
database's tables. Two sizes of probe give a cost a step and a fixed cost; three
rounds give a range. Where the probe cannot run (a read-only standby, no TEMP
privilege), the estimate is the static one, and says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .phases import LOCK

__all__ = ["LockEstimate", "calibrate", "static_estimate"]

#: the static estimate: about this per catalog step, plus LOCK and COMMIT
STATIC_FIXED_S, STATIC_PER_STEP_S = 0.005, 0.0003
_ROUNDS = 3
_TABLES = 12  # scratch tables: each gives a table, a constraint, an index and two columns to rename


@dataclass(frozen=True)
class LockEstimate:
    low_s: float
    high_s: float
    calibrated: bool
    detail: str  # how it was made, one line

    @property
    def mid_s(self) -> float:
        return (self.low_s + self.high_s) / 2

    def text(self) -> str:
        """``12-20 ms`` (``~27 ms`` when not calibrated)."""
        if not self.calibrated:
            return f"~{self.mid_s * 1000:,.0f} ms"
        lo, hi = self.low_s * 1000, self.high_s * 1000
        fmt = "{:,.1f}" if hi < 10 else "{:,.0f}"
        return f"{fmt.format(lo)}-{fmt.format(hi)} ms"


def static_estimate(n_steps: int, why: str) -> LockEstimate:
    s = STATIC_FIXED_S + STATIC_PER_STEP_S * n_steps
    return LockEstimate(s, s, False, f"not calibrated ({why}): {STATIC_PER_STEP_S * 1000:.1f} ms a step "
                                     f"+ {STATIC_FIXED_S * 1000:.0f} ms")


def _probe_ops(kinds: list[str], n: int, tables: list[str]):
    """``n`` scratch steps in the proportions of the plan's lock steps: each kind of step
    the probe can build on scratch tables, the others as column renames."""
    from .ops import (AddColumn, CreateCompatView, RenameColumn, RenameCompatView, RenameConstraint, RenameIndex,
                      RenameTable)

    ops, used = [], {"table": 0, "con": 0, "idx": 0, "col": 0, "add": 0, "view": 0, "staged": 0}

    def take(what: str, limit: int) -> int | None:
        if used[what] >= limit:
            return None
        used[what] += 1
        return used[what] - 1

    for k in range(n):
        kind = kinds[k % len(kinds)]
        if kind == "rename table" and (i := take("table", len(tables))) is not None:
            ops.append(("rename table", i))
        elif kind == "rename constraint" and (i := take("con", len(tables))) is not None:
            ops.append(("rename constraint", i))
        elif kind in ("rename index", "rename sequence") and (i := take("idx", len(tables))) is not None:
            ops.append(("rename index", i))
        elif kind == "add column":
            ops.append(("add column", take("add", 10**9)))
        elif kind == "create compat view":  # a temporary view over a scratch table, as costly to create
            ops.append(("create compat view", take("view", 10**9)))
        elif kind == "rename compat view" and (i := take("staged", len(tables))) is not None:
            ops.append(("rename compat view", i))  # a scratch table's staged view renamed
        elif (i := take("col", 2 * len(tables))) is not None:
            ops.append(("rename column", i))
        else:
            ops.append(("add column", take("add", 10**9)))
    # the table renames first, as the planner orders them: the other steps name the new names
    renamed = {i for kind, i in ops if kind == "rename table"}
    out = [RenameTable("pg_temp", tables[i], f"{tables[i]}_r") for i in sorted(renamed)]

    def name(i: int) -> str:
        return f"{tables[i]}_r" if i in renamed else tables[i]

    for kind, i in ops:
        t = i % len(tables)
        if kind == "rename constraint":
            out.append(RenameConstraint("pg_temp", name(t), f"{tables[t]}_pkey", f"{tables[t]}_pk"))
        elif kind == "rename index":
            out.append(RenameIndex("pg_temp", name(t), f"{tables[t]}_v", f"{tables[t]}_vi"))
        elif kind == "rename column":
            c = ("a", "b")[i // len(tables)]
            out.append(RenameColumn("pg_temp", name(t), c, f"{c}_r"))
        elif kind == "add column":
            out.append(AddColumn("pg_temp", name(t), f"added_{i}", "integer", False, "0"))
        elif kind == "create compat view":
            # over "id" alone: the other scratch columns may be renamed by the probe's earlier steps
            out.append(CreateCompatView("pg_temp", "pg_temp", f"{tables[t]}_cv{i}", name(t), ("id",), ("legacy_id",),
                                        ("0",)))
        elif kind == "rename compat view":
            out.append(RenameCompatView("pg_temp", "pg_temp", f"{tables[t]}_cv", name(t), ("id",), ("legacy_id",),
                                        ("0",), staged=f"{tables[t]}_sv"))
    return out


def _scratch(cur, tables: list[str]) -> None:
    cur.execute(";".join(
        f'CREATE TEMP TABLE "{t}" (id integer CONSTRAINT "{t}_pkey" PRIMARY KEY, a integer, b text);'
        f'CREATE INDEX "{t}_v" ON "{t}" (a);'
        f'CREATE TEMP VIEW "{t}_sv" (legacy_id) AS SELECT id FROM "{t}"' for t in tables)
        + ";CREATE TEMP TABLE rb_probe_log (id serial PRIMARY KEY, details jsonb);"
          "CREATE TEMP TABLE rb_probe_run (id text PRIMARY KEY, status text, summary jsonb);"
          "INSERT INTO rb_probe_run VALUES ('run', 'running', NULL)")


def _probe(conn, kinds: list[str], n: int, round_: int) -> float:
    """One probe of ``n`` steps, rolled back: the window as the runner measures it (from
    the first round trip to its end, less the wait for the locks)."""
    from .execute.faults import LockFault
    from .execute.lock_window import LockBatch
    from .naming import q
    from .plan import Plan

    tables = [f"rb_probe_{round_}_{n}_{i}" for i in range(_TABLES)]
    batch = None
    with conn.cursor() as cur:
        cur.execute("BEGIN; SET LOCAL lock_timeout = '1s'; SET LOCAL statement_timeout = '10s'; "
                    "SET LOCAL check_function_bodies = off")
        try:
            _scratch(cur, tables)
            plan = Plan("pg_temp", tuple(_probe_ops(kinds, n, tables)), (),
                        lock_tables=tuple(f"pg_temp.{q(t)}" for t in tables))
            batch = LockBatch(plan, 0, {}, LockFault("", None))
            tail = ["INSERT INTO rb_probe_log (details) VALUES ('{\"event\": \"migration_complete\"}'::jsonb)",
                    "UPDATE rb_probe_run SET status = 'committed', summary = '{\"verified\": false}'::jsonb "
                    "WHERE id = 'run'"]
            batch.prepare(cur, "runbook_probe")  # as the runner does, before the window
            trips = list(batch.round_trips(tail))
            t0 = time.perf_counter()
            for sql, _ in trips:
                cur.execute(sql)
            batch.prepared = {}  # deallocated by the last round trip
            marks = batch.read(cur.fetchone())
            cur.execute("SELECT 1")  # the COMMIT's round trip, which the probe cannot make
            elapsed = time.perf_counter() - t0
        finally:
            cur.execute("ROLLBACK")
            if batch is not None:
                batch.deallocate(cur)
    return max(elapsed - max(0.0, marks.get("locked", 0) - marks.get("start", 0)), 0.0)


def calibrate(conn, plan) -> LockEstimate:
    """The lock window of ``plan`` on this server, as a range: probes of two sizes, three
    rounds, rolled back (``conn``: autocommit, no transaction open)."""
    lock = plan.phase(LOCK)
    n = len(lock)
    if not n:
        return LockEstimate(0.0, 0.0, True, "no step runs under the lock")
    kinds = [o.kind for o in lock]
    small, large = max(2, min(n, 60) // 4), min(n, 60)
    try:
        fits = []
        for r in range(_ROUNDS):
            t_small, t_large = _probe(conn, kinds, small, r), _probe(conn, kinds, large, r)
            per = max((t_large - t_small) / (large - small), 0.0) if large > small else t_large / large
            fixed = max(t_small - per * small, 0.0)
            fits.append(fixed + per * n)
    except Exception as exc:  # a standby, no TEMP privilege, a timeout: the static estimate
        try:
            conn.rollback()
        except Exception:
            pass
        return static_estimate(n, type(exc).__name__ if not str(exc).strip() else str(exc).strip().splitlines()[0])
    lo, hi = min(fits), max(fits)
    return LockEstimate(lo, max(hi, lo * 1.25), True,
                        f"calibrated on this server: probes of {small} and {large} steps on scratch tables, "
                        f"{_ROUNDS} rounds, rolled back; {n} steps under the lock")
