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
from dataclasses import fields

import psycopg2

from .. import state
from ..errors import MigrationFailed
from ..naming import literal, qq
from ..ops import (LOCK, MAKES_VIEW, SET_CHECKS, FillNulls, Op, RenameCompatView, RenameTable, end_checks,
                   set_check_key)
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


#: the checks mark's value when a table's storage (relfilenode) changed under the lock
STORAGE_CHANGED = -2


def mark(tag: str, failing: str = "0") -> str:
    """Store the server time and ``failing`` (an SQL integer: the first step whose check
    does not hold, 0 when none) in the setting ``runbook.m_<tag>``."""
    return (f"SELECT set_config('runbook.m_{tag}', extract(epoch FROM clock_timestamp())::text || ' ' || "
            f"coalesce(({failing})::text, '-1'), true)")


def folded(tail: list[str], select: str) -> str:
    """``select`` with the statements of ``tail`` (INSERTs and UPDATEs, without RETURNING)
    as data-modifying ``WITH`` queries, which run once and to the end whether or not it
    reads them: one statement under the lock, not one each (after the window's catalog
    changes each statement costs 0.3-0.5 ms of cache misses before it runs; the limit has
    none). A statement of another shape is sent before it, as it is."""
    ctes, before = [], []
    for s in tail:
        if re.match(r"\s*(INSERT|UPDATE)\b", s, re.I) and not re.search(r"\bRETURNING\b", s, re.I):
            ctes.append(f"runbook_w{len(ctes)} AS ({s} RETURNING 1)")
        else:
            before.append(s)
    return ";\n".join([*before, (f"WITH {', '.join(ctes)} " if ctes else "") + select])


def first_failing(steps: list[tuple[int, Op]], own: dict[int, str] | None = None) -> str:
    """An SQL integer: the first of ``steps`` (number, operation) whose check does not
    hold, or 0. The steps of a kind with a set check (:data:`runbook.ops.SET_CHECKS`) are
    read by one query; the others' checks, and those ``own`` gives (by step number), are
    listed one by one."""
    sets: dict[str, list[tuple[int, Op]]] = {}
    single = []
    own = own or {}
    for i, op in steps:
        key = set_check_key(op)
        if i in own:
            single.append(f"({i}, ({own[i]}))")
        elif key:
            sets.setdefault(key, []).append((i, op))
        else:
            single.append(f"({i}, ({op.check()}))")
    parts = []
    for key, rows in sets.items():
        cols, fails = SET_CHECKS[key]
        values = ", ".join(f"({i}, {', '.join(literal(x) for x in op.set_check_values())})" for i, op in rows)
        parts.append(f"(SELECT min(v.n) FROM (VALUES {values}) v(n, {', '.join(cols)}) WHERE {fails})")
    if single:
        parts.append(f"(SELECT min(v.n) FROM (VALUES {', '.join(single)}) v(n, ok) WHERE v.ok IS NOT TRUE)")
    return f"coalesce(least({', '.join(parts)}), 0)" if parts else "0"


def _key(op: Op, aspect: str | None, value: str) -> tuple:
    table = getattr(op, "table_name", "") if op.name_scope == "table" else ""
    return aspect, op.name_scope, getattr(op, "schema", ""), table, value


def reads(op: Op) -> set[tuple]:
    """What a step's check may read: every name among its fields, where its kind's names
    live, the table it works on, and whatever it changes itself."""
    out = {_key(op, None, v) for f in fields(op) if f.name not in ("schema", "table_name")
           for v in _texts(getattr(op, f.name))}
    if op.name_scope == "table" and isinstance(getattr(op, "table_name", None), str):
        out.add((None, "relation", op.schema, "", op.table_name))
    return out | (changes(op) or set())


def changes(op: Op) -> set[tuple] | None:
    """What a step changes (:attr:`runbook.ops.Op.changes`), None when it does not say."""
    if op.changes is None:
        return None
    return {_key(op, aspect, v) for aspect, f in op.changes for v in _texts(getattr(op, f))}


