"""The lock window (spec 5.2, phase 2): one transaction that holds the exclusive locks.

The whole lock phase goes to the server in as few round trips as possible (one, unless a
crash test splits it): ``SET LOCAL`` the timeouts, take the locks in one ``LOCK TABLE``
statement, run each step followed by a *mark* (a plain ``SELECT`` that stores the step's
server time and its check's result in a transaction-local setting, cheaper than a
PL/pgSQL block per step), check the tables' storage, write the audit row and the run's
``committed`` status, and read all the marks back. A mark whose check is false rolls the
transaction back; so does any error, which :meth:`LockBatch.failure` maps to its step.
On a lock timeout the whole transaction is tried again, with capped exponential backoff.
"""

from __future__ import annotations

import re
import time

import psycopg2

from .. import state
from ..errors import MigrationFailed
from ..naming import literal, qq
from ..ops import LOCK, FillNulls, Op, RenameTable
from ..plan import Plan
from ..verify import storage_pairs
from . import audit
from .context import RunContext
from .failures import failure_message, is_lock_timeout, pg_message
from .faults import LockFault, fault
from .online import backoff, lock_timeout_error
from .options import Options
from .results import StepResult


def session_settings(opt: Options) -> str:
    """The lock transaction's settings, sent as its first statement."""
    return (f"SET LOCAL lock_timeout = {literal(opt.lock_timeout)};"
            f"SET LOCAL statement_timeout = {literal(opt.statement_timeout)};"
            "SET LOCAL application_name = 'runbook-migrate';"
            # a SQL function's body is parsed at CREATE time; a rollback puts
            # an old body back before its table has its old name again (as
            # pg_dump does, we do not validate bodies we restore verbatim)
            "SET LOCAL check_function_bodies = off")


def mark(tag: str, check: str = "true") -> str:
    """Store the server time and whether ``check`` holds in the setting ``runbook.m_<tag>``."""
    return (f"SELECT set_config('runbook.m_{tag}', extract(epoch FROM clock_timestamp())::text || ' ' || "
            f"coalesce(({check})::text, 'false'), true)")


