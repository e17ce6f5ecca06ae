"""Contract (expand / contract): the compat views a migration made (``migrate
--compat-views``) dropped later, as a run of its own.

The contract is a row of ``runbook.runs`` (status ``contracting``, then ``contracted`` in
the same COMMIT as the drops) whose plan is its :class:`runbook.ops.DropCompatView`
operations, built from the catalog as it is now (so that ``contract --undo``, their
reverse, re-creates the views as they were), with a ``contract`` audit row. Before it
drops anything it reports each view's use, read from ``pg_stat_statements`` (queries
whose text names the view): a view is quiet when that count has not moved since a
reading taken at least ``quiet_for`` ago (each contract that is not a dry run stores
one in ``runbook.view_use``). It refuses (exit 2, nothing changed) while a view is not
shown quiet, or when use cannot be measured, unless forced.

After a contract, the migration's rollback and verification leave its views out
(:func:`contracted_views`): they are gone by a run of their own, which ``--undo`` reverses.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2
from psycopg2.extras import Json

from .. import state
from ..errors import WrongState
from ..naming import q, qq
from ..ops import MAKES_VIEW, DropCompatView, KeepFilling, RenameColumn, op_from_dict, op_to_dict
from ..options import duration_ms
from ..plan import Plan
from .context import RunContext, progress
from .lock_window import LockPhase

USE_SQL = """CREATE TABLE IF NOT EXISTS runbook.view_use (
    migration text NOT NULL, view text NOT NULL, calls bigint NOT NULL, read_at timestamptz NOT NULL DEFAULT now())"""


@dataclass(frozen=True)
class ViewUse:
    view: str  # schema.name
    calls: int | None  # queries naming it (pg_stat_statements); None: not measurable
    quiet: bool | None  # unchanged since a reading at least quiet_for old; None: not measurable
    detail: str


@dataclass(frozen=True)
class ContractResult:
    run_id: str
    status: str  # contracted | restored | planned | refused
    migration: str
    plan: Plan
    use: tuple[ViewUse, ...] = ()
    measured: bool = False
    note: str = ""  # why use cannot be measured, and what to enable
    reason: str = ""  # why it refused
    lock_window_s: float = 0.0

    @property
    def exit_code(self) -> int:
        return 2 if self.status == "refused" else 0

    def summary(self) -> dict:
        return {"run_id": self.run_id, "status": self.status, "migration": self.migration,
                "fingerprint": self.plan.fingerprint, "operations": self.plan.as_rows(),
                "use": [u.__dict__ for u in self.use], "measured": self.measured, "note": self.note,
                "reason": self.reason, "lock_window_s": self.lock_window_s}


def contracted_views(conn, migration_id: str) -> bool:
    """Whether a contract dropped migration ``migration_id``'s compat views (not undone)."""
    if not state.exists(conn):
        return False
    with conn.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM runbook.runs WHERE status = 'contracted' "
                    "AND summary->>'migration' = %s)", (migration_id,))
        return bool(cur.fetchone()[0])


def _migration(conn) -> dict:
    run = state.last_run(conn)
    if run is None:
        raise WrongState("nothing to contract: no runbook migration is in effect in this database")
    if run["status"] != "migrated":
        raise WrongState(f"migration {run['id']} is {run['status']}, not verified: run `runbook migrate` "
                         "(or `runbook verify`) first; nothing was changed")
    return run


