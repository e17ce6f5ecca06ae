"""The legacy merge's runner: it takes the locks, opens or resumes a run in the
bookkeeping, executes the operations' batches (:class:`runbook.ops.MergeLegacy` and its
reverse :class:`runbook.ops.UnmergeLegacy`) one short transaction each, shows the
progress and reports."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace

from ..connection import connect, redact, resolve_url
from ..errors import BadInput, WrongState
from ..ops.merge import DEFAULT_BATCH, PLACEHOLDER_TITLE, MergeLegacy, UnmergeLegacy
from .book import active_run, counts, ensure_schema, has_runs, lock, scalar
from .report import MergeResult, report, rollback_checks
from .tables import Tables, has_user_triggers, require_renamed, tables_of


def _progress(total: int, initial: int, enabled: bool, desc: str):
    """The merge's bar: drawn only where someone watches it (runbook.progress)."""
    from ..progress import bar

    return bar(desc, total=total, unit="msg", enabled=enabled, initial=initial)


def _locked(conn, cur, lock_wait: float) -> None:
    """Take the locks outside a transaction (they are the session's)."""
    conn.commit()
    conn.autocommit = True
    lock(cur, lock_wait)
    conn.autocommit = False


# --------------------------------------------------------------------------- merge


@dataclass
class _Merge:
    """A merge run in progress: its operation, where it stands, and this invocation's work."""

    op: MergeLegacy
    cursor: str | None
    batches: int
    before: dict
    resumed: bool
    rows: int = 0
    n_batches: int = 0


def merge_legacy(url: str | None = None, *, mapping=None, batch_size: int = DEFAULT_BATCH, placeholder: str | None = None,
                 schema: str = "public", progress: bool = True, verify: bool = True, list_limit: int = 100,
                 stop_after_batches: int | None = None, lock_wait: float = 15.0) -> MergeResult:
    """Merge the legacy conversations and messages into the service's tables (see
    :mod:`runbook.merge` for the rules). Resumes an interrupted run; on a merged database
    it only reports. ``stop_after_batches`` ends the invocation early (as a kill would,
    but cleanly), for tests."""
    if batch_size < 1:
        raise BadInput(f"--batch-size must be at least 1, got {batch_size}")
    t = tables_of(mapping)
    url = resolve_url(url)
    conn = connect(url, application_name="runbook-merge", autocommit=False)
    try:
        conn.autocommit = True
        snap = require_renamed(conn, t, schema)
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = '5min'")
            _locked(conn, cur, lock_wait)
            ensure_schema(conn)
            run = active_run(cur)
            if run and run[1] == "rolling back":
                raise WrongState(f"merge run {run[0]} is half rolled back: finish it with `runbook merge-legacy --rollback`")
            if run and run[1] == "done":
                conn.commit()
                return report(conn, t, run[0], schema, "already done", 0, 0.0, 0, verify, list_limit, False,
                              database=redact(url))
            m = _resume(t, run, placeholder) if run else _start(cur, t, schema, placeholder)
            conn.commit()
            fixup = has_user_triggers(snap, m.op.schema, t.dst_messages)
            return _merge(conn, cur, t, m, batch_size, fixup, progress, verify, list_limit, stop_after_batches,
                          redact(url))
    finally:
        conn.close()  # also releases the advisory locks


def _resume(t: Tables, run, placeholder: str | None) -> _Merge:
    run_id, _, ph, prefix, cursor, batches, before, schema = run
    if placeholder is not None and placeholder != ph:
        raise BadInput(f"merge run {run_id} was started with placeholder title {ph!r}; resume it with the "
                       "same one (or roll it back first)")
    return _Merge(MergeLegacy(schema, *t.all, run_id, ph, prefix), cursor, batches, before, True)


def _start(cur, t: Tables, schema: str, placeholder: str | None) -> _Merge:
    op = MergeLegacy(schema, *t.all, 0, placeholder or PLACEHOLDER_TITLE)
    if not op.placeholder.strip():
        raise BadInput("the placeholder title must not be empty")
    before = counts(cur, t, schema)
    cur.execute("INSERT INTO runbook.merge_runs (status, schema_name, placeholder, id_prefix, before) "
                "VALUES ('running', %s, %s, %s, %s) RETURNING id",
                (schema, op.placeholder, op.prefix, json.dumps(before)))
    return _Merge(replace(op, run=cur.fetchone()[0]), None, 0, before, False)


def _conversations_per_batch(t: Tables, m: _Merge, batch_size: int) -> int:
    """Whole conversations per batch: about batch_size messages at the average size."""
    convs, msgs = m.before[t.src_sessions], m.before[t.src_messages]
    return max(1, round(batch_size * convs / msgs)) if msgs else max(1, batch_size)


