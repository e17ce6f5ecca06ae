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
import json
import logging
import os
import random
import secrets
import signal
import socket
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import psycopg2
from psycopg2 import errorcodes

from . import audit, state
from .backup import BackupInfo, BackupJob, check_pg_dump, data_tables, estimated_size, free_bytes, table_bytes
from .backup import dump_problems, problems_line
from .catalog.inspect import Snapshot, inspect
from .connection import connect, redact
from .errors import (BackupFailed, ConcurrentRun, LockTimeout, MigrationFailed, NotOwner, PreflightFailed,
                     RollbackFailed, ServerTooOld, ToolMissing, VerificationFailed, WrongState)
from .errors import DumpNotPossible, MappingError
from .locks import ADVISORY_KEY
from .mapping import Mapping
from .naming import literal, q, qq
from .ops import FINISH, LOCK, PREPARE, FillNulls, Op, RestoreNulls, _reg, op_from_dict, op_to_dict
from .plan import Plan, build_plan
from .verify import Verification, baseline, storage_pairs, verify_state

MIN_SERVER = 120000  # SET NOT NULL skipping its scan on a validated CHECK: PostgreSQL 12

log = logging.getLogger("runbook")
_jitter = random.SystemRandom()


@dataclass(frozen=True)
class Options:
    lock_timeout: str = "5s"
    statement_timeout: str = "60s"
    attempts: int = 5
    # Online DDL (fill trigger, NOT VALID check, validation) must not sit in the lock queue
    # with writers stuck behind it: a short wait, given up and retried many times.
    online_lock_timeout: str = "100ms"
    online_attempts: int = 40
    backoff_base: float = 0.2
    backoff_cap: float = 5.0
    batch_size: int = 5000
    backup: bool = True
    backup_dir: str = "outputs/backups"
    backup_compress: bool = False
    log_dir: str = "outputs/logs"
    checksums: str = "auto"  # auto | all | none
    quiesced: bool = True
    progress: bool = True
    crud_check: bool = True
    fill_scan: str = "auto"  # auto: by heap pages on PostgreSQL 14+, else up the key | pages | key

    def __post_init__(self):
        """Every value checked here, before anything connects (the command line, the API
        and the notebooks all build an Options): a bad one is one line, exit 2."""
        from . import options as v

        fix = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        for k in ("lock_timeout", "statement_timeout", "online_lock_timeout"):
            fix(k, v.duration(getattr(self, k), k.replace("_", " ")))
        fix("attempts", v.count(self.attempts, "attempts", 1, 1000))
        fix("online_attempts", v.count(self.online_attempts, "online attempts", 1, 10_000))
        fix("batch_size", v.count(self.batch_size, "batch size", 1, 10_000_000))
        fix("backoff_base", v.seconds(self.backoff_base, "backoff base"))
        fix("backoff_cap", v.seconds(self.backoff_cap, "backoff cap"))
        for k in ("backup_dir", "log_dir"):
            fix(k, v.path(getattr(self, k), k.replace("_", " ")))
        fix("checksums", v.choice(self.checksums, "checksums", ("auto", "all", "none")))
        fix("fill_scan", v.choice(self.fill_scan, "fill scan", ("auto", "pages", "key")))
        for k in ("backup", "backup_compress", "quiesced", "progress", "crud_check"):
            v.flag(getattr(self, k), k.replace("_", " "))


@dataclass(frozen=True)
class StepResult:
    step: int
    phase: str
    kind: str
    description: str
    seconds: float
    lock_wait_s: float = 0.0
    attempt: int = 1


@dataclass(frozen=True)
class PreflightCheck:
    name: str
    ok: bool
    detail: str
    blocking: bool = True


@dataclass(frozen=True)
class RunResult:
    run_id: str
    action: str  # migrate | rehearse | dry-run | rollback | nothing
    status: str  # migrated | rehearsed | planned | rolled back | nothing to do | failed
    fingerprint: str
    plan: Plan
    steps: tuple[StepResult, ...] = ()
    preflight: tuple[PreflightCheck, ...] = ()
    backup: BackupInfo | None = None
    lock_window_s: float = 0.0
    lock_wait_s: float = 0.0
    attempts: int = 0
    verification: Verification | None = None
    audit_rows: tuple[dict, ...] = ()
    log_file: str | None = None
    timings: dict = field(default_factory=dict)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def summary(self) -> dict:
        return {
            "run_id": self.run_id, "action": self.action, "status": self.status,
            "fingerprint": self.fingerprint, "operations": len(self.plan.ops),
            "lock_window_s": round(self.lock_window_s, 6), "lock_wait_s": round(self.lock_wait_s, 6),
            "attempts": self.attempts, "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "backup": asdict(self.backup) if self.backup else None,
            "steps": [asdict(s) for s in self.steps],
            "preflight": [asdict(p) for p in self.preflight],
            "verification": self.verification.to_dict() if self.verification else None,
            "log_file": self.log_file, "message": self.message,
        }


class _Log:
    """``migration-log-<timestamp>.txt``: every step, with times; never a password."""

    def __init__(self, folder: str | Path, stamp: str):
        self.path = None
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.path = Path(folder) / f"migration-log-{stamp}.txt"
            self.fh = open(self.path, "a", encoding="utf-8")
        except OSError:
            self.fh = None

    def __call__(self, msg: str) -> None:
        line = f"{datetime.now(timezone.utc).isoformat(timespec='milliseconds')} {msg}"
        log.info(msg)
        if self.fh:
            self.fh.write(line + "\n")
            self.fh.flush()

    def close(self):
        if self.fh:
            self.fh.close()


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _fault(step, where: str) -> None:
    """Test hook: ``RUNBOOK_FAULT=fail:<step>`` raises at that step, ``kill:<step>``
    SIGKILLs this process right after it (crash tests), ``pause:<step>`` waits right after
    it (``pause:verify``: before the verification) until a signal comes, at most 60 s,
    having touched the file ``$RUNBOOK_PAUSE_FILE`` (interruption tests)."""
    spec = os.environ.get("RUNBOOK_FAULT", "")
    if not spec or ":" not in spec:
        return
    mode, _, n = spec.partition(":")
    if n == str(step):
        if mode == "fail" and where == "before":
            raise RuntimeError(f"injected failure at step {step}")
        if mode == "kill" and where == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "pause" and (where == "after" or step == "verify"):
            flag = os.environ.get("RUNBOOK_PAUSE_FILE")
            if flag:
                Path(flag).write_text(f"paused at {step}\n")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                time.sleep(0.05)


