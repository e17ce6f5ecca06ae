"""Rollback (spec 2.3): the last migration's own plan, reversed, in one transaction.

:func:`rollback_last` undoes the migration recorded last, refused unless the database is
in the state it left; :func:`rollback_plan` runs a plan's reverse (also when a migration's
verification fails). The reversed lock and prepare steps all run in the lock window;
the NULLs a fill replaced are put back online afterwards (resumable). With
``drop_added``, the tables that lose columns are dumped first.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from .. import state
from ..catalog.inspect import inspect
from ..connection import connect
from ..errors import BackupFailed, LockTimeout, RollbackFailed, WrongState
from ..merge import merged_rows_present
from ..naming import qq
from ..ops import FINISH, LOCK, FillNulls, Op, end_checks, without_views
from ..plan import Plan
from ..verify import verify_state
from .backup import BackupInfo, BackupJob, data_tables, default_jobs, free_bytes
from .context import RunContext, progress
from .contract import contracted_views
from .lock_window import LockPhase
from .online import Online
from .recovery import recover_interrupted
from .results import RunResult, StepResult


def rollback_last(ctx: RunContext, conn, *, drop_added: bool, dry_run: bool) -> RunResult:
    """Undo the last recorded migration (or finish its interrupted rollback); first undo
    what an interrupted run left. The caller holds the advisory lock."""
    undone = recover_interrupted(ctx, conn)
    run = state.last_run(conn)
    if run is None and undone:
        return RunResult(ctx.run_id, "rollback", "rolled back", "", Plan(ctx.mapping.schema, (), ()),
                         log_file=ctx.logname(),
                         message=f"undid the prepare steps of interrupted run {', '.join(undone)}")
    if run is None:
        raise WrongState("nothing to roll back: no completed runbook migration is recorded in this database")
    merge_id = merged_rows_present(conn)
    if merge_id:
        raise WrongState(f"legacy rows merged by run {merge_id} are in the renamed tables: "
                         "run `runbook merge-legacy --rollback` first")
    snap = inspect(conn)
    plan0 = Plan.from_stored(snap, ctx.mapping, run)  # refused if it no longer matches its fingerprint
    if contracted_views(conn, run["id"]):  # its compat views were dropped by a contract run of their own
        plan0 = replace(plan0, ops=without_views(plan0.ops))
    if run["status"] == "restoring":  # an interrupted rollback: only its online part is left
        return _finish_restoring(ctx, conn, plan0, run, drop_added)
    _refuse_unless_left_by(conn, plan0, run)
    rev = plan0.reverse(drop_added)
    if dry_run:
        return RunResult(ctx.run_id, "rollback", "planned", run["fingerprint"], rev)
    backup = backup_before_drop(ctx, conn, rev)
    ctx.audit_own_tx("rollback_start", fingerprint=run["fingerprint"], migration=run["id"])
    return rollback_plan(ctx, plan0, run["baseline"], drop_added=drop_added, reason="requested",
                         migration_id=run["id"], conn=conn, backup=backup)


def _finish_restoring(ctx: RunContext, conn, plan0: Plan, run: dict, drop_added: bool) -> RunResult:
    rev = plan0.reverse(drop_added)
    restore_online(ctx, conn, rev, run["id"], tables=())
    _set_rolled_back(conn, run["id"])
    ver = verify_state(conn, inspect(conn), plan0, run["baseline"], direction="back", quiesced=ctx.opt.quiesced)
    return RunResult(ctx.run_id, "rollback", "rolled back" if ver.ok else "failed", plan0.fingerprint,
                     rev, tuple(ctx.steps), verification=ver, log_file=ctx.logname(),
                     message="finished an interrupted rollback: NULLs put back")


def _refuse_unless_left_by(conn, plan0: Plan, run: dict) -> None:
    """Refused unless the database is in the state the plan left: each lock step's check
    holds (a fill's may not: rows written since may hold NULLs again)."""
    differs = []
    with conn.cursor() as cur:
        checks = [o for o in plan0.ops if o.phase == LOCK]
        if checks:
            cur.execute("SELECT " + ", ".join(f"({c})" for c in end_checks(checks)))
            for o, ok in zip(checks, cur.fetchone()):
                if not ok and not isinstance(o, FillNulls):
                    differs.append(o.describe())
    if differs:
        raise WrongState(f"the database is not in the state migration {run['id']} left: "
                         f"{differs[0]} no longer holds" + (f" (and {len(differs) - 1} more)" if len(differs) > 1 else ""))


def _set_rolled_back(conn, migration_id: str) -> None:
    with conn.cursor() as cur:
        cur.execute("UPDATE runbook.runs SET status = 'rolled back', finished_at = now() WHERE id = %s",
                    (migration_id,))


def backup_before_drop(ctx: RunContext, conn, rev: Plan) -> BackupInfo | None:
    """``rollback --drop-added-columns`` drops what was written into the added columns
    since the migration: dump the tables it drops columns from first, and verify it."""
    opt = ctx.opt
    tables = sorted({(o.schema, o.table_name) for o in rev.ops if o.drops_data and getattr(o, "table_name", None)})
    if not tables or not opt.backup:
        return None
    # a dropped column goes from every partition and inheritance child too: their data
    # is dumped with the table (pg_dump --table of a partitioned table dumps no rows)
    snap = inspect(conn)
    leaves = data_tables(snap, [x.oid for x in (snap.table(s, t) for s, t in tables) if x])
    with conn.cursor() as cur:
        cur.execute("SELECT coalesce(sum(pg_total_relation_size(to_regclass(t))), 0) FROM unnest(%s::text[]) t",
                    ([qq(s, t) for s, t in dict.fromkeys(tables + leaves)],))
        size = int(cur.fetchone()[0])
    try:
        free = free_bytes(Path(opt.backup_dir))
    except OSError as exc:
        raise BackupFailed(f"backup folder {opt.backup_dir}: {exc.strerror}; nothing was changed") from None
    if free < size * 1.2:
        raise BackupFailed(f"backup folder {opt.backup_dir}: {free / 2**20:,.0f} MiB free, about "
                           f"{size * 1.2 / 2**20:,.0f} MiB needed; nothing was changed")
    names = ", ".join(t for _, t in tables)
    # as the migration's: a directory-format dump by 2 jobs where the connections allow
    # it (--backup-jobs N; 0: one custom-format file)
    jobs = opt.backup_jobs if opt.backup_jobs is not None else default_jobs(conn)
    ctx.log(f"backup before dropping added columns: pg_dump of {names} "
            f"({f'directory format, {jobs} jobs' if jobs else 'custom format, one file'}) ...")
    job = BackupJob(ctx.url, Path(opt.backup_dir), f"backup-{ctx.run_id}-before-rollback",
                    conn.server_version, compress=opt.backup_compress, expected_bytes=size,
                    progress=opt.progress, tables=list(dict.fromkeys(tables + leaves)), jobs=jobs)
    info = job.wait(expect_tables=leaves)
    ctx.log(f"backup: {info.path} ({info.bytes:,} bytes, {info.toc_entries} entries, "
            f"verified with pg_restore --list) in {info.seconds:.2f}s")
    ctx.timings["backup"] = info.seconds
    return info


def rollback_plan(ctx: RunContext, plan: Plan, base: dict, *, drop_added: bool, reason: str,
                  migration_id: str | None = None, conn=None, backup: BackupInfo | None = None) -> RunResult:
    """Run ``plan``'s reverse: its lock window, then the NULLs put back online; verified
    against the baseline ``base`` (``direction="back"``)."""
    own = conn is None
    if own:
        conn = connect(ctx.url, application_name="runbook", autocommit=True)
    try:
        rev = plan.reverse(drop_added)
        in_lock = lock_plan(rev)
        # the bar counts the steps of the lock window, the ones it shows finishing (the
        # NULLs restored online after it have their own bars)
        bar = progress(len(in_lock.ops), "rollback", ctx.opt.progress)
        try:
            # the rollback's audit row is written in its lock transaction; its fingerprint
            # is that of the reversed steps as the lock window runs them
            window, wait, attempts = LockPhase(ctx).run(conn, in_lock, 0, bar, event="rollback")
        except BaseException as exc:
            bar.close()
            msg = ctx.failure_message(exc)
            ctx.audit_own_tx("rollback_failed", fingerprint=plan.fingerprint, error=msg)
            if isinstance(exc, LockTimeout):
                raise
            raise RollbackFailed(f"rollback failed: {msg}; nothing was changed by it") from None
        bar.close()
        restore_online(ctx, conn, rev, migration_id, tables=[t for t in rev.tables if t.oid])
        if migration_id:
            _set_rolled_back(conn, migration_id)
        after = inspect(conn)
        ver = verify_state(conn, after, plan, base, direction="back", quiesced=ctx.opt.quiesced)
        ctx.log(f"rolled back ({reason}): lock window {window * 1000:.1f} ms; "
                f"{sum(c.ok for c in ver.checks)}/{len(ver.checks)} checks pass")
        return RunResult(ctx.run_id, "rollback", "rolled back" if ver.ok else "failed", plan.fingerprint, rev,
                         tuple(ctx.steps), (), backup, window, wait, attempts, ver, tuple(ctx.audit_rows),
                         ctx.logname(), dict(ctx.timings))
    finally:
        if own:
            conn.close()


def restore_online(ctx: RunContext, conn, rev: Plan, migration_id: str | None, tables) -> None:
    """The rollback's finish phase: the rows the fill changed get their NULLs back,
    online, in batches, after the lock transaction committed. Resumable: a re-run of
    ``runbook rollback`` finishes it. ``tables``: whose lock holders a lock timeout names."""
    if not rev.phase(FINISH):
        return
    if migration_id:
        with conn.cursor() as cur:
            cur.execute("UPDATE runbook.runs SET status = 'restoring' WHERE id = %s", (migration_id,))
    online = Online(ctx, tables)
    try:
        for op in rev.phase(FINISH):
            t0 = time.perf_counter()
            online.run(conn, op)
            ctx.steps.append(StepResult(len(ctx.steps) + 1, op.phase, op.kind, op.describe(),
                                        time.perf_counter() - t0))
    except Exception as exc:
        raise RollbackFailed(f"the tables have their old names again, but putting back the NULLs failed: "
                             f"{ctx.failure_message(exc)}; the rows are still recorded: re-run "
                             "`runbook rollback` to finish") from None


def lock_plan(rev: Plan) -> Plan:
    """The reverse plan as its lock window runs it: every step but the NULL restore
    (the finish phase), each inside the one transaction whatever its phase."""
    return Plan(rev.schema, tuple(_as_lock(o) for o in rev.ops if o.phase != FINISH), rev.tables, (), (),
                rev.lock_tables, rev.audit_table)


def _as_lock(op: Op) -> Op:
    if op.phase == LOCK:
        return op
    # an op object whose phase reads LOCK: wrap without changing its SQL
    cls = type(op)
    new_cls = type(cls.__name__, (cls,), {"phase": LOCK})
    return new_cls(**{f: getattr(op, f) for f in op.__dataclass_fields__})