def _messages_done(conn, cur, t: Tables, m: _Merge) -> int:
    """The legacy messages earlier invocations of this run merged or skipped."""
    done = scalar(cur, "SELECT coalesce(sum(cardinality(ids)), 0) FROM runbook.merged "
                       "WHERE run = %s AND target = %s", (m.op.run, t.dst_messages))
    done += scalar(cur, "SELECT count(*) FROM runbook.merge_skipped WHERE run = %s AND source = %s",
                   (m.op.run, t.src_messages))
    conn.commit()
    return int(done)


def _merge(conn, cur, t: Tables, m: _Merge, batch_size: int, fixup: bool, progress: bool, verify: bool,
           list_limit: int, stop_after_batches: int | None, database: str) -> MergeResult:
    """The batches until none is left (or ``stop_after_batches``), then the run is done."""
    k = _conversations_per_batch(t, m, batch_size)
    done = _messages_done(conn, cur, t, m)
    t0 = time.perf_counter()
    bar = _progress(m.before[t.src_messages], done, progress, "merge legacy messages")
    try:
        while True:
            n_msg = _merge_batch(conn, cur, m, k, fixup)
            if n_msg is None:
                break
            bar.update(n_msg)
            if stop_after_batches is not None and m.n_batches >= stop_after_batches:
                return report(conn, t, m.op.run, m.op.schema, "interrupted", m.n_batches, time.perf_counter() - t0,
                              m.rows, False, list_limit, m.resumed, database=database)
    finally:
        bar.close()
    return _finish_merge(conn, cur, t, m, time.perf_counter() - t0, verify, list_limit, database)


def _merge_batch(conn, cur, m: _Merge, k: int, fixup: bool) -> int | None:
    """One batch, its own transaction: the legacy messages it read, or None when no
    conversation was left (nothing is written then)."""
    cur.execute(m.op.batch_statement(m.cursor is None), m.op.batch_params(m.batches + 1, m.cursor, k))
    n_conv, n_s, n_msg, n_m, ids = cur.fetchone()
    if n_conv == 0:
        conn.rollback()  # nothing was written; the empty batch is not recorded
        return None
    if fixup and ids:
        cur.execute(m.op.fixup_statement(), {"ids": ids})
    conn.commit()
    m.cursor = scalar(cur, "SELECT cursor FROM runbook.merge_runs WHERE id = %s", (m.op.run,))
    conn.commit()
    m.batches += 1
    m.n_batches += 1
    m.rows += n_s + n_m
    return n_msg


def _finish_merge(conn, cur, t: Tables, m: _Merge, seconds: float, verify: bool, list_limit: int,
                  database: str) -> MergeResult:
    """Mark the run done, and keep its report with it."""
    cur.execute("UPDATE runbook.merge_runs SET status = 'done', finished_at = now() WHERE id = %s", (m.op.run,))
    conn.commit()
    result = report(conn, t, m.op.run, m.op.schema, "done", m.n_batches, seconds, m.rows, verify, list_limit,
                    m.resumed, database=database)
    cur.execute("UPDATE runbook.merge_runs SET summary = %s WHERE id = %s",
                (json.dumps(result.to_dict(), default=str), m.op.run))
    conn.commit()
    return result


def merge_status(url: str | None = None, *, mapping=None, schema: str = "public",
                 list_limit: int = 100) -> MergeResult | None:
    """The last merge run's report (None when there is none); changes nothing."""
    t = tables_of(mapping)
    url = resolve_url(url)
    conn = connect(url, application_name="runbook-merge", autocommit=False)
    try:
        with conn.cursor() as cur:
            if not has_runs(cur):
                return None
            cur.execute("SELECT id, status, schema_name FROM runbook.merge_runs ORDER BY id DESC LIMIT 1")
            row = cur.fetchone()
        if not row:
            return None
        return report(conn, t, row[0], row[2], row[1], 0, 0.0, 0, row[1] == "done", list_limit, False,
                      database=redact(url))
    finally:
        conn.close()


# --------------------------------------------------------------------------- rollback


@dataclass
class _Unmerge:
    """A rollback in progress: its operation, the sessions kept so far, this invocation's work."""

    op: UnmergeLegacy
    kept: list[str]
    total: int
    rows: int = 0
    n_batches: int = 0


