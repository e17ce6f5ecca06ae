"""The runner: one at a time, backup first, one transaction, verify, or undo.

Order of a run (spec 2.4 and 5.2):

1. advisory lock (one runner per database), snapshot, plan (conflicts stop here);
2. preflight checks (spec 6.2): nothing has changed yet;
3. ``pg_dump`` backup, verified with ``pg_restore --list``; then the baseline counts;
4. *prepare* phase, online: batched fills, ``NOT VALID`` checks validated;
5. *lock* phase: one transaction with ``lock_timeout``/``statement_timeout``, the
   locks taken in one ``LOCK TABLE`` statement, catalog-only steps, each step's own
   check, the ``migration_complete`` audit row, COMMIT. On SQLSTATE 55P03 (lock not
   available) the transaction is retried with capped exponential backoff and jitter;
6. *finish* phase, online: ``VALIDATE CONSTRAINT``;
7. verification against the baseline; a failed verification rolls the plan back.

Any failure before COMMIT leaves the database as it was (the prepare steps are undone
by their reverses) and writes a ``migration_failed`` audit row in its own transaction.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

from .. import state
from ..catalog.inspect import Snapshot, inspect
from ..checks import Check, Kind
from ..connection import connect, redact
from ..errors import ConcurrentRun, LockTimeout, MigrationFailed, RollbackFailed, VerificationFailed, WrongState
from ..locks import ADVISORY_KEY
from ..mapping import Mapping
from ..ops import FINISH, LOCK, PREPARE, Op, op_to_dict
from ..options import approved_fingerprint as _approved, fingerprint_matches
from ..plan import Plan, build_plan
from ..verify import Verification, baseline, verify_state
from .backup import BackupInfo, BackupJob, data_tables, default_jobs, snapshot_backup, table_bytes
from .backup_partial import SCOPE, schema_and_changed_backup
from .context import RunContext, progress
from .failures import interruption, no_second_interrupt
from .faults import fault
from .lock_window import LockPhase
from .online import Online
from .options import Options
from .preflight import preflight, refusal
from .recovery import committed_in_db, finish_committed, recover_interrupted, undo_prepare
from .results import RunResult, StepResult
from .rollback import rollback_last, rollback_plan


def advisory_lock(url: str):
    """The connection that holds runbook's advisory lock on the database (one runner at a
    time); refused with who holds it."""
    conn = connect(url, application_name="runbook-lock", autocommit=True)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_KEY,))
        if not cur.fetchone()[0]:
            cur.execute("SELECT pid, application_name, extract(epoch FROM now() - backend_start)::int "
                        "FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                        "WHERE l.locktype = 'advisory' AND l.objid = %s AND l.granted LIMIT 1",
                        (ADVISORY_KEY & 0xFFFFFFFF,))
            row = cur.fetchone()
            conn.close()
            who = f" (pid {row[0]}, {row[1] or 'no application name'}, for {row[2]}s)" if row else ""
            raise ConcurrentRun(f"another runbook run holds the lock on this database{who}; try again when it ends")
    return conn


class Runner:
    """One migrate or rollback run against one database."""

    def __init__(self, url: str, mapping: Mapping, options: Options | None = None):
        self.ctx = RunContext(url, mapping, options or Options())
        # its row is in runbook.runs (status running): the lock batch marks it committed
        self.recorded = False
        self.lock = LockPhase(self.ctx)  # committed?, and the lock window, wait and attempts

    # -- rollback ---------------------------------------------------------------------------
    def rollback(self, *, drop_added: bool = False, dry_run: bool = False) -> RunResult:
        lock_conn = advisory_lock(self.ctx.url)
        conn = connect(self.ctx.url, application_name="runbook", autocommit=True)
        try:
            return rollback_last(self.ctx, conn, drop_added=drop_added, dry_run=dry_run)
        finally:
            conn.close()
            lock_conn.close()
            self.ctx.log.close()

    # -- migrate ----------------------------------------------------------------------------
    def migrate(self, *, dry_run=False, rehearse=False, approved_fingerprint: str | None = None) -> RunResult:
        ctx = self.ctx
        approved = _approved(approved_fingerprint)  # malformed: refused before connecting
        lock_conn = None
        conn = None
        job = None
        try:
            lock_conn = advisory_lock(ctx.url)
            conn = connect(ctx.url, application_name="runbook", autocommit=True)
            recover_interrupted(ctx, conn)
            snap = ctx.timed("analyse", inspect, conn)
            pending = state.last_run(conn)
            if pending is not None and pending["status"] == "committed":
                return self._committed_before(conn, snap, pending, dry_run, rehearse)
            plan = build_plan(snap, ctx.mapping, strict=True)
            ctx.log(f"run {ctx.run_id} on {redact(ctx.url)}: plan {plan.short_fingerprint}, {len(plan.ops)} operations")
            if plan.empty:
                ctx.log("nothing to do: the database is already in the target state")
                return RunResult(ctx.run_id, "migrate", "nothing to do", plan.fingerprint, plan,
                                 log_file=ctx.logname(), message="nothing to do: already migrated")
            if approved is not None and not fingerprint_matches(approved, plan.fingerprint):
                raise WrongState(f"the plan to run ({plan.short_fingerprint}) is not the approved one "
                                 f"({approved[:12]}); re-run the analysis and approve again")
            checks = ctx.timed("preflight", preflight, conn, snap, plan, ctx.url, ctx.opt)
            for c in checks:
                ctx.log(f"preflight {'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
            if dry_run:
                return RunResult(ctx.run_id, "dry-run", "planned", plan.fingerprint, plan, preflight=tuple(checks),
                                 log_file=ctx.logname(), timings=dict(ctx.timings))
            refused = refusal(checks)
            if refused is not None:
                raise refused
            # pg_dump only reads: the baseline is taken while it runs, and nothing changes
            # before the backup is on disk and verified
            snapshot = self._snapshot() if ctx.opt.backup and ctx.opt.backup_command and not rehearse else None
            if ctx.opt.backup and not ctx.opt.backup_command and not rehearse:
                if ctx.opt.backup_scope == SCOPE:  # the schema and the changed rows' keys: seconds, not minutes
                    snapshot = self._schema_backup(conn, plan)
                else:
                    job = self._start_backup(conn)
            base = self._baseline(conn, snap, plan, backup_running=job is not None)
            backup = self._backup_done(job, snap, plan) if job is not None else snapshot
            if not rehearse:
                self._record_start(conn, plan, base)
            return self._execute(conn, plan, base, checks, backup, rehearse)
        except KeyboardInterrupt as exc:  # before any step ran (the steps say their own state)
            raise MigrationFailed(f"{interruption(exc)} before any step ran (analysis, preflight, backup or "
                                  "baseline): nothing was changed") from None
        finally:
            if job is not None and not job.done:  # stopped before the backup was needed
                job.cancel()
                ctx.log("backup: pg_dump stopped, partial file removed")
            if conn is not None:
                conn.close()
            if lock_conn is not None:
                lock_conn.close()
            ctx.log.close()

    def _committed_before(self, conn, snap: Snapshot, pending: dict, dry_run: bool, rehearse: bool) -> RunResult:
        """The last migration committed without its verification: a dry run says so, a
        rehearsal is refused, a migration finishes and verifies it."""
        if dry_run:
            return RunResult(self.ctx.run_id, "dry-run", "planned", pending["fingerprint"],
                             Plan.from_stored(snap, self.ctx.mapping, pending), log_file=self.ctx.logname(),
                             message=f"migration {pending['id']} committed without verification: "
                                     "`runbook migrate` finishes and verifies it")
        if rehearse:
            raise WrongState(f"migration {pending['id']} committed without verification: run "
                             "`runbook migrate` (or `runbook verify`) first; nothing was changed")
        plan = finish_committed(self.ctx, conn, snap, pending)
        return self._verify_committed(conn, plan, pending["baseline"], (), None, run_id=pending["id"], resumed=True)

    def _start_backup(self, conn) -> BackupJob:
        opt = self.ctx.opt
        expected = table_bytes(conn) if opt.progress and not opt.backup_compress else None
        # the default (None): a directory-format dump by 2 jobs, or one file when the
        # connections they need are not allowed
        jobs = opt.backup_jobs if opt.backup_jobs is not None else default_jobs(conn)
        job = BackupJob(self.ctx.url, Path(opt.backup_dir), f"backup-{self.ctx.run_id}", conn.server_version,
                        compress=opt.backup_compress, expected_bytes=expected, progress=opt.progress, jobs=jobs)
        how = f"directory format, {jobs} jobs" if jobs else "custom format, one file"
        if opt.backup_jobs is None:
            how += " (the default" + ("" if jobs else ": the connections for 2 jobs are not allowed") + ")"
        self.ctx.log(f"backup: pg_dump started ({how}; the baseline is taken while it runs)")
        return job

    def _baseline(self, conn, snap: Snapshot, plan: Plan, *, backup_running: bool) -> dict:
        ctx = self.ctx
        if backup_running and ctx.opt.crud_check and ctx.mapping.service.configured:
            # the verification's service check: import it while pg_dump works (here, not
            # on a thread: concurrent imports of one package can fail)
            importlib.import_module("runbook.compat.service")
        if backup_running:  # pg_dump and its server process have the CPUs: no parallel workers
            with conn.cursor() as cur:
                cur.execute("SET max_parallel_workers_per_gather = 0")
        base = ctx.timed("baseline", baseline, conn, snap, plan, ctx.mapping, checksums=ctx.opt.checksums)
        if backup_running:
            with conn.cursor() as cur:
                cur.execute("RESET max_parallel_workers_per_gather")
        return base

    def _schema_backup(self, conn, plan: Plan) -> BackupInfo:
        """``--backup schema+changed``, before the baseline and before anything changes."""
        ctx = self.ctx
        info = ctx.timed("backup", schema_and_changed_backup, ctx.url, conn, Path(ctx.opt.backup_dir),
                         f"backup-{ctx.run_id}", plan)
        ctx.log(f"backup: {info.output}")
        return info

    def _snapshot(self) -> BackupInfo:
        """The operator's snapshot command, before anything changes (runbook cannot verify it)."""
        ctx = self.ctx
        ctx.log("backup: the snapshot command runs (instead of pg_dump)")
        info = ctx.timed("backup", snapshot_backup, ctx.opt.backup_command, ctx.url, ctx.run_id)
        ctx.log(f"backup: the snapshot command succeeded in {info.seconds:.2f}s; its output: "
                + (" | ".join(info.output.splitlines()[-5:]) or "none"))
        return info

    def _backup_done(self, job: BackupJob, snap: Snapshot, plan: Plan) -> BackupInfo:
        backup = job.wait(expect_tables=data_tables(snap, [t.oid for t in plan.tables if t.oid]))
        self.ctx.timings["backup"] = backup.seconds
        self.ctx.log(f"backup: {backup.path} ({backup.bytes:,} bytes, {backup.toc_entries} entries, "
                     f"verified with pg_restore --list) in {backup.seconds:.2f}s (pg_dump {backup.dump_s:.2f}s, "
                     f"fsync {backup.fsync_s:.2f}s, pg_restore --list {backup.list_s:.2f}s)")
        return backup

    def _record_start(self, conn, plan: Plan, base: dict) -> None:
        """The run's row in runbook.runs (its plan, to roll back; its baseline, to verify)
        and its migration_start audit row."""
        ctx = self.ctx
        state.ensure(conn)
        state.record_run(conn, ctx.run_id, plan.fingerprint, [op_to_dict(o) for o in plan.ops], base,
                         lock_tables=list(plan.lock_tables))
        self.recorded = True
        ctx.audit_own_tx("migration_start", fingerprint=plan.fingerprint, operations=len(plan.ops),
                         database=redact(ctx.url))

    # -- the three phases -------------------------------------------------------------------
    def _execute(self, conn, plan: Plan, base: dict, checks, backup, rehearse: bool) -> RunResult:
        ctx = self.ctx
        done_prepare: list[Op] = []
        # a rehearsal runs the prepare and lock steps, not the finish: its bar counts those
        steps = len(plan.phase(PREPARE)) + len(plan.phase(LOCK)) if rehearse else len(plan.ops)
        bar = progress(steps, "rehearse" if rehearse else "migrate", ctx.opt.progress)
        step_no = 0
        try:
            if rehearse:
                # A rehearsal runs its prepare steps inside its one transaction too: the
                # ROLLBACK takes them back with the rest, so nothing can remain (writers to a
                # filled table wait from its fill to the end of the rehearsal).
                window, wait, attempts = self.lock.run(conn, plan, len(plan.phase(PREPARE)), bar, rehearse=True,
                                                       base_tables=base["tables"], prepare=list(plan.phase(PREPARE)))
                bar.close()
                ctx.log(f"rehearsal rolled back; lock window would be {window * 1000:.1f} ms")
                return RunResult(ctx.run_id, "rehearse", "rehearsed", plan.fingerprint, plan, tuple(ctx.steps),
                                 tuple(checks), None, window, wait, attempts, log_file=ctx.logname(),
                                 timings=dict(ctx.timings))
            # -- phase 1: prepare, online ------------------------------------------------
            online = Online(ctx)  # no tables yet: a lock timeout here names no blocker (as it always did)
            for op in plan.phase(PREPARE):
                step_no += 1
                fault(step_no, "before")
                t0 = time.perf_counter()
                # listed before it runs: a step that fails half way (ADD committed, VALIDATE
                # failed) is undone too; every prepare step's reverse is idempotent
                done_prepare.append(op)
                online.run(conn, op)
                ctx.steps.append(StepResult(step_no, op.phase, op.kind, op.describe(), time.perf_counter() - t0))
                ctx.log(f"step {step_no} {op.describe()}: {time.perf_counter() - t0:.3f}s")
                bar.update(1)
                fault(step_no, "after")
            # -- phase 2: the lock window ------------------------------------------------
            self.lock.run(conn, plan, step_no, bar, base_tables=base["tables"], mark_committed=self.recorded)
            step_no += len(plan.phase(LOCK))
            # -- phase 3: finish, online ---------------------------------------------------
            online = Online(ctx, [t for t in plan.tables if t.oid])
            for op in plan.phase(FINISH):
                step_no += 1
                fault(step_no, "before")
                t0 = time.perf_counter()
                online.run(conn, op)
                ctx.steps.append(StepResult(step_no, op.phase, op.kind, op.describe(), time.perf_counter() - t0))
                bar.update(1)
                fault(step_no, "after")
            fault("verify", "before")
        except BaseException as exc:
            bar.close()
            error = self._failed(conn, exc, plan, step_no, done_prepare, rehearse)
            if error is None:
                raise
            raise error from None
        bar.close()
        return self._verify_committed(conn, plan, base, checks, backup)

    def _failed(self, conn, exc: BaseException, plan: Plan, step_no: int, done_prepare: list[Op],
                rehearse: bool) -> MigrationFailed | None:
        """After a failure at step ``step_no``: the prepare steps undone unless the lock
        transaction committed, the audit row, the run's status; then the error to raise
        (None: ``exc`` itself)."""
        ctx = self.ctx
        with no_second_interrupt():
            committed = not rehearse and (self.lock.committed
                                          or (self.recorded and committed_in_db(ctx.url, ctx.run_id)))
            if not committed:
                undo_prepare(ctx, conn, done_prepare)
            msg = interruption(exc) or ctx.failure_message(exc)
            ctx.log(f"FAILED: {msg}")
            if not rehearse:  # a rehearsal leaves no trace, not even an audit row
                ctx.audit_own_tx("migration_failed", fingerprint=plan.fingerprint, error=msg, step=step_no)
                if committed:  # the rename is in; what is missing is the finish and the check
                    ctx.set_status("committed", {"verified": False, "interrupted" if interruption(exc)
                                                 else "error": msg, "step": step_no})
                else:
                    ctx.set_status("failed", {"error": msg})
        if committed:
            what = (f"{msg} after the migration committed" if interruption(exc)
                    else f"the rename committed but a finish step failed: {msg}")
            return MigrationFailed(f"{what}: the tables have their new names; it is recorded as committed, "
                                   "not verified: `runbook migrate` (or `runbook verify`) finishes and verifies it",
                                   step=step_no)
        if interruption(exc):
            return MigrationFailed(f"{msg} before the migration committed"
                                   + (" (rehearsal)" if rehearse else "")
                                   + ": its transaction was rolled back and its prepare steps undone; "
                                   "the database is as it was", step=step_no)
        if isinstance(exc, (LockTimeout, MigrationFailed)):
            return None
        return MigrationFailed(f"step {step_no} failed: {msg}; the database was left as it was", step=step_no)

    # -- verification (spec 9.1) ------------------------------------------------------------
    def _verify_committed(self, conn, plan: Plan, base: dict, checks, backup: BackupInfo | None,
                          run_id: str | None = None, resumed: bool = False) -> RunResult:
        """Verification of a committed migration; a failure rolls it back (not when
        resuming an earlier run's verification: then it is reported)."""
        ctx, lock = self.ctx, self.lock
        run_id = run_id or ctx.run_id
        ver = self._verification(conn, plan, base)
        for c in ver.checks:
            if not c.ok:
                ctx.log(f"verify FAIL {c.name}: {c.detail}")
        if not ver.ok:
            self._revert(plan, base, ver, backup, run_id, resumed)
        ctx.set_status("migrated", {"verified": True, "lock_window_s": lock.window, "timings": ctx.timings},
                       run_id=run_id)
        ctx.log(f"migrated: lock window {lock.window * 1000:.1f} ms, {len(ver.checks)} checks passed")
        return RunResult(ctx.run_id, "migrate", "migrated", plan.fingerprint, plan, tuple(ctx.steps), tuple(checks),
                         backup, lock.window, lock.wait, lock.attempts, ver, tuple(ctx.audit_rows), ctx.logname(),
                         dict(ctx.timings),
                         message=f"verified migration {run_id}, which had committed without verification"
                         if resumed else "")

    def _verification(self, conn, plan: Plan, base: dict) -> Verification:
        ctx = self.ctx
        try:
            after = inspect(conn)
            return ctx.timed("verify", verify_state, conn, after, plan, base, quiesced=ctx.opt.quiesced,
                             url=ctx.url if ctx.opt.crud_check else None, service=ctx.mapping.service)
        except KeyboardInterrupt as exc:
            raise MigrationFailed(f"{interruption(exc)} after the migration committed, during its verification: "
                                  "the tables have their new names; it is recorded as committed, not verified: "
                                  "`runbook migrate` (or `runbook verify`) verifies it") from None
        except Exception as exc:  # a check that cannot run is a check that failed
            return Verification((Check("verification ran", False, ctx.failure_message(exc), kind=Kind.RUN),))

    def _revert(self, plan: Plan, base: dict, ver: Verification, backup: BackupInfo | None, run_id: str,
                resumed: bool) -> None:
        """A failed verification: the migration rolled back (by a run of its own), or, when
        resuming an earlier run's verification, reported. Always raises."""
        ctx = self.ctx
        first = ver.failed[0]
        if resumed:
            raise VerificationFailed(f"verification of migration {run_id} failed: {first.name}: {first.detail}; "
                                     "it stays recorded as committed, not verified: `runbook rollback` undoes it")
        ctx.log("verification failed: rolling back")
        try:
            rollback_plan(RunContext(ctx.url, ctx.mapping, ctx.opt), plan, base, drop_added=True,
                          reason="verify failed")
        except Exception as exc:  # sqitch: say plainly that the schema needs repair
            raise RollbackFailed(f"verification failed ({first.name}) and the rollback failed too: "
                                 f"{ctx.failure_message(exc)}; the schema needs manual repair "
                                 f"(backup: {backup.path if backup else 'none'})") from None
        ctx.set_status("rolled back", {"error": f"verification failed: {first.name}"})
        raise VerificationFailed(f"verification failed: {first.name}: {first.detail}; the migration was rolled back")
