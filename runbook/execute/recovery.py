"""Crash recovery: what a run that died, or stopped after its COMMIT, left behind.

- a run still marked ``running`` (we hold the advisory lock, so it is dead) whose lock
  transaction did not commit: its online prepare steps are undone (:func:`recover_interrupted`);
- a run whose lock transaction committed but was not verified: its finish steps are run
  again (they are idempotent) before its verification (:func:`finish_committed`);
- whether this run's own lock transaction committed, asked of the database
  (:func:`committed_in_db`), when a failure leaves it unknown.
"""

from __future__ import annotations

import time

import psycopg2

from .. import state
from ..catalog.inspect import Snapshot
from ..connection import connect
from ..errors import MigrationFailed, RollbackFailed
from ..naming import literal
from ..ops import FINISH, LOCK, PREPARE, Op, end_checks, op_from_dict
from ..plan import Plan
from .context import RunContext
from .failures import interruption, pg_message
from .online import Online
from .results import StepResult


def recover_interrupted(ctx: RunContext, conn) -> list[str]:
    """Undo what a killed run left behind before its lock phase committed.

    We hold the advisory lock, so a run still marked ``running`` is dead. Its lock
    transaction either committed (then it is marked ``committed``) or vanished with
    its connection; only its online prepare steps (fill trigger, NOT VALID check,
    filled placeholders) can remain, and their reverses remove them.
    """
    if not state.exists(conn):
        return []
    with conn.cursor() as cur:
        cur.execute("SELECT id, plan FROM runbook.runs WHERE status = 'running' ORDER BY started_at")
        rows = cur.fetchall()
    undone = []
    for run_id, plan_json in rows:
        ops = [op_from_dict(d) for d in plan_json]
        if _lock_phase_committed(conn, [o for o in ops if o.phase == LOCK]):
            state.set_status(conn, run_id, "committed", {"recovered": "lock phase had committed"})
            ctx.log(f"recovered run {run_id}: its lock phase had committed")
            continue
        prep = [o for o in ops if o.phase == PREPARE]
        undo_prepare(ctx, conn, prep)
        state.set_status(conn, run_id, "abandoned", {"recovered": f"undid {len(prep)} prepare steps"})
        ctx.audit_own_tx("migration_failed", error="run was interrupted; its prepare steps were undone",
                         interrupted_run=run_id)
        ctx.log(f"recovered run {run_id}: interrupted before COMMIT; undid its {len(prep)} prepare steps")
        undone.append(run_id)
    return undone


def _lock_phase_committed(conn, lock_ops: list[Op]) -> bool:
    """Whether a dead run's lock steps are in: its first step's check holds."""
    if not lock_ops:
        return False
    with conn.cursor() as cur:
        try:
            cur.execute(f"SELECT ({end_checks(lock_ops)[0]})")  # (a compat view under an old name)
            return bool(cur.fetchone()[0])
        except psycopg2.Error:
            conn.rollback() if not conn.autocommit else None
    return False


def undo_prepare(ctx: RunContext, conn, done: list[Op]) -> None:
    """The reverses of the prepare steps ``done``, last first, in one transaction (each
    is idempotent: a step that had not finished, or had not started, is undone too)."""
    if not done:
        return
    try:
        if conn.closed:
            conn = connect(ctx.url, application_name="runbook-undo", autocommit=True)
        else:
            try:
                conn.rollback()
            except Exception:
                conn = connect(ctx.url, application_name="runbook-undo", autocommit=True)
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute(f"SET LOCAL lock_timeout = {literal(ctx.opt.lock_timeout)}")
            for op in reversed(done):
                r = op.reverse()
                if r is not None:
                    for s in r.statements():
                        cur.execute(s)
        conn.commit()
        conn.autocommit = True
        ctx.log(f"undid {len(done)} prepare steps")
    except Exception as exc:
        ctx.log(f"could not undo the prepare steps: {pg_message(exc)}")
        raise RollbackFailed(f"the run failed and its prepare steps could not be undone: {pg_message(exc)}; "
                             "run `runbook rollback` or repair by hand") from None


def committed_in_db(url: str, run_id: str) -> bool:
    """Did the lock transaction of run ``run_id`` (recorded in runbook.runs) commit? Its
    status row is set in it."""
    try:
        c = connect(url, application_name="runbook-state", autocommit=True)
        try:
            with c.cursor() as cur:
                cur.execute("SELECT status FROM runbook.runs WHERE id = %s", (run_id,))
                row = cur.fetchone()
            return bool(row) and row[0] == "committed"
        finally:
            c.close()
    except Exception:
        return False


def finish_committed(ctx: RunContext, conn, snap: Snapshot, run: dict) -> Plan:
    """A migration that committed but was not verified (interrupted, or killed, after its
    COMMIT): its finish steps (idempotent) run again; returns its plan, to verify."""
    plan = Plan.from_stored(snap, ctx.mapping, run)
    ctx.log(f"run {ctx.run_id}: migration {run['id']} committed without verification: "
            f"finishing and verifying it (plan {plan.short_fingerprint})")
    online = Online(ctx)
    try:
        for op in plan.phase(FINISH):
            t0 = time.perf_counter()
            online.run(conn, op)
            ctx.steps.append(StepResult(len(ctx.steps) + 1, op.phase, op.kind, op.describe(),
                                        time.perf_counter() - t0))
    except KeyboardInterrupt as exc:
        raise MigrationFailed(f"{interruption(exc)} while finishing migration {run['id']}: it stays recorded "
                              "as committed, not verified: `runbook migrate` finishes and verifies it") from None
    except psycopg2.Error as exc:
        raise MigrationFailed(f"a finish step of migration {run['id']} failed: {ctx.failure_message(exc)}; "
                              "it stays recorded as committed, not verified") from None
    return plan