class LockBatch:
    """The SQL of one lock window, built once for all its attempts: the steps numbered
    from ``step0 + 1``, cut into round trips (one, unless a kill or pause fault asks for
    a stop after a step), and the storage check of the baseline's tables."""

    def __init__(self, plan: Plan, step0: int, base_tables: dict, fault_: LockFault):
        self.plan = plan
        self.step0 = step0
        self.fault = fault_
        self.numbered = list(enumerate(plan.phase(LOCK), start=step0 + 1))
        self.chunks: list[list[tuple[int, Op]]] = [[]]
        for i, op in self.numbered:
            self.chunks[-1].append((i, op))
            if fault_.stops_after(i):
                self.chunks.append([])
        self.relfile_check = ""
        storage = sorted({p for oid, t in base_tables.items() for p in storage_pairs(oid, t)})
        if storage:  # a partitioned table's leaves: its own relfilenode is 0
            pairs = ", ".join(f"({o}, {f})" for o, f in storage)
            self.relfile_check = (
                f"DO $rb$ BEGIN IF (SELECT count(*) FROM pg_class WHERE (oid, relfilenode) IN ({pairs})) "
                f"<> {len(storage)} THEN RAISE EXCEPTION 'runbook: a table''s storage changed under the lock "
                f"(relfilenode)'; END IF; END $rb$")
        self.read_marks = ("SELECT " + ", ".join(
            f"current_setting('runbook.m_{t}', true)" for t in ["start", "locked", *(f"s{i}" for i, _ in self.numbered)]))

    def _step_sql(self, i: int, op: Op) -> str:
        body = []
        if self.fault.fails_at(i):
            body.append(f"DO $rb$ BEGIN RAISE EXCEPTION 'injected failure at step {i}'; END $rb$")
        body.extend(op.statements())
        body.append(mark(f"s{i}", op.check()))
        return ";\n".join(body)

    def round_trips(self, tail: list[str]):
        """(SQL, the step after which a fault stops the process, or None), one per round
        trip: the locks first, then the steps; ``tail`` (the audit row, the status) and the
        reading of the marks end the last one."""
        head = [mark("start")]
        if self.plan.lock_tables:
            head.append(f"LOCK TABLE {', '.join(self.plan.lock_tables)} IN ACCESS EXCLUSIVE MODE")
        head.append(mark("locked"))
        for n, chunk in enumerate(self.chunks):
            sql = [*(head if n == 0 else []), *(self._step_sql(i, op) for i, op in chunk)]
            if n == len(self.chunks) - 1:
                if self.relfile_check:
                    sql.append(self.relfile_check)  # in-transaction verification, catalog only
                sql.extend(tail)
                sql.append(self.read_marks)
            stop = chunk[-1][0] if chunk and self.fault.stops_after(chunk[-1][0]) else None
            yield ";\n".join(sql), stop

    def read(self, values) -> dict[str, float]:
        """The marks read back, by tag (``start``, ``locked``, ``step <n>``): their server
        times; a step whose check did not hold stops the run here (rolled back)."""
        tags = ["start", "locked", *(f"step {i}" for i, _ in self.numbered)]
        marks = {}
        for tag, v in zip(tags, values):
            if v:
                t, _, ok = v.partition(" ")
                marks[tag] = float(t)
                if ok != "true":
                    raise MigrationFailed(f"{tag} did not take effect "
                                          f"({dict(self.numbered)[int(tag.split()[1])].describe()}); rolled back")
        return marks

    def step_results(self, marks: dict[str, float], attempt: int) -> tuple[float, list[StepResult]]:
        """The wait for the locks, and each step's server time, from the marks."""
        wait = max(0.0, marks.get("locked", 0) - marks.get("start", 0))
        steps = []
        prev = marks.get("locked", 0)
        for i, op in self.numbered:
            t = marks.get(f"step {i}", prev)
            steps.append(StepResult(i, op.phase, op.kind, op.describe(), max(0.0, t - prev),
                                    wait if i == self.step0 + 1 else 0.0, attempt))
            prev = t
        return wait, steps

    def failed_step(self, exc) -> tuple[int, Op] | None:
        """Which step a server error came from. The batch's transaction is aborted, so we
        cannot ask the server; the error names the step (injected faults, checks) or an
        object that exactly one step's SQL names."""
        msg = pg_message(exc)
        m = re.search(r"at step (\d+)", msg)
        if m:
            n = int(m.group(1))
            return next(((i, o) for i, o in self.numbered if i == n), None)
        names = re.findall(r'"([^"]+)"', msg)
        hits = [(i, o) for i, o in self.numbered if names and all(n in ";".join(o.statements()) for n in names)]
        return hits[0] if len(hits) == 1 else None

    def failure(self, exc, url: str) -> MigrationFailed:
        """A server error in the batch, as the step it came from."""
        failed = self.failed_step(exc)
        what = f"step {failed[0]} ({failed[1].describe()})" if failed else "the lock phase"
        return MigrationFailed(f"{what} failed: {failure_message(exc, url)}; "
                               "the database was left as it was", step=failed[0] if failed else None)


def rehearse_prepare(cur, ops: list[Op], batch_size: int) -> list[StepResult]:
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
                cur.execute(op.keyset_statement(batch_size, after))
                n, after = cur.fetchone()
                if not n:
                    break
        else:
            for tx in op.transactions():
                for s in tx:
                    cur.execute(s)
        out.append(StepResult(i, op.phase, op.kind, op.describe(), time.perf_counter() - t0))
    return out


def audit_names(conn, mapping, plan: Plan) -> tuple[str | None, str | None]:
    """The audit table as named now, and as named once the batch has run (the plan may
    rename the audit table itself)."""
    at = mapping.audit_table
    if not at:
        return None, None
    now = at
    with conn.cursor() as cur:
        for name in (at, mapping.final_name(at), mapping.old_name(at)):
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (qq(mapping.schema, name),))
            if cur.fetchone()[0]:
                now = name
                break
    after = now
    for op in plan.ops:
        if isinstance(op, RenameTable) and op.old == after and op.phase == LOCK:
            after = op.new
    return now, after