def _drop_ops(conn, run: dict) -> tuple[DropCompatView, ...]:
    """The migration's views as they are now: the table's columns under their current
    names (the plan renamed some after the view was made), the view's defaults as the
    catalog has them now (they name the sequences by their new names)."""
    ops = [op_from_dict(d) for d in run["plan"]]
    views = [o for o in ops if type(o) in MAKES_VIEW]  # made at once, or staged and renamed
    if not views:
        raise WrongState(f"migration {run['id']} made no compat views (`runbook migrate --compat-views`): "
                         "nothing to contract")
    out = []
    with conn.cursor() as cur:
        for v in views:
            renamed = {o.old: o.new for o in ops if isinstance(o, RenameColumn)
                       and (o.schema, o.table_name) == (v.schema, v.table_name)}
            cur.execute("SELECT a.attname::text, coalesce(pg_get_expr(d.adbin, d.adrelid), '') FROM pg_attribute a "
                        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                        "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 ORDER BY a.attnum",
                        (qq(v.view_schema, v.view),))
            rows = cur.fetchall()
            if [r[0] for r in rows] != list(v.legacy):
                raise WrongState(f"compat view {v.view_schema}.{v.view} is gone or was changed since migration "
                                 f"{run['id']}; nothing was changed")
            out.append(DropCompatView(v.schema, v.view_schema, v.view, v.table_name,
                                      tuple(renamed.get(c, c) for c in v.columns), v.legacy,
                                      tuple(r[1] for r in rows), v.grants, v.invoker, v.column_grants,
                                      v.grant_columns))
    return tuple(out) + tuple(o.reverse() for o in ops if type(o) is KeepFilling)


def _stat_statements(conn) -> str | None:
    """None when pg_stat_statements can be read; else why not, and what to enable."""
    with conn.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')")
        if not cur.fetchone()[0]:
            return ("use of the views cannot be measured on this server: pg_stat_statements is not installed "
                    "(add it to shared_preload_libraries, restart, CREATE EXTENSION pg_stat_statements)")
        try:  # (autocommit: a failed statement leaves no transaction behind)
            cur.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
        except psycopg2.Error as exc:
            return f"use of the views cannot be measured on this server: {' '.join(str(exc).split())[:200]}"
    return None


def _use(conn, run: dict, drops, quiet_ms: int, store: bool) -> list[ViewUse]:
    """Each view's use: queries naming it, against the latest reading at least
    ``quiet_ms`` old; with ``store``, this reading is kept for the next contract."""
    out = []
    with conn.cursor() as cur:
        for d in drops:
            if type(d) is not DropCompatView:
                continue
            name = f"{d.view_schema}.{d.view}"
            cur.execute("SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE dbid = (SELECT oid "
                        "FROM pg_database WHERE datname = current_database()) AND (strpos(query, %s) > 0 "
                        "OR (%s = lower(%s) AND query ~* ('\\m' || %s || '\\M')))", (q(d.view), d.view, d.view, d.view))
            calls = int(cur.fetchone()[0])
            cur.execute("SELECT calls, extract(epoch FROM now() - read_at)::int FROM runbook.view_use "
                        "WHERE migration = %s AND view = %s AND read_at <= now() - %s * interval '1 millisecond' "
                        "ORDER BY read_at DESC LIMIT 1", (run["id"], name, quiet_ms))
            prev = cur.fetchone()
            if prev is None:
                use = ViewUse(name, calls, False, "no reading old enough yet to show it quiet"
                                                  + (": this one is kept; run again later" if store else ""))
            elif calls == prev[0]:
                use = ViewUse(name, calls, True, f"not used since the reading {prev[1]}s ago")
            else:
                use = ViewUse(name, calls, False, f"used {calls - prev[0]} times since the reading {prev[1]}s ago")
            out.append(use)
            if store:
                cur.execute("INSERT INTO runbook.view_use (migration, view, calls) VALUES (%s, %s, %s)",
                            (run["id"], name, calls))
    return out