def _interruption(exc: BaseException) -> str:
    """How a run was interrupted, said plainly ('' when it was not)."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (SIGINT: Ctrl-C)"
    return ""


class _no_second_interrupt:
    """While a failed run cleans up (undo, audit row, status), a second Ctrl-C is held
    back: the cleanup is what leaves the database as it was."""

    def __enter__(self):
        import threading

        self.old = None
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)
        return False


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", disable=not enabled, leave=True)


def _is_lock_timeout(exc: BaseException) -> bool:
    """Lock not available (55P03), or chosen as a deadlock victim (40P01): either way our
    transaction was rolled back before it changed anything, and trying again is safe."""
    return isinstance(exc, psycopg2.Error) and exc.pgcode in (errorcodes.LOCK_NOT_AVAILABLE,
                                                              errorcodes.DEADLOCK_DETECTED)


def _pg_message(exc: BaseException) -> str:
    if isinstance(exc, psycopg2.Error):
        return (exc.pgerror or str(exc)).strip().splitlines()[0].removeprefix("ERROR:").strip()
    return str(exc)


class Runner:
    """One migrate or rollback run against one database."""

    def __init__(self, url: str, mapping: Mapping, options: Options | None = None):
        self.url = url
        self.mapping = mapping
        self.opt = options or Options()
        # not the global `random`: a caller that seeds it (a notebook, hypothesis) must not
        # get the same id twice
        self.run_id = f"{_stamp()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.log = _Log(self.opt.log_dir, self.run_id.split("-")[0])
        self.steps: list[StepResult] = []
        self.timings: dict[str, float] = {}
        self.audit_rows: list[dict] = []

    # -- plumbing ---------------------------------------------------------------------
    def _lock_runner(self):
        conn = connect(self.url, application_name="runbook-lock", autocommit=True)
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

    def _audit(self, conn, event: str, **details) -> None:
        d = {"run_id": self.run_id, "at": datetime.now(timezone.utc).isoformat(), "host": socket.gethostname(),
             **details}
        at = self.mapping.audit_table
        alt = (self.mapping.final_name(at), self.mapping.old_name(at)) if at else ()
        self.audit_rows.append(audit.write(conn, self.mapping.schema, at, event, d, alternatives=alt))

    def _audit_own_tx(self, event: str, **details) -> None:
        try:
            c = connect(self.url, application_name="runbook-audit", autocommit=False)
            try:
                self._audit(c, event, **details)
                c.commit()
            finally:
                c.close()
        except Exception as exc:  # the audit must never hide the real failure
            self.log(f"could not write the {event} audit row: {_pg_message(exc)}")

    def _timed(self, name: str, fn, *a, **kw):
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0

    # -- preflight (spec 6.2) -------------------------------------------------------------
    def backup_checks(self, conn, server_version: int) -> list[PreflightCheck]:
        """What must hold before pg_dump starts: a pg_dump as new as the server, and room
        for the dump (estimated at 1.2x the database size) in the backup folder."""
        out = []
        try:
            out.append(PreflightCheck("pg_dump version", True, check_pg_dump(server_version)))
        except Exception as exc:
            out.append(PreflightCheck("pg_dump version", False, str(exc)))
        need = int(estimated_size(conn) * 1.2)
        try:
            free = free_bytes(Path(self.opt.backup_dir))
            out.append(PreflightCheck("disk space for the backup", free >= need,
                                      f"{free / 2**20:,.0f} MiB free, about {need / 2**20:,.0f} MiB needed"))
        except OSError as exc:
            out.append(PreflightCheck("disk space for the backup", False, f"{self.opt.backup_dir}: {exc.strerror}"))
        problems = dump_problems(conn)  # pg_dump would stop at the first of them
        out.append(PreflightCheck("pg_dump can read the whole database", not problems,
                                  problems_line(problems) or "every table, sequence and large object is readable"))
        return out

    def preflight(self, conn, snap: Snapshot, plan: Plan) -> list[PreflightCheck]:
        out = [PreflightCheck("database connection", True, f"{redact(self.url)} as {snap.current_user}")]
        ok_ver = snap.server_version >= MIN_SERVER
        out.append(PreflightCheck("server version", ok_ver, f"PostgreSQL {snap.server_version // 10000} "
                                  f"({'>= 12 needed' if not ok_ver else 'supported'})"))
        not_owned = []
        for st in plan.tables:
            t = snap.table_by_oid(st.oid) if st.oid else None
            if t and not (snap.is_superuser or t.owner in snap.member_of):
                not_owned.append(f"{t.name} (owner {t.owner})")
        # CREATE OR REPLACE FUNCTION needs the function's owner's privileges: refused here,
        # before the backup and the prepare steps, not in the lock phase
        from .ops import ReplaceFunction

        fns = [o for o in plan.ops if isinstance(o, ReplaceFunction)]
        fn_not_owned = []
        if fns and not snap.is_superuser:
            with conn.cursor() as cur:
                cur.execute("SELECT f, p.proowner::regrole::text FROM unnest(%s::text[]) f "
                            "JOIN pg_proc p ON p.oid = to_regprocedure(f) "
                            "WHERE NOT pg_has_role(p.proowner, 'USAGE')", ([o.regprocedure for o in fns],))
                fn_not_owned = [f"{f} (owner {owner})" for f, owner in cur.fetchall()]
        out.append(PreflightCheck("role owns the functions the plan rewrites", not fn_not_owned,
                                  "current role " + snap.current_user + (" does not own " + ", ".join(fn_not_owned)
                                  if fn_not_owned else f" owns the {len(fns)} functions the plan rewrites")))
        out.append(PreflightCheck("role owns the tables", not not_owned,
                                  "current role " + snap.current_user + (" does not own " + ", ".join(not_owned) if not_owned else " owns every table in the plan")))
        if self.opt.backup:
            out.extend(self.backup_checks(conn, snap.server_version))
        oids = {st.oid for st in plan.tables if st.oid}
        blockers = [a for a in snap.activity if set(a.locked_oids) & oids]
        out.append(PreflightCheck(
            "no session holds locks on the tables", not blockers,
            "; ".join(f"pid {a.pid} ({a.application or 'no application name'}) open {a.xact_age_s:.0f}s" for a in blockers)
            or "none", blocking=False))
        filled = {(o.table_name, o.column) for o in plan.phase(PREPARE) if type(o) is FillNulls}
        from .ops import AddNotNullCheck

        for op in plan.phase(PREPARE):
            if isinstance(op, AddNotNullCheck) and (op.table_name, op.column) not in filled:
                with conn.cursor() as cur:
                    cur.execute(f"SELECT count(*) FROM {qq(op.schema, op.table_name)} WHERE {q(op.column)} IS NULL")
                    n = cur.fetchone()[0]
                out.append(PreflightCheck("NOT NULL column has no NULL", n == 0,
                                          f"{op.table_name}.{op.column} has {n} NULL rows"
                                          + ("; give the mapping a fill_nulls value" if n else "")))
            if type(op) is FillNulls:
                col = snap.table(op.schema, op.table_name).column(op.column)
                ok, why = True, ""
                with conn.cursor() as cur:
                    try:
                        cur.execute(f"SELECT {literal(op.value)}::{col.type}")
                    except psycopg2.Error as exc:
                        ok, why = False, _pg_message(exc)
                out.append(PreflightCheck("fill value fits its column", ok,
                                          f"{op.value!r} for {op.table_name}.{op.column} ({col.type})"
                                          + (f": {why}" if why else "")))
        out.append(PreflightCheck("no naming conflicts", not plan.blockers,
                                  "; ".join(f"{b.object}: {b.reason}" for b in plan.blockers) or "none"))
        return out

    # -- the run ----------------------------------------------------------------------------
    def migrate(self, *, dry_run=False, rehearse=False, approved_fingerprint: str | None = None) -> RunResult:
        from .options import approved_fingerprint as _approved, fingerprint_matches

        approved = _approved(approved_fingerprint)  # malformed: refused before connecting
        lock_conn = None
        conn = None
        job = None
        try:
            lock_conn = self._lock_runner()
            conn = connect(self.url, application_name="runbook", autocommit=True)
            self.recover_interrupted(conn)
            snap = self._timed("analyse", inspect, conn)
            pending = state.last_run(conn)
            if pending is not None and pending["status"] == "committed":
                if dry_run:
                    return RunResult(self.run_id, "dry-run", "planned", pending["fingerprint"],
                                     stored_plan(snap, self.mapping, pending), log_file=self._logname(),
                                     message=f"migration {pending['id']} committed without verification: "
                                             "`runbook migrate` finishes and verifies it")
                if rehearse:
                    raise WrongState(f"migration {pending['id']} committed without verification: run "
                                     "`runbook migrate` (or `runbook verify`) first; nothing was changed")
                return self._resume(conn, snap, pending)
            plan = build_plan(snap, self.mapping, strict=True)
            self.log(f"run {self.run_id} on {redact(self.url)}: plan {plan.short_fingerprint}, {len(plan.ops)} operations")
            if plan.empty:
                self.log("nothing to do: the database is already in the target state")
                return RunResult(self.run_id, "migrate", "nothing to do", plan.fingerprint, plan,
                                 log_file=self._logname(), message="nothing to do: already migrated")
            if approved is not None and not fingerprint_matches(approved, plan.fingerprint):
                raise WrongState(f"the plan to run ({plan.short_fingerprint}) is not the approved one "
                                 f"({approved[:12]}); re-run the analysis and approve again")
            checks = self._timed("preflight", self.preflight, conn, snap, plan)
            for c in checks:
                self.log(f"preflight {'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
            if dry_run:
                return RunResult(self.run_id, "dry-run", "planned", plan.fingerprint, plan, preflight=tuple(checks),
                                 log_file=self._logname(), timings=dict(self.timings))
            failed = [c for c in checks if not c.ok and c.blocking]
            if failed:
                c = failed[0]
                cls = {"role owns the tables": NotOwner, "role owns the functions the plan rewrites": NotOwner,
                       "server version": ServerTooOld,
                       "pg_dump version": ToolMissing, "fill value fits its column": MappingError,
                       "pg_dump can read the whole database": DumpNotPossible,
                       "NOT NULL column has no NULL": MappingError}.get(c.name, PreflightFailed)
                raise cls(f"preflight: {c.name}: {c.detail}; nothing was changed")
            # pg_dump only reads: the baseline is taken while it runs, and nothing changes
            # before the backup is on disk and verified
            if self.opt.backup and not rehearse:
                job = self._start_backup(conn)
            if job is not None and self.opt.crud_check and self.mapping.service.configured:
                # the verification's service check: import it while pg_dump works (here, not
                # on a thread: concurrent imports of one package can fail)
                importlib.import_module("runbook.compat.service")
            if job is not None:  # pg_dump and its server process have the CPUs: no parallel workers
                with conn.cursor() as cur:
                    cur.execute("SET max_parallel_workers_per_gather = 0")
            base = self._timed("baseline", baseline, conn, snap, plan, self.mapping, checksums=self.opt.checksums)
            if job is not None:
                with conn.cursor() as cur:
                    cur.execute("RESET max_parallel_workers_per_gather")
            backup = None
            if job is not None:
                backup = job.wait(expect_tables=data_tables(snap, [t.oid for t in plan.tables if t.oid]))
                self.timings["backup"] = backup.seconds
                self.log(f"backup: {backup.path} ({backup.bytes:,} bytes, {backup.toc_entries} entries, "
                         f"verified with pg_restore --list) in {backup.seconds:.2f}s")
            if not rehearse:
                state.ensure(conn)
                state.record_run(conn, self.run_id, plan.fingerprint, [op_to_dict(o) for o in plan.ops], base,
                                 lock_tables=list(plan.lock_tables))
                self._run_recorded = True
                self._audit_own_tx("migration_start", fingerprint=plan.fingerprint, operations=len(plan.ops),
                                   database=redact(self.url))
            return self._execute(conn, snap, plan, base, checks, backup, rehearse)
        except KeyboardInterrupt as exc:  # before any step ran (the steps say their own state)
            raise MigrationFailed(f"{_interruption(exc)} before any step ran (analysis, preflight, backup or "
                                  "baseline): nothing was changed") from None
        finally:
            if job is not None and not job.done:  # stopped before the backup was needed
                job.cancel()
                self.log("backup: pg_dump stopped, partial file removed")
            if conn is not None:
                conn.close()
            if lock_conn is not None:
                lock_conn.close()
            self.log.close()

    def _start_backup(self, conn) -> BackupJob:
        expected = table_bytes(conn) if self.opt.progress and not self.opt.backup_compress else None
        job = BackupJob(self.url, Path(self.opt.backup_dir), f"backup-{self.run_id}", conn.server_version,
                        compress=self.opt.backup_compress, expected_bytes=expected, progress=self.opt.progress)
        self.log("backup: pg_dump started (the baseline is taken while it runs)")
        return job

    def recover_interrupted(self, conn) -> list[str]:
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
            lock_ops = [o for o in ops if o.phase == LOCK]
            committed = False
            if lock_ops:
                with conn.cursor() as cur:
                    try:
                        cur.execute(f"SELECT ({lock_ops[0].check()})")
                        committed = bool(cur.fetchone()[0])
                    except psycopg2.Error:
                        conn.rollback() if not conn.autocommit else None
            if committed:
                state.set_status(conn, run_id, "committed", {"recovered": "lock phase had committed"})
                self.log(f"recovered run {run_id}: its lock phase had committed")
                continue
            prep = [o for o in ops if o.phase == PREPARE]
            self._undo_prepare(conn, prep, quiet_missing=True)
            state.set_status(conn, run_id, "abandoned", {"recovered": f"undid {len(prep)} prepare steps"})
            self._audit_own_tx("migration_failed", error="run was interrupted; its prepare steps were undone",
                               interrupted_run=run_id)
            self.log(f"recovered run {run_id}: interrupted before COMMIT; undid its {len(prep)} prepare steps")
            undone.append(run_id)
        return undone

    def _logname(self):
        return str(self.log.path) if self.log.path else None

    def _execute(self, conn, snap, plan, base, checks, backup, rehearse) -> RunResult:
        self._base = base["tables"]
        done_prepare: list[Op] = []
        n_total = len(plan.ops)
        bar = _progress(n_total, "rehearse" if rehearse else "migrate", self.opt.progress)
        step_no = 0
        try:
            if rehearse:
                # A rehearsal runs its prepare steps inside its one transaction too: the
                # ROLLBACK takes them back with the rest, so nothing can remain (writers to a
                # filled table wait from its fill to the end of the rehearsal).
                window, wait, attempts = self._lock_phase(conn, plan, len(plan.phase(PREPARE)), True, bar,
                                                          prepare=list(plan.phase(PREPARE)))
                bar.close()
                self.log(f"rehearsal rolled back; lock window would be {window * 1000:.1f} ms")
                return RunResult(self.run_id, "rehearse", "rehearsed", plan.fingerprint, plan, tuple(self.steps),
                                 tuple(checks), None, window, wait, attempts, log_file=self._logname(),
                                 timings=dict(self.timings))
            # -- phase 1: prepare, online ------------------------------------------------
            for op in plan.phase(PREPARE):
                step_no += 1
                _fault(step_no, "before")
                t0 = time.perf_counter()
                # listed before it runs: a step that fails half way (ADD committed, VALIDATE
                # failed) is undone too; every prepare step's reverse is idempotent
                done_prepare.append(op)
                self._run_online(conn, op)
                self.steps.append(StepResult(step_no, op.phase, op.kind, op.describe(), time.perf_counter() - t0))
                self.log(f"step {step_no} {op.describe()}: {time.perf_counter() - t0:.3f}s")
                bar.update(1)
                _fault(step_no, "after")
            # -- phase 2: the lock window ------------------------------------------------
            window, wait, attempts = self._lock_phase(conn, plan, step_no, rehearse, bar)
            step_no += len(plan.phase(LOCK))
            # -- phase 3: finish, online ---------------------------------------------------
            for op in plan.phase(FINISH):
                step_no += 1
                _fault(step_no, "before")
                t0 = time.perf_counter()
                self._run_online(conn, op)
                self.steps.append(StepResult(step_no, op.phase, op.kind, op.describe(), time.perf_counter() - t0))
                bar.update(1)
                _fault(step_no, "after")
            _fault("verify", "before")
        except BaseException as exc:
            bar.close()
            with _no_second_interrupt():
                committed = not rehearse and (getattr(self, "_committed", False) or self._committed_in_db())
                if not committed:
                    self._undo_prepare(conn, done_prepare)
                msg = _interruption(exc) or self._failure_message(exc)
                self.log(f"FAILED: {msg}")
                if not rehearse:  # a rehearsal leaves no trace, not even an audit row
                    self._audit_own_tx("migration_failed", fingerprint=plan.fingerprint, error=msg, step=step_no)
                    if committed:  # the rename is in; what is missing is the finish and the check
                        self._set_status("committed", {"verified": False, "interrupted" if _interruption(exc)
                                                       else "error": msg, "step": step_no})
                    else:
                        self._set_status("failed", {"error": msg})
            if committed:
                what = (f"{msg} after the migration committed" if _interruption(exc)
                        else f"the rename committed but a finish step failed: {msg}")
                raise MigrationFailed(f"{what}: the tables have their new names; it is recorded as committed, "
                                      "not verified: `runbook migrate` (or `runbook verify`) finishes and verifies it",
                                      step=step_no) from None
            if _interruption(exc):
                raise MigrationFailed(f"{msg} before the migration committed"
                                      + (" (rehearsal)" if rehearse else "")
                                      + ": its transaction was rolled back and its prepare steps undone; "
                                      "the database is as it was", step=step_no) from None
            if isinstance(exc, (LockTimeout, MigrationFailed)):
                raise
            raise MigrationFailed(f"step {step_no} failed: {msg}; the database was left as it was", step=step_no) from None
        bar.close()
        return self._verify_committed(conn, plan, base, checks, backup)

    def _resume(self, conn, snap, run: dict) -> RunResult:
        """A migration that committed but was not verified (interrupted, or killed, after
        its COMMIT): run its finish steps (idempotent) and verify it against its baseline."""
        plan = stored_plan(snap, self.mapping, run)
        self.log(f"run {self.run_id}: migration {run['id']} committed without verification: "
                 f"finishing and verifying it (plan {plan.short_fingerprint})")
        try:
            for op in plan.phase(FINISH):
                t0 = time.perf_counter()
                self._run_online(conn, op)
                self.steps.append(StepResult(len(self.steps) + 1, op.phase, op.kind, op.describe(),
                                             time.perf_counter() - t0))
        except KeyboardInterrupt as exc:
            raise MigrationFailed(f"{_interruption(exc)} while finishing migration {run['id']}: it stays recorded "
                                  "as committed, not verified: `runbook migrate` finishes and verifies it") from None
        except psycopg2.Error as exc:
            raise MigrationFailed(f"a finish step of migration {run['id']} failed: {self._failure_message(exc)}; "
                                  "it stays recorded as committed, not verified") from None
        return self._verify_committed(conn, plan, run["baseline"], (), None, run_id=run["id"], resumed=True)

    def _verify_committed(self, conn, plan, base, checks, backup, run_id: str | None = None,
                          resumed: bool = False) -> RunResult:
        """Verification (spec 9.1) of a committed migration; a failure rolls it back (not
        when resuming an earlier run's verification: then it is reported)."""
        run_id = run_id or self.run_id
        try:
            after = inspect(conn)
            ver = self._timed("verify", verify_state, conn, after, plan, base, quiesced=self.opt.quiesced,
                              url=self.url if self.opt.crud_check else None, service=self.mapping.service)
        except KeyboardInterrupt as exc:
            raise MigrationFailed(f"{_interruption(exc)} after the migration committed, during its verification: "
                                  "the tables have their new names; it is recorded as committed, not verified: "
                                  "`runbook migrate` (or `runbook verify`) verifies it") from None
        except Exception as exc:  # a check that cannot run is a check that failed
            from .checks import Check

            ver = Verification((Check("verification ran", False, self._failure_message(exc)),))
        for c in ver.checks:
            if not c.ok:
                self.log(f"verify FAIL {c.name}: {c.detail}")
        if not ver.ok:
            first = ver.failed[0]
            if resumed:
                raise VerificationFailed(f"verification of migration {run_id} failed: {first.name}: {first.detail}; "
                                         "it stays recorded as committed, not verified: `runbook rollback` undoes it")
            self.log("verification failed: rolling back")
            try:
                Runner(self.url, self.mapping, self.opt)._rollback_plan(plan, base, drop_added=True, reason="verify failed")
            except Exception as exc:  # sqitch: say plainly that the schema needs repair
                raise RollbackFailed(f"verification failed ({first.name}) and the rollback failed too: "
                                     f"{self._failure_message(exc)}; the schema needs manual repair "
                                     f"(backup: {backup.path if backup else 'none'})") from None
            self._set_status("rolled back", {"error": f"verification failed: {first.name}"})
            raise VerificationFailed(f"verification failed: {first.name}: {first.detail}; the migration was rolled back")
        self._set_status("migrated", {"verified": True, "lock_window_s": getattr(self, "lock_window", 0.0),
                                      "timings": self.timings}, run_id=run_id)
        self.log(f"migrated: lock window {getattr(self, 'lock_window', 0.0) * 1000:.1f} ms, {len(ver.checks)} checks passed")
        return RunResult(self.run_id, "migrate", "migrated", plan.fingerprint, plan, tuple(self.steps), tuple(checks),
                         backup, getattr(self, "lock_window", 0.0), getattr(self, "lock_wait", 0.0),
                         getattr(self, "attempts", 0), ver, tuple(self.audit_rows), self._logname(), dict(self.timings),
                         message=f"verified migration {run_id}, which had committed without verification"
                         if resumed else "")

    def _committed_in_db(self) -> bool:
        """Did this run's lock transaction commit? Its status row is set in it."""
        if not getattr(self, "_run_recorded", False):
            return False
        try:
            c = connect(self.url, application_name="runbook-state", autocommit=True)
            try:
                with c.cursor() as cur:
                    cur.execute("SELECT status FROM runbook.runs WHERE id = %s", (self.run_id,))
                    row = cur.fetchone()
                return bool(row) and row[0] == "committed"
            finally:
                c.close()
        except Exception:
            return False

    def _set_status(self, status, summary, run_id: str | None = None):
        try:
            c = connect(self.url, application_name="runbook-state", autocommit=True)
            try:
                if state.exists(c):
                    state.set_status(c, run_id or self.run_id, status, summary)
            finally:
                c.close()
        except Exception:
            pass

    def _failure_message(self, exc: BaseException) -> str:
        from .connection import scrub

        return scrub(str(exc) if not isinstance(exc, psycopg2.Error) else _pg_message(exc), self.url)

    def _undo_prepare(self, conn, done: list[Op], quiet_missing: bool = False) -> None:
        if not done:
            return
        try:
            if conn.closed:
                conn = connect(self.url, application_name="runbook-undo", autocommit=True)
            else:
                try:
                    conn.rollback()
                except Exception:
                    conn = connect(self.url, application_name="runbook-undo", autocommit=True)
            conn.autocommit = False
            with conn.cursor() as cur:
                cur.execute(f"SET LOCAL lock_timeout = {literal(self.opt.lock_timeout)}")
                for op in reversed(done):
                    r = op.reverse()
                    if r is not None:
                        for s in r.statements():
                            cur.execute(s)
            conn.commit()
            conn.autocommit = True
            self.log(f"undid {len(done)} prepare steps")
        except Exception as exc:
            self.log(f"could not undo the prepare steps: {_pg_message(exc)}")
            raise RollbackFailed(f"the run failed and its prepare steps could not be undone: {_pg_message(exc)}; "
                                 "run `runbook rollback` or repair by hand") from None

    def _run_online(self, conn, op: Op) -> None:
        """A prepare/finish step: its own short transactions, retried on lock timeout."""
        if type(op) is RestoreNulls:
            self._with_retry(conn, op.cleanup_statements())
            from tqdm.auto import tqdm

            with tqdm(desc=f"restore NULLs of {op.table_name}.{op.column}", unit="row",
                      disable=not self.opt.progress, leave=False) as pb:
                while True:
                    n = self._with_retry(conn, [op.batch_statement(self.opt.batch_size)], fetch=True)
                    pb.update(n)
                    if n == 0:
                        break
            return
        if type(op) is FillNulls:  # not its subclass RestoreNulls
            self._with_retry(conn, op.install_statements())
            from tqdm.auto import tqdm

            with tqdm(desc=f"fill {op.table_name}.{op.column}", unit="row",
                      disable=not self.opt.progress, leave=False) as pb:
                if self._fill_by_pages(conn):
                    self._fill_pages(conn, op, pb)
                else:
                    after = None
                    while True:  # one pass up the primary key ...
                        n, after_ = self._with_retry(conn, [op.keyset_statement(self.opt.batch_size, after)], fetch=2)
                        pb.update(n)
                        if n == 0:
                            break
                        after = after_
                while True:  # ... then whatever SKIP LOCKED passed over (usually nothing)
                    n = self._with_retry(conn, [op.batch_statement(self.opt.batch_size)])
                    pb.update(n)
                    if n == 0:
                        break
            return
        for tx in op.transactions():
            self._with_retry(conn, tx)

    def _fill_by_pages(self, conn) -> bool:
        """Fill in heap-page order (TID Range Scan, PostgreSQL 14+), else up the primary key.

        Up the key, each batch asks for the next rows in key order; when the planner
        answers with a scan and sort of the whole table (it does on a large one whose key
        order is not its physical order, e.g. cuid keys), every batch reads the table
        again: at 10M messages the fill of 100k NULL titles among 1M sessions took 7.8 s,
        against 1.9 s for the whole hand-typed transaction."""
        return self.opt.fill_scan == "pages" or (self.opt.fill_scan == "auto" and conn.server_version >= 140000)

    def _fill_pages(self, conn, op: FillNulls, pb) -> None:
        """One pass over the table's pages as they were when the fill started (rows written
        since are filled by the trigger). A batch covers enough pages for about ten
        ``batch_size`` rows, halved when it filled more than ``batch_size`` rows (its
        transaction holds those row locks) and doubled, up to 200k rows, when it filled few."""
        with conn.cursor() as cur:
            cur.execute(f"SELECT pg_relation_size({_reg(op.schema, op.table_name)}) / current_setting('block_size')::int, "
                        f"greatest(c.reltuples, 0) / greatest(c.relpages, 1) FROM pg_class c "
                        f"WHERE c.oid = {_reg(op.schema, op.table_name)}")
            total_pages, per_page = cur.fetchone()
        per_page = max(float(per_page or 0), 1.0)
        batch = self.opt.batch_size
        pages = max(1, int(batch * 10 / per_page))
        most = max(1, int(200_000 / per_page))
        page = 0
        while page < total_pages:
            n = self._with_retry(conn, [op.pages_statement(page, pages)], fetch=True)
            pb.update(n)
            page += pages
            if n > batch:
                pages = max(1, pages // 2)
            elif n < batch // 2:
                pages = min(most, pages * 2)

    def _with_retry(self, conn, statements: list[str], fetch: int = 0):
        """Run statements in one short online transaction with the online lock_timeout;
        retry on 55P03 with capped exponential backoff and jitter."""
        attempts = self.opt.online_attempts
        for attempt in range(1, attempts + 1):
            conn.autocommit = False
            try:
                rc = 0
                with conn.cursor() as cur:
                    cur.execute(f"SET LOCAL lock_timeout = {literal(self.opt.online_lock_timeout)}")
                    cur.execute(f"SET LOCAL statement_timeout = {literal(self.opt.statement_timeout)}")
                    for s in statements:
                        cur.execute(s)
                        if fetch == 2:
                            rc = cur.fetchone()
                        else:
                            rc = cur.fetchone()[0] if fetch else cur.rowcount
                conn.commit()
                return rc if fetch == 2 else max(rc, 0)
            except BaseException as exc:  # Ctrl-C too: roll back before autocommit is set again
                try:
                    conn.rollback()
                except Exception:
                    pass
                if not isinstance(exc, psycopg2.Error):
                    raise
                if not _is_lock_timeout(exc) or attempt == attempts:
                    if _is_lock_timeout(exc):
                        raise self._lock_timeout_error(conn, attempt, self.opt.online_lock_timeout) from None
                    raise
                self._sleep(attempt, attempts)
            finally:
                conn.autocommit = True
        return 0

    def _sleep(self, attempt: int, of: int | None = None) -> None:
        # capped exponential backoff with full jitter
        delay = _jitter.uniform(0, min(self.opt.backoff_cap, self.opt.backoff_base * 2 ** (attempt - 1)))
        self.log(f"lock not available (attempt {attempt}/{of or self.opt.attempts}); retrying in {delay:.2f}s")
        time.sleep(delay)

    def _lock_timeout_error(self, conn, attempts: int, timeout: str | None = None) -> LockTimeout:
        blockers = []
        try:
            c = connect(self.url, application_name="runbook-diag", autocommit=True)
            with c.cursor() as cur:
                # pg_stat_activity hides the state and times of another role's session from a
                # role that is not a member of pg_read_all_stats (its backend_start is NULL then)
                cur.execute(
                    "SELECT a.pid, coalesce(nullif(a.application_name, ''), 'no application name'), "
                    "extract(epoch FROM now() - coalesce(a.xact_start, a.backend_start))::int, a.state, "
                    "coalesce(a.usename::text, 'unknown role'), a.backend_start IS NULL, current_user "
                    "FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                    "WHERE l.locktype = 'relation' AND l.granted AND a.pid <> pg_backend_pid() "
                    "AND coalesce(a.application_name, '') NOT LIKE 'runbook%%' AND l.relation = ANY(%s::oid[]) "
                    "GROUP BY a.pid, a.application_name, a.xact_start, a.backend_start, a.state, a.usename "
                    "ORDER BY 3 DESC NULLS LAST",
                    ([int(t.oid) for t in self._plan_tables],),
                )
                rows = cur.fetchall()
            c.close()
            blockers = [r[:4] for r in rows]
        except Exception:
            rows = []

        def one(p, app, age, st, role, hidden, me):
            if hidden:
                return (f"pid {p} (role {role}, {app}; its state and age are hidden from role {me}, "
                        "which is not a member of pg_read_all_stats)")
            return f"pid {p} (role {role}, {app}, {st or 'state unknown'}, transaction open {age}s)"

        who = "; ".join(one(*r) for r in rows) or "unknown"
        return LockTimeout(f"could not take the locks within {timeout or self.opt.lock_timeout} after {attempts} attempts; "
                           f"blocked by {who}; nothing was changed", blockers=blockers)

    def _rehearse_prepare(self, cur, ops: list[Op]) -> list[StepResult]:
        """A rehearsal's prepare steps, in its own transaction (rolled back with it, so
        nothing they do can remain): the same statements, the fill in batches up the key."""
        out = []
        if any(type(o) is FillNulls for o in ops):
            cur.execute(state.SCHEMA_SQL)
        for i, op in enumerate(ops, start=1):
            t0 = time.perf_counter()
            if type(op) is FillNulls:
                for s in op.install_statements():
                    cur.execute(s)
                after = None
                while True:
                    cur.execute(op.keyset_statement(self.opt.batch_size, after))
                    n, after = cur.fetchone()
                    if not n:
                        break
            else:
                for tx in op.transactions():
                    for s in tx:
                        cur.execute(s)
            out.append(StepResult(i, op.phase, op.kind, op.describe(), time.perf_counter() - t0))
        return out

    def _lock_phase(self, conn, plan: Plan, step0: int, rehearse: bool, bar,
                    prepare: list[Op] | None = None) -> tuple[float, float, int]:
        ops = plan.phase(LOCK)
        self._plan_tables = [t for t in plan.tables if t.oid]
        self._committed = False
        if not ops and not prepare:
            self.lock_window = self.lock_wait = 0.0
            self.attempts = 0
            return 0.0, 0.0, 0
        # The whole lock phase goes to the server in as few round trips as possible (one,
        # unless a crash test splits it): each step is followed by a DO block that checks
        # it took effect (seeing the names as that step left them) and reports the server
        # time, as a NOTICE, from which the per-step timings are read.
        fault_mode, _, fault_n = os.environ.get("RUNBOOK_FAULT", "").partition(":")
        fault_step = int(fault_n) if fault_n.isdigit() else None
        numbered = list(enumerate(ops, start=step0 + 1))
        chunks: list[list[tuple[int, Op]]] = [[]]
        for i, op in numbered:
            chunks[-1].append((i, op))
            if fault_mode in ("kill", "pause") and fault_step == i:
                chunks.append([])
        base = self._base_tables(plan)
        relfile_check = ""
        storage = sorted({p for oid, t in base.items() for p in storage_pairs(oid, t)})
        if storage:  # a partitioned table's leaves: its own relfilenode is 0
            pairs = ", ".join(f"({o}, {f})" for o, f in storage)
            relfile_check = (f"DO $rb$ BEGIN IF (SELECT count(*) FROM pg_class WHERE (oid, relfilenode) IN ({pairs})) "
                             f"<> {len(storage)} THEN RAISE EXCEPTION 'runbook: a table''s storage changed under the lock "
                             f"(relfilenode)'; END IF; END $rb$")

        # After each step, one plain SELECT stores its server time and its check's result in
        # a transaction-local setting (cheaper than a PL/pgSQL block per step); the last
        # batch reads them all back.
        def mark(tag: str, check: str = "true") -> str:
            return (f"SELECT set_config('runbook.m_{tag}', extract(epoch FROM clock_timestamp())::text || ' ' || "
                    f"coalesce(({check})::text, 'false'), true)")

        def step_sql(i: int, op: Op) -> str:
            body = []
            if fault_mode == "fail" and fault_step == i:
                body.append(f"DO $rb$ BEGIN RAISE EXCEPTION 'injected failure at step {i}'; END $rb$")
            body.extend(op.statements())
            body.append(mark(f"s{i}", op.check()))
            return ";\n".join(body)

        read_marks = ("SELECT " + ", ".join(
            f"current_setting('runbook.m_{t}', true)" for t in ["start", "locked", *(f"s{i}" for i, _ in numbered)]))

        for attempt in range(1, self.opt.attempts + 1):
            audit_sql = None
            if not rehearse:
                # the audit table as named now, and as named once this batch has run (the
                # plan may rename the audit table itself)
                at_now, at_after = self._audit_names(conn, plan)
                audit_sql, audit_row = audit.insert_sql(
                    conn, self.mapping.schema, at_now,
                    getattr(self, "_commit_event", "migration_complete"),
                    {"run_id": self.run_id, "at": datetime.now(timezone.utc).isoformat(), "host": socket.gethostname(),
                     "fingerprint": plan.fingerprint, "operations": len(plan.ops)}, target=at_after)
            conn.autocommit = False
            self._mark_values = {}
            try:
                with conn.cursor() as cur:
                    cur.execute(f"SET LOCAL lock_timeout = {literal(self.opt.lock_timeout)};"
                                f"SET LOCAL statement_timeout = {literal(self.opt.statement_timeout)};"
                                "SET LOCAL application_name = 'runbook-migrate';"
                                # a SQL function's body is parsed at CREATE time; a rollback puts
                                # an old body back before its table has its old name again (as
                                # pg_dump does, we do not validate bodies we restore verbatim)
                                "SET LOCAL check_function_bodies = off")
                    prep_steps = self._rehearse_prepare(cur, prepare) if prepare else []
                    t_start = time.perf_counter()
                    head = [mark("start")]
                    if plan.lock_tables:
                        head.append(f"LOCK TABLE {', '.join(plan.lock_tables)} IN ACCESS EXCLUSIVE MODE")
                    head.append(mark("locked"))
                    for n, chunk in enumerate(chunks):
                        sql = [*(head if n == 0 else []), *(step_sql(i, op) for i, op in chunk)]
                        if n == len(chunks) - 1:
                            if relfile_check:
                                sql.append(relfile_check)  # in-transaction verification, catalog only
                            if audit_sql:
                                sql.append(audit_sql)
                            if not rehearse and getattr(self, "_run_recorded", False):
                                # committed with the rename, atomically: "committed, not verified"
                                sql.append("UPDATE runbook.runs SET status = 'committed', summary = "
                                           "'{\"verified\": false}'::jsonb WHERE id = " + literal(self.run_id))
                            sql.append(read_marks)
                        if sql:
                            cur.execute(";\n".join(sql))
                        if chunk and fault_mode in ("kill", "pause") and fault_step == chunk[-1][0]:
                            _fault(fault_step, "after")
                    values = cur.fetchone()
                    tags = ["start", "locked", *(f"step {i}" for i, _ in numbered)]
                    marks = {}
                    for tag, v in zip(tags, values):
                        if v:
                            t, _, ok = v.partition(" ")
                            marks[tag] = float(t)
                            if ok != "true":
                                raise MigrationFailed(f"{tag} did not take effect "
                                                      f"({dict(numbered)[int(tag.split()[1])].describe()}); rolled back")
                    if audit_sql:
                        self.audit_rows.append(audit_row)
                    if rehearse:
                        conn.rollback()
                    else:
                        conn.commit()
                        self._committed = True
                    t_end = time.perf_counter()
                wait = max(0.0, marks.get("locked", 0) - marks.get("start", 0))
                steps = []
                prev = marks.get("locked", 0)
                for i, op in numbered:
                    t = marks.get(f"step {i}", prev)
                    steps.append(StepResult(i, op.phase, op.kind, op.describe(), max(0.0, t - prev),
                                            wait if i == step0 + 1 else 0.0, attempt))
                    prev = t
                self.lock_wait = wait
                self.lock_window = max(0.0, (t_end - t_start) - wait)
                self.attempts = attempt
                self.steps.extend(prep_steps)
                for st in prep_steps:
                    self.log(f"step {st.step} {st.description} (in the rehearsal's transaction): {st.seconds:.3f}s")
                    bar.update(1)
                self.steps.extend(steps)
                for st in steps:
                    self.log(f"step {st.step} {st.description}: {st.seconds * 1000:.2f} ms")
                    bar.update(1)
                self.log(f"{'rolled back (rehearsal)' if rehearse else 'committed'}: exclusive locks held "
                         f"{self.lock_window * 1000:.2f} ms (waited {self.lock_wait * 1000:.2f} ms, attempt {attempt})")
                self.timings["lock window"] = self.lock_window
                return self.lock_window, self.lock_wait, attempt
            except BaseException as exc:
                try:
                    conn.rollback()
                except Exception:
                    pass
                if _is_lock_timeout(exc) and attempt < self.opt.attempts:
                    self._sleep(attempt)
                    continue
                if _is_lock_timeout(exc):
                    raise self._lock_timeout_error(conn, attempt) from None
                if isinstance(exc, psycopg2.Error):
                    failed = self._failed_step(exc, numbered)
                    what = f"step {failed[0]} ({failed[1].describe()})" if failed else "the lock phase"
                    raise MigrationFailed(f"{what} failed: {self._failure_message(exc)}; "
                                          "the database was left as it was", step=failed[0] if failed else None) from None
                raise
            finally:
                if not conn.closed:
                    conn.autocommit = True
        raise AssertionError("unreachable")

    @staticmethod
    def _failed_step(exc, numbered) -> tuple[int, Op] | None:
        """Which step a server error came from. The batch's transaction is aborted, so we
        cannot ask the server; the error names the step (injected faults, checks) or an
        object that exactly one step's SQL names."""
        import re

        msg = _pg_message(exc)
        m = re.search(r"at step (\d+)", msg)
        if m:
            n = int(m.group(1))
            return next(((i, o) for i, o in numbered if i == n), None)
        names = re.findall(r'"([^"]+)"', msg)
        hits = [(i, o) for i, o in numbered if names and all(n in ";".join(o.statements()) for n in names)]
        return hits[0] if len(hits) == 1 else None

    def _audit_names(self, conn, plan: Plan) -> tuple[str | None, str | None]:
        from .ops import RenameTable

        at = self.mapping.audit_table
        if not at:
            return None, None
        now = at
        with conn.cursor() as cur:
            for name in (at, self.mapping.final_name(at), self.mapping.old_name(at)):
                cur.execute("SELECT to_regclass(%s) IS NOT NULL", (qq(self.mapping.schema, name),))
                if cur.fetchone()[0]:
                    now = name
                    break
        after = now
        for op in plan.ops:
            if isinstance(op, RenameTable) and op.old == after and op.phase == LOCK:
                after = op.new
        return now, after

    def _base_tables(self, plan) -> dict:
        return getattr(self, "_base", {}) or {}

    # -- rollback ----------------------------------------------------------------------------
    def rollback(self, *, drop_added: bool = False, dry_run: bool = False) -> RunResult:
        lock_conn = self._lock_runner()
        conn = connect(self.url, application_name="runbook", autocommit=True)
        try:
            undone = self.recover_interrupted(conn)
            run = state.last_run(conn)
            if run is None and undone:
                return RunResult(self.run_id, "rollback", "rolled back", "", Plan(self.mapping.schema, (), ()),
                                 log_file=self._logname(),
                                 message=f"undid the prepare steps of interrupted run {', '.join(undone)}")
            if run is None:
                raise WrongState("nothing to roll back: no completed runbook migration is recorded in this database")
            from .merge import merged_rows_present

            merge_id = merged_rows_present(conn)
            if merge_id:
                raise WrongState(f"legacy rows merged by run {merge_id} are in the renamed tables: "
                                 "run `runbook merge-legacy --rollback` first")
            snap = inspect(conn)
            plan0 = stored_plan(snap, self.mapping, run)  # refused if it no longer matches its fingerprint
            ops = plan0.ops
            if run["status"] == "restoring":  # an interrupted rollback: only its online part is left
                rev = plan0.reverse(drop_added)
                self._restore_online(conn, rev, run["id"])
                with conn.cursor() as cur:
                    cur.execute("UPDATE runbook.runs SET status = 'rolled back', finished_at = now() WHERE id = %s",
                                (run["id"],))
                ver = verify_state(conn, inspect(conn), plan0, run["baseline"], direction="back",
                                   quiesced=self.opt.quiesced)
                return RunResult(self.run_id, "rollback", "rolled back" if ver.ok else "failed", plan0.fingerprint,
                                 rev, tuple(self.steps), verification=ver, log_file=self._logname(),
                                 message="finished an interrupted rollback: NULLs put back")
            # refuse unless the database is in the state the plan left
            differs = []
            with conn.cursor() as cur:
                checks = [o for o in ops if o.phase == LOCK]
                if checks:
                    cur.execute("SELECT " + ", ".join(f"({o.check()})" for o in checks))
                    for o, ok in zip(checks, cur.fetchone()):
                        if not ok and not isinstance(o, FillNulls):
                            differs.append(o.describe())
            if differs:
                raise WrongState(f"the database is not in the state migration {run['id']} left: "
                                 f"{differs[0]} no longer holds" + (f" (and {len(differs) - 1} more)" if len(differs) > 1 else ""))
            rev = plan0.reverse(drop_added)
            if dry_run:
                return RunResult(self.run_id, "rollback", "planned", run["fingerprint"], rev)
            backup = self._backup_before_drop(conn, rev)
            self._audit_own_tx("rollback_start", fingerprint=run["fingerprint"], migration=run["id"])
            result = self._rollback_plan(plan0, run["baseline"], drop_added=drop_added, reason="requested",
                                         migration_id=run["id"], conn=conn, backup=backup)
            return result
        finally:
            conn.close()
            lock_conn.close()
            self.log.close()

    def _backup_before_drop(self, conn, rev: Plan) -> BackupInfo | None:
        """``rollback --drop-added-columns`` drops what was written into the added columns
        since the migration: dump the tables it drops columns from first, and verify it."""
        tables = sorted({(o.schema, o.table_name) for o in rev.ops if o.drops_data and getattr(o, "table_name", None)})
        if not tables or not self.opt.backup:
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
            free = free_bytes(Path(self.opt.backup_dir))
        except OSError as exc:
            raise BackupFailed(f"backup folder {self.opt.backup_dir}: {exc.strerror}; nothing was changed") from None
        if free < size * 1.2:
            raise BackupFailed(f"backup folder {self.opt.backup_dir}: {free / 2**20:,.0f} MiB free, about "
                               f"{size * 1.2 / 2**20:,.0f} MiB needed; nothing was changed")
        names = ", ".join(t for _, t in tables)
        self.log(f"backup before dropping added columns: pg_dump of {names} ...")
        job = BackupJob(self.url, Path(self.opt.backup_dir), f"backup-{self.run_id}-before-rollback",
                        conn.server_version, compress=self.opt.backup_compress, expected_bytes=size,
                        progress=self.opt.progress, tables=list(dict.fromkeys(tables + leaves)))
        info = job.wait(expect_tables=leaves)
        self.log(f"backup: {info.path} ({info.bytes:,} bytes, {info.toc_entries} entries, "
                 f"verified with pg_restore --list) in {info.seconds:.2f}s")
        self.timings["backup"] = info.seconds
        return info

    def _rollback_plan(self, plan: Plan, base: dict, *, drop_added: bool, reason: str, migration_id: str | None = None,
                       conn=None, backup: BackupInfo | None = None) -> RunResult:
        own = conn is None
        if own:
            conn = connect(self.url, application_name="runbook", autocommit=True)
        try:
            rev = plan.reverse(drop_added)
            self._base = {}
            bar = _progress(len(rev.ops), "rollback", self.opt.progress)
            try:
                window, wait, attempts = self._lock_phase_rollback(conn, rev, bar, fingerprint=plan.fingerprint,
                                                                   reason=reason)
            except BaseException as exc:
                bar.close()
                msg = self._failure_message(exc)
                self._audit_own_tx("rollback_failed", fingerprint=plan.fingerprint, error=msg)
                if isinstance(exc, LockTimeout):
                    raise
                raise RollbackFailed(f"rollback failed: {msg}; nothing was changed by it") from None
            bar.close()
            self._restore_online(conn, rev, migration_id)
            if migration_id:
                c = conn
                with c.cursor() as cur:
                    cur.execute("UPDATE runbook.runs SET status = 'rolled back', finished_at = now() WHERE id = %s",
                                (migration_id,))
            after = inspect(conn)
            ver = verify_state(conn, after, plan, base, direction="back", quiesced=self.opt.quiesced)
            self.log(f"rolled back ({reason}): lock window {window * 1000:.1f} ms; "
                     f"{sum(c.ok for c in ver.checks)}/{len(ver.checks)} checks pass")
            return RunResult(self.run_id, "rollback", "rolled back" if ver.ok else "failed", plan.fingerprint, rev,
                             tuple(self.steps), (), backup, window, wait, attempts, ver, tuple(self.audit_rows),
                             self._logname(), dict(self.timings))
        finally:
            if own:
                conn.close()

    def _restore_online(self, conn, rev: Plan, migration_id: str | None) -> None:
        """The rollback's finish phase: the rows the fill changed get their NULLs back,
        online, in batches, after the lock transaction committed. Resumable: a re-run of
        ``runbook rollback`` finishes it."""
        if not rev.phase(FINISH):
            return
        if migration_id:
            with conn.cursor() as cur:
                cur.execute("UPDATE runbook.runs SET status = 'restoring' WHERE id = %s", (migration_id,))
        try:
            for op in rev.phase(FINISH):
                t0 = time.perf_counter()
                self._run_online(conn, op)
                self.steps.append(StepResult(len(self.steps) + 1, op.phase, op.kind, op.describe(),
                                             time.perf_counter() - t0))
        except Exception as exc:
            raise RollbackFailed(f"the tables have their old names again, but putting back the NULLs failed: "
                                 f"{self._failure_message(exc)}; the rows are still recorded: re-run "
                                 "`runbook rollback` to finish") from None

    def _lock_phase_rollback(self, conn, rev: Plan, bar, *, fingerprint, reason):
        # Rollback steps all run in one transaction (the reversed lock + prepare steps).
        class _P:
            pass

        p = Plan(rev.schema, tuple(o for o in rev.ops if o.phase != FINISH), rev.tables, (), (), rev.lock_tables,
                 rev.audit_table)
        # run every reversed op inside the lock transaction regardless of its phase
        ops_as_lock = tuple(_as_lock(o) for o in p.ops)
        p = Plan(p.schema, ops_as_lock, p.tables, (), (), p.lock_tables, p.audit_table)
        self._commit_event = "rollback"
        window, wait, attempts = self._lock_phase(conn, p, 0, False, bar)
        return window, wait, attempts


def _as_lock(op: Op) -> Op:
    if op.phase == LOCK:
        return op
    # an op object whose phase reads LOCK: wrap without changing its SQL
    cls = type(op)
    new_cls = type(cls.__name__, (cls,), {"phase": LOCK})
    return new_cls(**{f: getattr(op, f) for f in op.__dataclass_fields__})


def stored_plan(snap: Snapshot, mapping: Mapping, run: dict) -> Plan:
    """The plan a recorded run ran, refused unless it still has the fingerprint recorded
    with it (a plan edited in ``runbook.runs`` is not run again)."""
    try:
        ops = tuple(op_from_dict(d) for d in run["plan"])
        lock_tables = run.get("lock_tables")
        if lock_tables is not None and not all(isinstance(t, str) for t in lock_tables):
            raise TypeError("lock_tables")
        plan = build_plan_from_ops(snap, mapping, ops, lock_tables=tuple(lock_tables or ()))
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
                         f"(recorded {str(run['fingerprint'])[:12]}, its operations give {fingerprint[:12]}): it was "
                         "changed after it ran and is not trusted; nothing was changed")
    return plan


def build_plan_from_ops(snap: Snapshot, mapping: Mapping, ops: tuple[Op, ...],
                        lock_tables: tuple[str, ...] = ()) -> Plan:
    """The stored plan of a run, with table states as they are now (for its reverse)."""
    from .ops import RenameTable
    from .plan import TableState

    states = []
    for t in mapping.tables:
        now = snap.table(mapping.schema, t.new) or snap.table(mapping.schema, t.old)
        states.append(TableState(t.old, t.new, "done" if snap.table(mapping.schema, t.new) else "todo",
                                 now.oid if now else None))
    return Plan(mapping.schema, ops, tuple(states), (), (), tuple(lock_tables), mapping.audit_table)
