"""The online steps (the prepare and finish phases, the rollback's NULL restore): each in
its own short transactions with the online ``lock_timeout``, retried on a lock timeout
with capped exponential backoff and jitter. A fill goes by heap pages (PostgreSQL 14+)
or up the primary key, then picks up whatever ``SKIP LOCKED`` passed over."""

from __future__ import annotations

import random
import time

import psycopg2

from ..connection import connect
from ..errors import LockTimeout
from ..naming import literal
from ..ops import FillNulls, Op, RestoreNulls, _reg
from .context import RunContext, RunLog
from .failures import is_lock_timeout
from .options import Options

_jitter = random.SystemRandom()


def backoff(opt: Options, log: RunLog, attempt: int, of: int | None = None) -> None:
    """Wait before attempt ``attempt + 1``: capped exponential backoff with full jitter."""
    delay = _jitter.uniform(0, min(opt.backoff_cap, opt.backoff_base * 2 ** (attempt - 1)))
    log(f"lock not available (attempt {attempt}/{of or opt.attempts}); retrying in {delay:.2f}s")
    time.sleep(delay)


def lock_timeout_error(url: str, tables, attempts: int, timeout: str) -> LockTimeout:
    """The error of a lock not taken: who holds locks on ``tables`` (the plan's, with an
    oid), as far as this role may see."""
    blockers = []
    try:
        c = connect(url, application_name="runbook-diag", autocommit=True)
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
                ([int(t.oid) for t in tables],),
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
    return LockTimeout(f"could not take the locks within {timeout} after {attempts} attempts; "
                       f"blocked by {who}; nothing was changed", blockers=blockers)


class Online:
    """Runs online steps for one run. ``tables``: the plan's tables (with an oid) whose
    lock holders a lock timeout names; none before the lock phase (then it names no one)."""

    def __init__(self, ctx: RunContext, tables=()):
        self.ctx = ctx
        self.opt = ctx.opt
        self.tables = list(tables)

    def run(self, conn, op: Op) -> None:
        """A prepare/finish step: its own short transactions, retried on lock timeout."""
        if type(op) is RestoreNulls:
            self._restore_nulls(conn, op)
        elif type(op) is FillNulls:  # not its subclass RestoreNulls
            self._fill_nulls(conn, op)
        else:
            for tx in op.transactions():
                self.retry(conn, tx)

    def _restore_nulls(self, conn, op: RestoreNulls) -> None:
        self.retry(conn, op.cleanup_statements())
        from ..progress import bar, finish

        with bar(f"restore NULLs of {op.table_name}.{op.column}", unit="row", enabled=self.opt.progress,
                 leave=False) as pb:
            while True:
                n = self.retry(conn, [op.batch_statement(self.opt.batch_size)], fetch=True)
                pb.update(n)
                if n == 0:
                    break
            finish(pb)

    def _fill_nulls(self, conn, op: FillNulls) -> None:
        self.retry(conn, op.install_statements())
        from ..progress import bar, finish

        with bar(f"fill {op.table_name}.{op.column}", unit="row", enabled=self.opt.progress, leave=False) as pb:
            if self._by_pages(conn):
                self._fill_pages(conn, op, pb)
            else:
                after = None
                while True:  # one pass up the primary key ...
                    n, after_ = self.retry(conn, [op.keyset_statement(self.opt.batch_size, after)], fetch=2)
                    pb.update(n)
                    if n == 0:
                        break
                    after = after_
            while True:  # ... then whatever SKIP LOCKED passed over (usually nothing)
                n = self.retry(conn, [op.batch_statement(self.opt.batch_size)])
                pb.update(n)
                if n == 0:
                    break
            finish(pb)

    def _by_pages(self, conn) -> bool:
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
            n = self.retry(conn, [op.pages_statement(page, pages)], fetch=True)
            pb.update(n)
            page += pages
            if n > batch:
                pages = max(1, pages // 2)
            elif n < batch // 2:
                pages = min(most, pages * 2)

    def retry(self, conn, statements: list[str], fetch: int = 0):
        """Run statements in one short online transaction with the online lock_timeout;
        retry on 55P03 with capped exponential backoff and jitter. Returns the last
        statement's row count, or (``fetch``) its first value, or (``fetch=2``) its row."""
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
                if not is_lock_timeout(exc) or attempt == attempts:
                    if is_lock_timeout(exc):
                        raise lock_timeout_error(self.ctx.url, self.tables, attempt,
                                                 self.opt.online_lock_timeout) from None
                    raise
                backoff(self.opt, self.ctx.log, attempt, attempts)
            finally:
                conn.autocommit = True
        return 0