def contract(ctx: RunContext, conn, *, quiet_for: str = "1h", force: bool = False, dry_run: bool = False,
             undo: bool = False) -> ContractResult:
    """Drop the last migration's compat views (or, with ``undo``, re-create the views the
    last contract dropped). The caller holds the advisory lock."""
    quiet_ms = duration_ms(quiet_for, "--quiet-for")
    run = _migration(conn)
    if undo:
        return _undo(ctx, conn, run, dry_run)
    if contracted_views(conn, run["id"]):
        raise WrongState(f"the compat views of migration {run['id']} were already dropped by a contract "
                         "(`runbook contract --undo` re-creates them)")
    drops = _drop_ops(conn, run)
    plan = Plan(ctx.mapping.schema, drops, (), audit_table=ctx.mapping.audit_table)
    why = _stat_statements(conn)
    use: list[ViewUse] = []
    if why is None:
        if not dry_run:
            state.ensure(conn)
            with conn.cursor() as cur:
                cur.execute(USE_SQL)
        use = _use(conn, run, drops, quiet_ms, store=not dry_run)
    else:
        use = [ViewUse(f"{d.view_schema}.{d.view}", None, None, "cannot be measured") for d in drops
               if type(d) is DropCompatView]
    loud = [u.view for u in use if not u.quiet]
    reason = "" if force else (why or (f"{', '.join(loud)} not shown quiet for {quiet_for}" if loud else ""))
    base = dict(run_id=ctx.run_id, migration=run["id"], plan=plan, use=tuple(use), measured=why is None,
                note=why or "")
    if dry_run:
        return ContractResult(status="planned", reason=reason, **base)
    if reason:
        return ContractResult(status="refused", reason=reason + " (--force drops them anyway)", **base)
    window = _run(ctx, conn, plan, run["id"], "contract", "contracted", record=True)
    return ContractResult(status="contracted", lock_window_s=window, **base)


def _undo(ctx: RunContext, conn, run: dict, dry_run: bool) -> ContractResult:
    """The last contract's drops reversed: the views re-created as they were dropped."""
    with conn.cursor() as cur:
        cur.execute("SELECT id, plan, fingerprint FROM runbook.runs WHERE status = 'contracted' "
                    "AND summary->>'migration' = %s ORDER BY started_at DESC LIMIT 1", (run["id"],))
        row = cur.fetchone()
    if row is None:
        raise WrongState(f"no contract of migration {run['id']} to undo: its compat views were not dropped")
    try:  # only the plan that ran, as recorded: its operations validate and it has its fingerprint
        drops = tuple(op_from_dict(d) for d in row[1])
        ok = Plan(ctx.mapping.schema, drops, (), audit_table=ctx.mapping.audit_table).fingerprint == row[2]
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise WrongState(f"the plan recorded for contract {row[0]} cannot be read or does not match its "
                         "fingerprint: it is not reversed; nothing was changed")
    creates = tuple(d.reverse() for d in drops)
    plan = Plan(ctx.mapping.schema, creates, (), audit_table=ctx.mapping.audit_table)
    if dry_run:
        return ContractResult(ctx.run_id, "planned", run["id"], plan)
    window = _run(ctx, conn, plan, row[0], "contract_undo", "undone", record=False)
    return ContractResult(ctx.run_id, "restored", run["id"], plan, lock_window_s=window)


def _run(ctx: RunContext, conn, plan: Plan, run_id: str, event: str, status: str, record: bool) -> float:
    """The plan's steps in one lock transaction, with the audit row and the status: with
    ``record``, of this run's own row (a contract), else of ``run_id``'s (its undo)."""
    if record:
        state.ensure(conn)
        with conn.cursor() as cur:
            cur.execute("INSERT INTO runbook.runs (id, fingerprint, status, plan, summary, lock_tables, run_by) "
                        "VALUES (%s, %s, 'contracting', %s, %s, '[]'::jsonb, session_user)",
                        (ctx.run_id, plan.fingerprint, Json([op_to_dict(o) for o in plan.ops]),
                         Json({"migration": run_id})))
    bar = progress(len(plan.ops), event.replace("_", " "), ctx.opt.progress)
    try:
        window, _, _ = LockPhase(ctx).run(conn, plan, 0, bar, event=event,
                                          mark=(ctx.run_id if record else run_id, status))
    except BaseException as exc:
        if record:  # rolled back: nothing was dropped
            ctx.set_status("failed", {"migration": run_id, "error": ctx.failure_message(exc)})
        ctx.audit_own_tx(f"{event}_failed", error=ctx.failure_message(exc))
        raise
    finally:
        bar.close()
    ctx.log(f"{event}: {len(plan.ops)} steps, lock window {window * 1000:.1f} ms")
    return window


def validate(quiet_for: str) -> None:
    """The arguments checked before anything connects."""
    duration_ms(quiet_for, "--quiet-for")


__all__ = ["ContractResult", "ViewUse", "contract", "contracted_views", "validate"]