def rollback_merge(url: str | None = None, *, mapping=None, progress: bool = True, list_limit: int = 100,
                   stop_after_batches: int | None = None, lock_wait: float = 15.0) -> MergeResult:
    """Delete exactly the rows the last merge run inserted, batch by batch (newest first),
    each batch its own transaction; resumable like the merge. A merged session that
    now holds messages the merge did not write is kept (and reported)."""
    t = tables_of(mapping)
    url = resolve_url(url)
    conn = connect(url, application_name="runbook-merge-rollback", autocommit=False)
    try:
        with conn.cursor() as cur:
            u = _open_rollback(conn, cur, t, lock_wait)
            t0 = time.perf_counter()
            _unmerge(conn, cur, t, u, progress, stop_after_batches)
            return _finish_rollback(conn, cur, t, u, time.perf_counter() - t0, list_limit, redact(url))
    finally:
        conn.close()


def _open_rollback(conn, cur, t: Tables, lock_wait: float) -> _Unmerge:
    """Lock, find the run to roll back and mark it so."""
    if not has_runs(cur):
        raise WrongState("nothing to roll back: no merge-legacy run is recorded in this database")
    _locked(conn, cur, lock_wait)
    run = active_run(cur)
    if run is None:
        raise WrongState("nothing to roll back: no merged (or half-merged) run is recorded in this database")
    op = UnmergeLegacy(run[7], *t.all, run[0], run[2], run[3])
    cur.execute("UPDATE runbook.merge_runs SET status = 'rolling back' WHERE id = %s", (op.run,))
    conn.commit()
    total = scalar(cur, "SELECT coalesce(sum(cardinality(ids)), 0) FROM runbook.merged WHERE run = %s "
                        "AND target = %s", (op.run, t.dst_messages))
    kept = list(scalar(cur, "SELECT summary -> 'kept' FROM runbook.merge_runs WHERE id = %s", (op.run,)) or [])
    conn.commit()
    return _Unmerge(op, kept, int(total))


def _unmerge(conn, cur, t: Tables, u: _Unmerge, progress: bool, stop_after_batches: int | None) -> None:
    """The recorded batches, newest first, until none is left (or ``stop_after_batches``)."""
    bar = _progress(u.total, 0, progress, "roll back merged messages")
    try:
        while True:
            n_msg = _unmerge_batch(conn, cur, t, u)
            if n_msg is None:
                break
            bar.update(n_msg)
            if stop_after_batches is not None and u.n_batches >= stop_after_batches:
                break
    finally:
        bar.close()


def _unmerge_batch(conn, cur, t: Tables, u: _Unmerge) -> int | None:
    """One recorded batch deleted and forgotten, its own transaction: the messages it
    recorded, or None when no batch was left."""
    op = u.op
    cur.execute(op.next_batch_statement(), op.batch_params())
    row = cur.fetchone()
    if row is None:
        conn.rollback()
        return None
    cur.execute(op.batch_ids_statement(), op.batch_params(row[0]))
    ids = dict(cur.fetchall())
    p = op.batch_params(row[0], ids.get(t.dst_messages, []), ids.get(t.dst_sessions, []))
    cur.execute(op.delete_messages_statement(), p)
    u.rows += cur.rowcount
    cur.execute(op.lock_sessions_statement(), p)
    cur.execute(op.delete_sessions_statement(), p)
    deleted = {r[0] for r in cur.fetchall()}
    u.rows += len(deleted)
    cur.execute(op.remaining_sessions_statement(), p)
    u.kept += sorted(r[0] for r in cur.fetchall() if r[0] not in deleted)
    cur.execute(op.forget_batch_statement(), p)
    cur.execute("UPDATE runbook.merge_runs SET summary = jsonb_set(coalesce(summary, '{}'), '{kept}', "
                "%s::jsonb) WHERE id = %s", (json.dumps(u.kept), op.run))
    conn.commit()
    u.n_batches += 1
    return len(p["messages"])


def _finish_rollback(conn, cur, t: Tables, u: _Unmerge, seconds: float, list_limit: int,
                     database: str) -> MergeResult:
    """Mark the run rolled back (or still rolling back when batches are left) and report;
    the checks once no batch is left (the operation's check)."""
    done = scalar(cur, f"SELECT {u.op.check()}")
    status = "rolled back" if done else "rolling back"
    cur.execute("UPDATE runbook.merge_runs SET status = %s, finished_at = now() WHERE id = %s", (status, u.op.run))
    conn.commit()
    r = report(conn, t, u.op.run, u.op.schema, status, u.n_batches, seconds, u.rows, False, list_limit, False,
               tuple(u.kept), database=database)
    checks = rollback_checks(conn, t, u.op.run, u.op.schema, u.op.prefix, u.kept) if done else []
    return replace(r, checks=tuple(checks))