def _texts(v) -> list[str]:
    return [v] if isinstance(v, str) else [x for x in v if isinstance(x, str)] if isinstance(v, tuple) else []


class LockBatch:
    """The SQL of one lock window, built once for all its attempts: the steps numbered
    from ``step0 + 1``, cut into round trips (one, unless a kill or pause fault asks for
    a stop after a step), and the storage check of the baseline's tables.

    The steps run in *groups*, each timed by one mark after it (a mark a step cost more
    than the steps themselves: bench/lock.py --breakdown): one group, unless a later step
    changes a name that an earlier step's check reads (a table renamed after its
    constraint, a chain of renames), or a fault stops the process after a step. Each
    step's check is read once: at the end of the batch, all in one statement (a set query
    per kind of check), or, for a check a later step falsifies, at the end of its group,
    which ends before that later step."""

    def __init__(self, plan: Plan, step0: int, base_tables: dict, fault_: LockFault):
        self.plan = plan
        self.step0 = step0
        self.fault = fault_
        self.numbered = list(enumerate(plan.phase(LOCK), start=step0 + 1))
        self.groups: list[list[tuple[int, Op]]] = []
        self._superseded: set[int] = set()
        #: the table renames whose old name a compat view of the plan takes: checked at
        #: the end as renamed with that view under the old name (:func:`runbook.ops.end_checks`),
        #: not before the view renames, in a group of their own
        self._under_view = {i: c for (i, op), c in zip(self.numbered, end_checks([o for _, o in self.numbered]))
                            if isinstance(op, RenameTable) and c != op.check()}
        self._group()
        failing = first_failing([(i, op) for i, op in self.numbered if i not in self._superseded], self._under_view)
        storage = sorted({p for oid, t in base_tables.items() for p in storage_pairs(oid, t)})
        if storage:  # a partitioned table's leaves: its own relfilenode is 0
            pairs = ", ".join(f"({o}, {f})" for o, f in storage)
            failing = (f"CASE WHEN (SELECT count(*) FROM pg_class WHERE (oid, relfilenode) IN ({pairs})) <> "
                       f"{len(storage)} THEN {STORAGE_CHANGED} ELSE {failing} END")  # catalog only
        self.tags = ["start", "locked", *(f"g{k}" for k in range(len(self.groups))), "checks"]
        #: the marks whose check is more than "0", by tag: prepared before the window
        #: (:meth:`prepare`), or sent as they are
        self.checked_marks = {f"g{k}": mark(f"g{k}", f) for k in range(len(self.groups))
                              if (f := first_failing([(i, op) for i, op in self.groups[k] if i in self._superseded]))
                              != "0"}
        self.checked_marks["checks"] = mark("checks", failing)
        self.prepared: dict[str, str] = {}  # tag -> the name of its prepared statement
        self.read_marks = "SELECT " + ", ".join(f"current_setting('runbook.m_{t}', true)" for t in self.tags)

    def prepare(self, cur, name: str) -> None:
        """Before the window, in its transaction (a pooler in transaction mode keeps one
        server session for it): the marks that read checks are parsed and planned as
        prepared statements, each run once, so that under the lock only their executor
        runs (on the reference plan: 1.4 ms of parsing and planning, 0.4 ms left; the
        checks are functions evaluated when run: the plan does not fold the pre-window
        catalog in). In a savepoint: where it cannot be done, the marks are sent as SQL,
        as before. The window deallocates them (:meth:`round_trips`)."""
        cur.execute("SAVEPOINT runbook_prepare")
        try:
            views = [qq(op.view_schema, op.staged) for _, op in self.numbered if type(op) is RenameCompatView]
            if views:
                # the staged views opened once (their relation cache entries, rules and all,
                # built now and kept by this session, as the renames alone change nothing
                # in them): in the window their renames find them built. pg_relation_size
                # locks the view alone (ACCESS SHARE), not the tables it reads.
                cur.execute("SELECT count(pg_relation_size(to_regclass(v))) FROM unnest(%s::text[]) v", (views,))
            for tag, sql in self.checked_marks.items():
                cur.execute(f"PREPARE {name}_{tag} AS {sql}")
                self.prepared[tag] = f"{name}_{tag}"
                cur.execute(f"EXECUTE {name}_{tag}")  # its generic plan, cached
            cur.execute("RELEASE SAVEPOINT runbook_prepare")
        except psycopg2.Error:
            cur.execute("ROLLBACK TO SAVEPOINT runbook_prepare")
            self.deallocate(cur)

    def deallocate(self, cur) -> None:
        """The prepared marks dropped (a prepared statement outlives its transaction)."""
        for stmt in self.prepared.values():
            try:
                cur.execute(f"DEALLOCATE {stmt}")
            except psycopg2.Error:
                pass
        self.prepared = {}

    def _mark(self, tag: str) -> str:
        if tag in self.prepared:
            return f"EXECUTE {self.prepared[tag]}"
        return self.checked_marks.get(tag) or mark(tag)

    def _group(self) -> None:
        """The groups, and the steps whose check a later step may falsify."""
        read = {i: reads(op) for i, op in self.numbered}
        for n, (j, op) in enumerate(self.numbered):
            changed = changes(op)
            hit = {i for i, o in self.numbered[:n] if changed is None or read[i] & changed}
            if type(op) in MAKES_VIEW:  # the table that left the view's name: its end check says so
                hit -= {i for i, o in self.numbered[:n]
                        if i in self._under_view and (o.schema, o.old) == (op.view_schema, op.view)}
            self._superseded |= hit
            g = self.groups[-1] if self.groups else None
            if g is None or hit & {i for i, _ in g} or self.fault.stops_after(g[-1][0]):
                self.groups.append([])
            self.groups[-1].append((j, op))

    def _group_sql(self, k: int) -> str:
        body = []
        for i, op in self.groups[k]:
            if self.fault.fails_at(i):
                body.append(f"DO $rb$ BEGIN RAISE EXCEPTION 'injected failure at step {i}'; END $rb$")
            body.extend(op.statements())
        body.append(self._mark(f"g{k}"))
        return ";\n".join(body)

    def round_trips(self, tail: list[str], fold: bool = True):
        """(SQL, the step after which a fault stops the process, or None), one per round
        trip: the locks first, then the steps; the checks, ``tail`` (the audit row, the
        status) and the reading of the marks end the last one. With ``fold``, ``tail``'s
        INSERTs and UPDATEs are data-modifying ``WITH`` queries of the statement that reads
        the marks (:func:`folded`)."""
        head = [mark("start")]
        if self.plan.lock_tables:
            head.append(f"LOCK TABLE {', '.join(self.plan.lock_tables)} IN ACCESS EXCLUSIVE MODE")
        head.append(mark("locked"))
        sql = list(head)
        for k, g in enumerate(self.groups):
            sql.append(self._group_sql(k))
            last = g[-1][0]
            if self.fault.stops_after(last):
                yield ";\n".join(sql), last
                sql = []
        sql.append(self._mark("checks"))
        sql.extend(f"DEALLOCATE {stmt}" for stmt in self.prepared.values())
        if fold:
            sql.append(folded(tail, self.read_marks))
        else:
            sql.extend(tail)
            sql.append(self.read_marks)
        yield ";\n".join(sql), None

    def read(self, values) -> dict[str, float]:
        """The marks read back, by tag (``start``, ``locked``, ``g<k>``, ``checks``): their
        server times; a step whose check did not hold stops the run here (rolled back)."""
        marks = {}
        ops = dict(self.numbered)
        for tag, v in zip(self.tags, values):
            if v:
                t, _, failing = v.partition(" ")
                marks[tag] = float(t)
                if failing == str(STORAGE_CHANGED):
                    raise MigrationFailed("a table's storage changed under the lock (relfilenode); "
                                          "rolled back")
                if failing not in ("", "0"):
                    n = int(failing)
                    what = (f"step {n} did not take effect ({ops[n].describe()})" if n in ops
                            else "a step's check could not be read")
                    raise MigrationFailed(f"{what}; rolled back", step=n if n in ops else None)
        return marks

    def step_results(self, marks: dict[str, float], attempt: int) -> tuple[float, list[StepResult]]:
        """The wait for the locks, and each step's server time, from the marks: a group's
        time shared by its steps (``StepResult.shared``: how many)."""
        wait = max(0.0, marks.get("locked", 0) - marks.get("start", 0))
        steps = []
        prev = marks.get("locked", 0)
        for k, g in enumerate(self.groups):
            t = marks.get(f"g{k}", prev)
            for i, op in g:
                steps.append(StepResult(i, op.phase, op.kind, op.describe(), max(0.0, t - prev) / len(g),
                                        wait if i == self.step0 + 1 else 0.0, attempt, shared=len(g)))
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