class LockPhase:
    """The lock phase of one run (a migration, its rehearsal, or a rollback), and what it
    left: whether it committed, its lock window, its wait for the locks, its attempts."""

    def __init__(self, ctx: RunContext):
        self.ctx = ctx
        self.committed = False
        self.window = 0.0
        self.wait = 0.0
        self.attempts = 0

    def run(self, conn, plan: Plan, step0: int, bar, *, rehearse: bool = False, event: str = "migration_complete",
            base_tables: dict | None = None, mark_committed: bool = False,
            prepare: list[Op] | None = None) -> tuple[float, float, int]:
        """Run the plan's lock steps (numbered from ``step0 + 1``) in one transaction; a
        rehearsal rolls it back, having run ``prepare`` in it first. ``event``: the audit
        row written in it (none in a rehearsal); ``mark_committed``: the run's status row
        becomes ``committed`` in it. Returns (lock window, wait, attempt)."""
        ctx, opt = self.ctx, self.ctx.opt
        tables = [t for t in plan.tables if t.oid]
        if not plan.phase(LOCK) and not prepare:
            self.window = self.wait = 0.0
            self.attempts = 0
            return 0.0, 0.0, 0
        batch = LockBatch(plan, step0, base_tables or {}, LockFault.from_env())
        for attempt in range(1, opt.attempts + 1):
            tail, audit_row = self._tail(conn, plan, event, rehearse, mark_committed)
            conn.autocommit = False
            try:
                marks, prep_steps, elapsed = self._transaction(conn, batch, tail, audit_row, prepare, rehearse)
                self._record(batch, marks, attempt, elapsed, prep_steps, bar, rehearse)
                return self.window, self.wait, attempt
            except BaseException as exc:
                try:
                    conn.rollback()
                except Exception:
                    pass
                if is_lock_timeout(exc) and attempt < opt.attempts:
                    backoff(opt, ctx.log, attempt)
                    continue
                if is_lock_timeout(exc):
                    raise lock_timeout_error(ctx.url, tables, attempt, opt.lock_timeout) from None
                if isinstance(exc, psycopg2.Error):
                    raise batch.failure(exc, ctx.url) from None
                raise
            finally:
                if not conn.closed:
                    conn.autocommit = True
        raise AssertionError("unreachable")

    def _tail(self, conn, plan: Plan, event: str, rehearse: bool, mark_committed: bool) -> tuple[list[str], dict | None]:
        """What ends the batch before the marks are read: the audit row's INSERT (asked of
        the server before the transaction starts: the audit table's name and columns) and
        the run's ``committed`` status; and the audit row. A rehearsal has neither."""
        if rehearse:
            return [], None
        at_now, at_after = audit_names(conn, self.ctx.mapping, plan)
        sql, row = audit.insert_sql(conn, self.ctx.mapping.schema, at_now, event,
                                    self.ctx.audit_details(fingerprint=plan.fingerprint, operations=len(plan.ops)),
                                    target=at_after)
        tail = [sql]
        if mark_committed:
            # committed with the rename, atomically: "committed, not verified"
            tail.append("UPDATE runbook.runs SET status = 'committed', summary = "
                        "'{\"verified\": false}'::jsonb WHERE id = " + literal(self.ctx.run_id))
        return tail, row

    def _transaction(self, conn, batch: LockBatch, tail: list[str], audit_row: dict | None, prepare: list[Op] | None,
                     rehearse: bool) -> tuple[dict[str, float], list[StepResult], float]:
        """One attempt: the settings, a rehearsal's prepare steps, the batch's round trips,
        the marks read back, COMMIT (a rehearsal: ROLLBACK). Returns the marks, the
        rehearsal's prepare steps and the time from the first round trip to the COMMIT."""
        opt = self.ctx.opt
        with conn.cursor() as cur:
            cur.execute(session_settings(opt))
            prep_steps = rehearse_prepare(cur, prepare, opt.batch_size) if prepare else []
            t_start = time.perf_counter()
            for sql, stop in batch.round_trips(tail):
                if sql:
                    cur.execute(sql)
                if stop is not None:
                    fault(stop, "after")
            marks = batch.read(cur.fetchone())
            if audit_row is not None:
                self.ctx.audit_rows.append(audit_row)
            if rehearse:
                conn.rollback()
            else:
                conn.commit()
                self.committed = True
            t_end = time.perf_counter()
        return marks, prep_steps, t_end - t_start

    def _record(self, batch: LockBatch, marks: dict, attempt: int, elapsed: float, prep_steps: list[StepResult],
                bar, rehearse: bool) -> None:
        """After the COMMIT (or the rehearsal's ROLLBACK): the times, the steps, the log."""
        ctx = self.ctx
        wait, steps = batch.step_results(marks, attempt)
        self.wait = wait
        self.window = max(0.0, elapsed - wait)
        self.attempts = attempt
        ctx.steps.extend(prep_steps)
        for st in prep_steps:
            ctx.log(f"step {st.step} {st.description} (in the rehearsal's transaction): {st.seconds:.3f}s")
            bar.update(1)
        ctx.steps.extend(steps)
        for st in steps:
            ctx.log(f"step {st.step} {st.description}: {st.seconds * 1000:.2f} ms")
            bar.update(1)
        ctx.log(f"{'rolled back (rehearsal)' if rehearse else 'committed'}: exclusive locks held "
                f"{self.window * 1000:.2f} ms (waited {self.wait * 1000:.2f} ms, attempt {attempt})")
        ctx.timings["lock window"] = self.window