def _has_rules(conn, schema: str, table: str | None) -> bool:
    """Whether the audit table (or runbook's own, where it falls back) has rules: a
    data-modifying ``WITH`` query refuses a table with rules, so its INSERT is sent apart."""
    with conn.cursor() as cur:
        cur.execute("SELECT coalesce(bool_or(relhasrules), false) FROM pg_class WHERE oid IN "
                    "(to_regclass(%s), to_regclass(%s))", (qq(schema, table) if table else None, qq(*audit.FALLBACK)))
        return cur.fetchone()[0]


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
        self.fold = True  # the audit row and the status in the statement that reads the marks
        self.window = 0.0
        self.wait = 0.0
        self.attempts = 0

    def run(self, conn, plan: Plan, step0: int, bar, *, rehearse: bool = False, event: str = "migration_complete",
            base_tables: dict | None = None, mark_committed: bool = False,
            prepare: list[Op] | None = None, mark: tuple[str, str] | None = None) -> tuple[float, float, int]:
        """Run the plan's lock steps (numbered from ``step0 + 1``) in one transaction; a
        rehearsal rolls it back, having run ``prepare`` in it first. ``event``: the audit
        row written in it (none in a rehearsal); ``mark_committed``: the run's status row
        becomes ``committed`` in it; ``mark`` (run id, status): that run's row gets that status
        in it (a contract). Returns (lock window, wait, attempt)."""
        ctx, opt = self.ctx, self.ctx.opt
        tables = [t for t in plan.tables if t.oid]
        if not plan.phase(LOCK) and not prepare:
            self.window = self.wait = 0.0
            self.attempts = 0
            return 0.0, 0.0, 0
        batch = LockBatch(plan, step0, base_tables or {}, LockFault.from_env())
        for attempt in range(1, opt.attempts + 1):
            tail, audit_row = self._tail(conn, plan, event, rehearse, mark_committed)
            if mark is not None and not rehearse:
                tail.append(f"UPDATE runbook.runs SET status = {literal(mark[1])}, finished_at = now() "
                            f"WHERE id = {literal(mark[0])}")
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
                    if batch.prepared:  # a window that did not reach its DEALLOCATE
                        with conn.cursor() as cur:
                            batch.deallocate(cur)
        raise AssertionError("unreachable")

    def _tail(self, conn, plan: Plan, event: str, rehearse: bool, mark_committed: bool) -> tuple[list[str], dict | None]:
        """What ends the batch before the marks are read: the audit row's INSERT (asked of
        the server before the transaction starts: the audit table's name and columns) and
        the run's ``committed`` status; and the audit row. A rehearsal has neither."""
        if rehearse:
            return [], None
        at_now, at_after = audit_names(conn, self.ctx.mapping, plan)
        self.fold = not _has_rules(conn, self.ctx.mapping.schema, at_now)
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
            batch.prepare(cur, "runbook_mark")  # parsed and planned before the locks are taken
            # the SQL built before the window (0.3 ms of Python on the reference plan)
            trips = list(batch.round_trips(tail, fold=self.fold))
            t_start = time.perf_counter()
            for sql, stop in trips:
                if sql:
                    cur.execute(sql)
                if stop is not None:
                    fault(stop, "after")
            batch.prepared = {}  # deallocated by the last round trip
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
