"""The legacy merge (spec sections 1 and 3.2: legacy conversations and messages "to be
merged"): ``runbook merge-legacy``. The mapping's ``[merge]`` names the four tables
(the default mapping names the spec's); their columns are the spec's shape, checked
before anything runs.

An explicit phase of its own, run only after the rename has committed, never inside
its lock window. The rules, stated once:

* a legacy conversation becomes a session **with the same id** (legacy ids are cuids,
  like the service's); ``title`` is the legacy title, or :data:`PLACEHOLDER_TITLE`
  when it is NULL; ``lastMessageAt`` is the ``createdAt`` of its newest message (NULL
  when it has none); ``userId``, ``createdAt`` and ``updatedAt`` are kept; ``folderId``
  is NULL and ``isActive`` takes its default;
* a legacy message (integer id) becomes a message with the id
  ``'legacy-msg-' || id`` (:data:`MESSAGE_ID_PREFIX`): a cuid is ``c`` and 24
  lowercase base-36 characters and never holds a hyphen, so the two cannot collide;
  ``sessionId`` is its conversation's id; ``role``, ``content`` and ``createdAt`` are
  kept; ``metadata`` is NULL;
* a row whose id already exists in the target is **not overwritten**: it is counted
  and listed (``runbook.merge_skipped``), and the messages of a conversation that was
  not merged are skipped with it, so that they cannot land in someone else's session.

The legacy tables are read, never changed. Work goes in batches of whole conversations
(about ``batch_size`` messages each), each batch one short transaction that inserts the
sessions and their messages, records the inserted ids (``runbook.merged``, one array
per batch and target), records the skipped rows and advances the cursor, so a run
killed at any point continues where it stopped and ends with exactly the rows of an
uninterrupted run. ``--rollback`` deletes exactly the recorded ids, batch by batch.

A session the service wrote messages into after the merge is kept by the rollback
(deleting it would cascade to those messages); it is reported.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field

import psycopg2
import psycopg2.errors

from .connection import connect, redact, resolve_url
from .errors import BadInput, ConcurrentRun, WrongState
from .naming import literal, qq
from .checks import Check, Kind

__all__ = ["merge_legacy", "rollback_merge", "merge_status", "merged_rows_present", "MergeResult", "MESSAGE_ID_PREFIX", "PLACEHOLDER_TITLE"]

#: Legacy message ``id`` 123 becomes ``legacy-msg-123``.
MESSAGE_ID_PREFIX = "legacy-msg-"
#: The title of a legacy conversation whose title is NULL (the same placeholder the
#: rename gives a NULL ``sessionName``, see runbook/data/mapping.toml).
PLACEHOLDER_TITLE = "Untitled chat"
DEFAULT_BATCH = 10_000


#: The merge takes its own advisory lock (one merge at a time) and the engine's (no
#: migrate or rollback of the rename while it runs).
MERGE_LOCK_KEY = 0x72756E626F6F6C  # "runbool"

SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS runbook;
CREATE TABLE IF NOT EXISTS runbook.merge_runs (
    id bigserial PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status text NOT NULL,            -- running | done | rolling back | rolled back
    schema_name text NOT NULL,
    placeholder text NOT NULL,
    id_prefix text NOT NULL,
    cursor text,                     -- the last legacy conversation id merged (keyset)
    batches integer NOT NULL DEFAULT 0,
    before jsonb NOT NULL,           -- row counts when the run started
    summary jsonb
);
CREATE TABLE IF NOT EXISTS runbook.merged (
    run bigint NOT NULL REFERENCES runbook.merge_runs (id),
    batch integer NOT NULL,
    target text NOT NULL,
    ids text[] NOT NULL,
    PRIMARY KEY (run, batch, target)
);
CREATE TABLE IF NOT EXISTS runbook.merge_skipped (
    run bigint NOT NULL REFERENCES runbook.merge_runs (id),
    source text NOT NULL,
    source_id text NOT NULL,
    target text NOT NULL,
    target_id text NOT NULL,
    reason text NOT NULL,
    PRIMARY KEY (run, source, source_id)
);
"""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class TableCount:
    table: str
    role: str  # source | target
    before: int
    after: int
    merged: int  # rows inserted from (source) / into (target) this table
    skipped: int


@dataclass(frozen=True)
class Skipped:
    source: str
    source_id: str
    target: str
    target_id: str
    reason: str


@dataclass(frozen=True)
class MergeResult:
    run: int
    status: str  # done | already done | rolled back
    database: str
    batches: int
    seconds: float  # time spent merging (or rolling back) in this invocation
    rows: int  # rows written (inserted or deleted) in this invocation
    sessions_merged: int
    messages_merged: int
    sessions_skipped: int
    messages_skipped: int
    counts: tuple[TableCount, ...]
    skipped: tuple[Skipped, ...]  # the first ones (see ``runbook.merge_skipped`` for all)
    checks: tuple[Check, ...] = ()
    kept: tuple[str, ...] = ()  # rollback: merged sessions kept because the service wrote into them
    resumed: bool = False
    rules: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ok"] = self.ok
        d["rows_per_s"] = round(self.rows_per_s, 1)
        return d


# --------------------------------------------------------------------------- helpers


def _check(name: str, ok: bool, detail: str = "") -> Check:
    """Every check of the merge is of the kind MERGE."""
    return Check(name, ok, detail, kind=Kind.MERGE)


def _scalar(cur, sql: str, args=None):
    cur.execute(sql, args)
    return cur.fetchone()[0]


def _counts(cur, t, schema: str) -> dict[str, int]:
    parts = ", ".join(f"(SELECT count(*) FROM {qq(schema, x)})" for x in t.all)
    cur.execute(f"SELECT {parts}")
    return dict(zip(t.all, cur.fetchone()))


@dataclass(frozen=True)
class Tables:
    """What to merge, from the mapping's ``[merge]``: legacy conversations and their
    messages (``src_*``) into the service's sessions and messages (``dst_*``)."""

    src_sessions: str
    src_messages: str
    dst_sessions: str
    dst_messages: str

    @property
    def all(self) -> tuple[str, ...]:
        return (self.src_sessions, self.src_messages, self.dst_sessions, self.dst_messages)

    @property
    def columns(self) -> dict[str, tuple[str, ...]]:
        """The columns the merge reads and writes, per table."""
        return {self.src_sessions: ("id", "userId", "title", "createdAt", "updatedAt"),
                self.src_messages: ("id", "conversationId", "role", "content", "createdAt"),
                self.dst_sessions: ("id", "userId", "title", "lastMessageAt", "createdAt", "updatedAt"),
                self.dst_messages: ("id", "sessionId", "role", "content", "createdAt")}


def tables_of(mapping=None) -> Tables:
    """The mapping's ``[merge]`` tables; bad input when it has none."""
    from .mapping import Mapping, load_mapping

    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    if m.merge is None:
        raise BadInput(f"the mapping {m.source} has no [merge] section: nothing to merge")
    g = m.merge
    return Tables(g.conversations_from, g.messages_from, g.conversations_into, g.messages_into)


def _require_renamed(conn, t: Tables, schema: str):
    """Refuse unless the rename has committed: a completed runbook migrate recorded, and
    the four tables in the shape the merge expects. Returns the catalog snapshot."""
    from . import state
    from .catalog.inspect import inspect

    snap = inspect(conn)
    for name, cols in t.columns.items():
        table = snap.table(schema, name)
        if table is None:
            raise WrongState(f"merge-legacy runs after the rename has committed: table {schema}.{name} does not exist "
                             "(run `runbook migrate` first)", table=name)
        gone = [c for c in cols if table.column(c) is None]
        if gone:
            raise WrongState(f"{schema}.{name} has no column {gone[0]!r}: not the shape merge-legacy expects", table=name)
    if state.last_run(conn) is None:
        raise WrongState("merge-legacy runs after the rename has committed: no completed `runbook migrate` is "
                         "recorded in this database")
    conn.commit()
    return snap


def _lock(cur, wait_s: float = 15.0) -> None:
    """Take the merge lock and the engine's lock, waiting up to ``wait_s`` for each: the
    server ends a killed client's session only when its current statement ends."""
    from .locks import ADVISORY_KEY

    for key, what in ((MERGE_LOCK_KEY, "another merge-legacy run holds the merge lock"),
                      (ADVISORY_KEY, "a runbook migrate or rollback holds the lock")):
        cur.execute(f"SET lock_timeout = {literal(f'{int(wait_s * 1000)}ms')}")
        try:
            cur.execute("SELECT pg_advisory_lock(%s)", (key,))
        except psycopg2.errors.LockNotAvailable:
            cur.execute("SELECT a.pid, coalesce(a.application_name, ''), a.state FROM pg_locks l "
                        "JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.objid = %s "
                        "AND l.granted LIMIT 1", (key & 0xFFFFFFFF,))
            row = cur.fetchone()
            who = f" (pid {row[0]}, {row[1] or 'no application name'}, {row[2]})" if row else ""
            if key == ADVISORY_KEY:
                cur.execute("SELECT pg_advisory_unlock(%s)", (MERGE_LOCK_KEY,))
            raise ConcurrentRun(f"{what} on this database{who}; try again when it ends") from None
        finally:
            cur.execute("RESET lock_timeout")


def _ensure_schema(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('runbook.merge_skipped') IS NOT NULL")
        if not cur.fetchone()[0]:
            cur.execute(SCHEMA_SQL)
    conn.commit()


def _progress(total: int, initial: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="msg", disable=not enabled, leave=True,
                file=sys.stderr, dynamic_ncols=True)


def _has_user_triggers(snap, schema: str, table: str) -> bool:
    t = snap.table(schema, table)
    return any(tr.enabled != "D" for tr in snap.triggers_on(t.oid))


# --------------------------------------------------------------------------- the batch


def batch_sql(t: Tables, schema: str, first: bool) -> str:
    """One batch: the next ``%(k)s`` legacy conversations after ``%(after)s`` (by id) and
    all their messages, inserted, recorded, skipped rows listed, cursor advanced."""
    s = lambda t: qq(schema, t)  # noqa: E731
    where = "" if first else "WHERE c.id > %(after)s"
    return f"""
WITH conv AS (
    SELECT c.id, c."userId", c.title, c."createdAt", c."updatedAt"
    FROM {s(t.src_sessions)} c {where}
    ORDER BY c.id
    LIMIT %(k)s
), msg AS (
    -- one index scan per conversation, never a scan of the whole legacy table per batch
    -- (OFFSET 0 keeps the planner from flattening the LATERAL subquery into a hash join:
    -- https://www.postgresql.org/docs/current/queries-table-expressions.html#QUERIES-LATERAL)
    SELECT m.id, m."conversationId", m.role, m.content, m."createdAt"
    FROM conv CROSS JOIN LATERAL (
        SELECT * FROM {s(t.src_messages)} x WHERE x."conversationId" = conv.id OFFSET 0) m
), newest AS (
    SELECT "conversationId" AS id, max("createdAt") AS at FROM msg GROUP BY 1
), s_ins AS (
    INSERT INTO {s(t.dst_sessions)} (id, "userId", title, "lastMessageAt", "createdAt", "updatedAt")
    SELECT conv.id, conv."userId", coalesce(conv.title, %(placeholder)s), newest.at, conv."createdAt", conv."updatedAt"
    FROM conv LEFT JOIN newest ON newest.id = conv.id
    ORDER BY conv.id
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), m_ins AS (
    INSERT INTO {s(t.dst_messages)} (id, "sessionId", role, content, "createdAt")
    SELECT %(prefix)s || msg.id, msg."conversationId", msg.role, msg.content, msg."createdAt"
    FROM msg JOIN s_ins ON s_ins.id = msg."conversationId"
    ORDER BY msg."conversationId", msg."createdAt", msg.id
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), rec AS (
    INSERT INTO runbook.merged (run, batch, target, ids)
    SELECT %(run)s, %(batch)s, {literal(t.dst_sessions)}, coalesce((SELECT array_agg(id) FROM s_ins), '{{}}')
    UNION ALL
    SELECT %(run)s, %(batch)s, {literal(t.dst_messages)}, coalesce((SELECT array_agg(id) FROM m_ins), '{{}}')
), skip_s AS (
    INSERT INTO runbook.merge_skipped (run, source, source_id, target, target_id, reason)
    SELECT %(run)s, {literal(t.src_sessions)}, conv.id, {literal(t.dst_sessions)}, conv.id,
           {literal('id already in ' + t.dst_sessions)}
    FROM conv LEFT JOIN s_ins ON s_ins.id = conv.id
    WHERE s_ins.id IS NULL
), skip_m AS (
    INSERT INTO runbook.merge_skipped (run, source, source_id, target, target_id, reason)
    SELECT %(run)s, {literal(t.src_messages)}, msg.id::text, {literal(t.dst_messages)}, %(prefix)s || msg.id,
           CASE WHEN s_ins.id IS NULL THEN 'its conversation ' || msg."conversationId" || ' was not merged'
                ELSE {literal('id already in ' + t.dst_messages)} END
    FROM msg LEFT JOIN s_ins ON s_ins.id = msg."conversationId"
             LEFT JOIN m_ins ON m_ins.id = %(prefix)s || msg.id
    WHERE m_ins.id IS NULL
), adv AS (
    UPDATE runbook.merge_runs SET cursor = coalesce((SELECT max(id) FROM conv), cursor), batches = batches + 1
    WHERE id = %(run)s
)
SELECT (SELECT count(*) FROM conv), (SELECT count(*) FROM s_ins), (SELECT count(*) FROM msg),
       (SELECT count(*) FROM m_ins), (SELECT array_agg(id) FROM s_ins)
"""


def _fixup_sql(t: Tables, schema: str) -> str:
    """Triggers on the target (a trigger that touches the session of each new message) set
    ``lastMessageAt`` per inserted row; put back the newest message's time."""
    return f"""
UPDATE {qq(schema, t.dst_sessions)} s SET "lastMessageAt" = n.at
FROM (SELECT m."conversationId" AS id, max(m."createdAt") AS at FROM {qq(schema, t.src_messages)} m
      WHERE m."conversationId" = ANY(%(ids)s) GROUP BY 1) n
WHERE s.id = n.id AND s."lastMessageAt" IS DISTINCT FROM n.at
"""


# --------------------------------------------------------------------------- merge


def _active_run(cur):
    cur.execute("SELECT id, status, placeholder, id_prefix, cursor, batches, before, schema_name "
                "FROM runbook.merge_runs WHERE status IN ('running', 'done', 'rolling back') ORDER BY id DESC LIMIT 1")
    return cur.fetchone()


def merge_legacy(url: str | None = None, *, mapping=None, batch_size: int = DEFAULT_BATCH, placeholder: str | None = None,
                 schema: str = "public", progress: bool = True, verify: bool = True, list_limit: int = 100,
                 stop_after_batches: int | None = None, lock_wait: float = 15.0) -> MergeResult:
    """Merge the legacy conversations and messages into the service's tables (see the
    module docstring for the rules). Resumes an interrupted run; on a merged database it
    only reports. ``stop_after_batches`` ends the invocation early (as a kill would,
    but cleanly), for tests."""
    if batch_size < 1:
        raise BadInput(f"--batch-size must be at least 1, got {batch_size}")
    t = tables_of(mapping)
    url = resolve_url(url)
    conn = connect(url, application_name="runbook-merge", autocommit=False)
    try:
        conn.autocommit = True
        snap = _require_renamed(conn, t, schema)
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = '5min'")
            conn.commit()
            conn.autocommit = True
            _lock(cur, lock_wait)
            conn.autocommit = False
            _ensure_schema(conn)
            run = _active_run(cur)
            resumed = False
            if run and run[1] == "rolling back":
                raise WrongState(f"merge run {run[0]} is half rolled back: finish it with `runbook merge-legacy --rollback`")
            if run and run[1] == "done":
                conn.commit()
                return _report(conn, t, run[0], schema, "already done", 0, 0.0, 0, verify, list_limit, False, database=redact(url))
            if run:
                run_id, _, ph, prefix, cursor, batches, before, schema = run
                if placeholder is not None and placeholder != ph:
                    raise BadInput(f"merge run {run_id} was started with placeholder title {ph!r}; resume it with the "
                                   "same one (or roll it back first)")
                resumed = True
            else:
                ph, prefix, cursor, batches = placeholder or PLACEHOLDER_TITLE, MESSAGE_ID_PREFIX, None, 0
                if not ph.strip():
                    raise BadInput("the placeholder title must not be empty")
                before = _counts(cur, t, schema)
                cur.execute("INSERT INTO runbook.merge_runs (status, schema_name, placeholder, id_prefix, before) "
                            "VALUES ('running', %s, %s, %s, %s) RETURNING id",
                            (schema, ph, prefix, json.dumps(before)))
                run_id = cur.fetchone()[0]
            conn.commit()
            convs, msgs = before[t.src_sessions], before[t.src_messages]
            # Whole conversations per batch: about batch_size messages at the average size.
            k = max(1, round(batch_size * convs / msgs)) if msgs else max(1, batch_size)
            fixup = _has_user_triggers(snap, schema, t.dst_messages)
            done_msgs = _scalar(cur, "SELECT coalesce(sum(cardinality(ids)), 0) FROM runbook.merged "
                                     "WHERE run = %s AND target = %s", (run_id, t.dst_messages))
            done_msgs += _scalar(cur, "SELECT count(*) FROM runbook.merge_skipped WHERE run = %s AND source = %s",
                                 (run_id, t.src_messages))
            conn.commit()
            rows = 0
            n_batches = 0
            t0 = time.perf_counter()
            bar = _progress(msgs, int(done_msgs), progress, "merge legacy messages")
            try:
                while True:
                    params = {"after": cursor, "k": k, "placeholder": ph, "prefix": prefix, "run": run_id,
                              "batch": batches + 1}
                    cur.execute(batch_sql(t, schema, cursor is None), params)
                    n_conv, n_s, n_msg, n_m, ids = cur.fetchone()
                    if n_conv == 0:
                        conn.rollback()  # nothing was written; the empty batch is not recorded
                        break
                    if fixup and ids:
                        cur.execute(_fixup_sql(t, schema), {"ids": ids})
                    conn.commit()
                    cursor = _scalar(cur, "SELECT cursor FROM runbook.merge_runs WHERE id = %s", (run_id,))
                    conn.commit()
                    batches += 1
                    n_batches += 1
                    rows += n_s + n_m
                    bar.update(n_msg)
                    if stop_after_batches is not None and n_batches >= stop_after_batches:
                        return _report(conn, t, run_id, schema, "interrupted", n_batches, time.perf_counter() - t0, rows,
                                       False, list_limit, resumed, database=redact(url))
            finally:
                bar.close()
            seconds = time.perf_counter() - t0
            cur.execute("UPDATE runbook.merge_runs SET status = 'done', finished_at = now() WHERE id = %s", (run_id,))
            conn.commit()
            result = _report(conn, t, run_id, schema, "done", n_batches, seconds, rows, verify, list_limit, resumed, database=redact(url))
            cur.execute("UPDATE runbook.merge_runs SET summary = %s WHERE id = %s",
                        (json.dumps(result.to_dict(), default=str), run_id))
            conn.commit()
            return result
    finally:
        conn.close()  # also releases the advisory locks


def _report(conn, t: Tables, run_id: int, schema: str, status: str, batches: int, seconds: float, rows: int, verify: bool,
            list_limit: int, resumed: bool, kept: tuple[str, ...] = (), database: str = "") -> MergeResult:
    with conn.cursor() as cur:
        cur.execute("SELECT before, batches, placeholder, id_prefix FROM runbook.merge_runs WHERE id = %s", (run_id,))
        before, total_batches, ph, prefix = cur.fetchone()
        after = _counts(cur, t, schema)
        cur.execute("SELECT target, coalesce(sum(cardinality(ids)), 0) FROM runbook.merged WHERE run = %s GROUP BY 1",
                    (run_id,))
        merged = {t.dst_sessions: 0, t.dst_messages: 0} | {t: int(n) for t, n in cur.fetchall()}
        cur.execute("SELECT source, count(*) FROM runbook.merge_skipped WHERE run = %s GROUP BY 1", (run_id,))
        skipped = {t.src_sessions: 0, t.src_messages: 0} | {t: int(n) for t, n in cur.fetchall()}
        cur.execute("SELECT source, source_id, target, target_id, reason FROM runbook.merge_skipped WHERE run = %s "
                    "ORDER BY source DESC, source_id LIMIT %s", (run_id, list_limit))
        listed = tuple(Skipped(*r) for r in cur.fetchall())
        counts = (
            TableCount(t.src_sessions, "source", before[t.src_sessions], after[t.src_sessions], merged[t.dst_sessions],
                       skipped[t.src_sessions]),
            TableCount(t.src_messages, "source", before[t.src_messages], after[t.src_messages], merged[t.dst_messages],
                       skipped[t.src_messages]),
            TableCount(t.dst_sessions, "target", before[t.dst_sessions], after[t.dst_sessions], merged[t.dst_sessions], 0),
            TableCount(t.dst_messages, "target", before[t.dst_messages], after[t.dst_messages], merged[t.dst_messages], 0),
        )
        checks = _checks(cur, t, run_id, schema, before, after, merged, skipped, ph, prefix) if verify else ()
        conn.commit()
    rules = {"session id": "the legacy conversation id", "title": f"legacy title, or {ph!r} when NULL",
             "lastMessageAt": "createdAt of the conversation's newest message",
             "message id": f"{prefix!r} || legacy integer id", "existing ids": "not overwritten: skipped and listed"}
    return MergeResult(run_id, status, database, total_batches if status != "interrupted" else batches, seconds, rows, merged[t.dst_sessions], merged[t.dst_messages], skipped[t.src_sessions],
                       skipped[t.src_messages], counts, listed, tuple(checks), kept, resumed, rules)


def _checks(cur, t: Tables, run_id, schema, before, after, merged, skipped, ph, prefix) -> list[Check]:
    """Nothing lost, nothing duplicated, every merged row equal to its source."""
    s = lambda t: qq(schema, t)  # noqa: E731
    out = []
    for src, dst in ((t.src_sessions, t.dst_sessions), (t.src_messages, t.dst_messages)):
        n = after[src]
        out.append(_check(f"{src}: every row merged or listed as skipped", merged[dst] + skipped[src] == n,
                         f"{merged[dst]:,} merged + {skipped[src]:,} skipped = {merged[dst] + skipped[src]:,} "
                         f"of {n:,}"))
        out.append(_check(f"{src}: unchanged", before[src] == after[src], f"{before[src]:,} -> {after[src]:,} rows"))
    for dst in (t.dst_sessions, t.dst_messages):
        out.append(_check(f"{dst}: grew by the merged rows", after[dst] == before[dst] + merged[dst],
                         f"{before[dst]:,} + {merged[dst]:,} = {before[dst] + merged[dst]:,}; now {after[dst]:,}"
                         " (other writers would change this)"))
    # every recorded id is present once, and equal to its source row
    cur.execute(f"""
SELECT count(*) FILTER (WHERE t.id IS NULL),
       count(*) FILTER (WHERE t.id IS NOT NULL AND (t."userId", t.title, t."createdAt", t."updatedAt")
                        IS DISTINCT FROM (c."userId", coalesce(c.title, %(ph)s), c."createdAt", c."updatedAt"))
FROM runbook.merged r CROSS JOIN LATERAL unnest(r.ids) AS x(id)
LEFT JOIN {s(t.dst_sessions)} t ON t.id = x.id
LEFT JOIN {s(t.src_sessions)} c ON c.id = x.id
WHERE r.run = %(run)s AND r.target = {literal(t.dst_sessions)}""", {"run": run_id, "ph": ph})
    gone, differ = cur.fetchone()
    out.append(_check(f"{t.dst_sessions}: merged rows present and equal to their source", gone == 0 and differ == 0,
                     f"{gone} missing, {differ} different"))
    cur.execute(f"""
SELECT count(*) FILTER (WHERE t.id IS NULL),
       count(*) FILTER (WHERE t.id IS NOT NULL AND (t."sessionId", t.role, t.content, t."createdAt")
                        IS DISTINCT FROM (m."conversationId", m.role, m.content, m."createdAt"))
FROM runbook.merged r CROSS JOIN LATERAL unnest(r.ids) AS x(id)
LEFT JOIN {s(t.dst_messages)} t ON t.id = x.id
LEFT JOIN {s(t.src_messages)} m ON %(prefix)s || m.id = x.id
WHERE r.run = %(run)s AND r.target = {literal(t.dst_messages)}""", {"run": run_id, "prefix": prefix})
    gone, differ = cur.fetchone()
    out.append(_check(f"{t.dst_messages}: merged rows present and equal to their source", gone == 0 and differ == 0,
                     f"{gone} missing, {differ} different"))
    cur.execute(f"""
SELECT count(*) FROM {s(t.dst_sessions)} t
JOIN (SELECT x.id FROM runbook.merged r CROSS JOIN LATERAL unnest(r.ids) AS x(id)
      WHERE r.run = %(run)s AND r.target = {literal(t.dst_sessions)}) x ON x.id = t.id
LEFT JOIN (SELECT "conversationId" AS id, max("createdAt") AS at FROM {s(t.src_messages)} GROUP BY 1) n ON n.id = t.id
WHERE t."lastMessageAt" IS DISTINCT FROM n.at""", {"run": run_id})
    wrong = cur.fetchone()[0]
    out.append(_check(f"{t.dst_sessions}: lastMessageAt is the newest legacy message", wrong == 0, f"{wrong} differ"))
    return out


def merged_rows_present(conn) -> int | None:
    """For the engine's rollback: the id of a merge run whose rows are (partly) in the
    targets (running, done or half rolled back), else None. Renaming the tables back
    while it is there would carry merged rows into the legacy tables: roll it back first
    (``runbook merge-legacy --rollback``)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('runbook.merge_runs') IS NOT NULL")
        if not cur.fetchone()[0]:
            return None
        cur.execute("SELECT id FROM runbook.merge_runs WHERE status IN ('running', 'done', 'rolling back') "
                    "ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
    return row[0] if row else None


def merge_status(url: str | None = None, *, mapping=None, schema: str = "public",
                 list_limit: int = 100) -> MergeResult | None:
    """The last merge run's report (None when there is none); changes nothing."""
    t = tables_of(mapping)
    url = resolve_url(url)
    conn = connect(url, application_name="runbook-merge", autocommit=False)
    try:
        with conn.cursor() as cur:
            if not _scalar(cur, "SELECT to_regclass('runbook.merge_runs') IS NOT NULL"):
                return None
            cur.execute("SELECT id, status, schema_name FROM runbook.merge_runs ORDER BY id DESC LIMIT 1")
            row = cur.fetchone()
        if not row:
            return None
        return _report(conn, t, row[0], row[2], row[1], 0, 0.0, 0, row[1] == "done", list_limit, False, database=redact(url))
    finally:
        conn.close()


# --------------------------------------------------------------------------- rollback


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
            if not _scalar(cur, "SELECT to_regclass('runbook.merge_runs') IS NOT NULL"):
                raise WrongState("nothing to roll back: no merge-legacy run is recorded in this database")
            conn.commit()
            conn.autocommit = True
            _lock(cur, lock_wait)
            conn.autocommit = False
            run = _active_run(cur)
            if run is None:
                raise WrongState("nothing to roll back: no merged (or half-merged) run is recorded in this database")
            run_id, schema = run[0], run[7]
            cur.execute("UPDATE runbook.merge_runs SET status = 'rolling back' WHERE id = %s", (run_id,))
            conn.commit()
            s = lambda t: qq(schema, t)  # noqa: E731
            total = _scalar(cur, "SELECT coalesce(sum(cardinality(ids)), 0) FROM runbook.merged WHERE run = %s "
                                 "AND target = %s", (run_id, t.dst_messages))
            kept: list[str] = list((_scalar(cur, "SELECT summary -> 'kept' FROM runbook.merge_runs WHERE id = %s",
                                            (run_id,)) or []))
            conn.commit()
            rows = deleted_msgs = 0
            n_batches = 0
            t0 = time.perf_counter()
            bar = _progress(int(total), 0, progress, "roll back merged messages")
            try:
                while True:
                    cur.execute("SELECT batch FROM runbook.merged WHERE run = %s ORDER BY batch DESC LIMIT 1", (run_id,))
                    row = cur.fetchone()
                    if row is None:
                        conn.rollback()
                        break
                    b = row[0]
                    cur.execute("SELECT target, ids FROM runbook.merged WHERE run = %s AND batch = %s", (run_id, b))
                    ids = dict(cur.fetchall())
                    m_ids, s_ids = ids.get(t.dst_messages, []), ids.get(t.dst_sessions, [])
                    cur.execute(f"DELETE FROM {s(t.dst_messages)} WHERE id = ANY(%s)", (m_ids,))
                    rows += cur.rowcount
                    deleted_msgs += cur.rowcount
                    # Lock the sessions first: a message the service inserts now waits for us
                    # (its foreign key check), and one committed before is seen by the DELETE.
                    cur.execute(f"SELECT id FROM {s(t.dst_sessions)} WHERE id = ANY(%s) FOR UPDATE", (s_ids,))
                    cur.execute(f"DELETE FROM {s(t.dst_sessions)} t WHERE t.id = ANY(%s) AND NOT EXISTS "
                                f"(SELECT 1 FROM {s(t.dst_messages)} m WHERE m.\"sessionId\" = t.id) RETURNING t.id",
                                (s_ids,))
                    deleted = {r[0] for r in cur.fetchall()}
                    rows += len(deleted)
                    cur.execute(f"SELECT id FROM {s(t.dst_sessions)} WHERE id = ANY(%s)", (s_ids,))
                    kept += sorted(r[0] for r in cur.fetchall() if r[0] not in deleted)
                    cur.execute("DELETE FROM runbook.merged WHERE run = %s AND batch = %s", (run_id, b))
                    cur.execute("UPDATE runbook.merge_runs SET summary = jsonb_set(coalesce(summary, '{}'), '{kept}', "
                                "%s::jsonb) WHERE id = %s", (json.dumps(kept), run_id))
                    conn.commit()
                    n_batches += 1
                    bar.update(len(m_ids))
                    if stop_after_batches is not None and n_batches >= stop_after_batches:
                        break
            finally:
                bar.close()
            seconds = time.perf_counter() - t0
            left = _scalar(cur, "SELECT count(*) FROM runbook.merged WHERE run = %s", (run_id,))
            status = "rolling back" if left else "rolled back"
            cur.execute("UPDATE runbook.merge_runs SET status = %s, finished_at = now() WHERE id = %s",
                        (status, run_id))
            conn.commit()
            r = _report(conn, t, run_id, schema, status, n_batches, seconds, rows, False, list_limit, False, tuple(kept),
                        database=redact(url))
            checks = [] if left else _rollback_checks(conn, t, run_id, schema, run[3], kept)
            from dataclasses import replace

            return replace(r, checks=tuple(checks))
    finally:
        conn.close()


def _rollback_checks(conn, t: Tables, run_id: int, schema: str, prefix: str, kept: list[str]) -> list[Check]:
    """After a rollback no merged row remains: no legacy message id but the colliding rows
    that were there before (listed as skipped), no legacy conversation id but those and
    the sessions kept because the service wrote into them. Row counts are in the report:
    other writers change them, so they are not a pass/fail check."""
    s = lambda t: qq(schema, t)  # noqa: E731
    with conn.cursor() as cur:
        cur.execute(f"""
SELECT (SELECT count(*) FROM {s(t.dst_messages)} t WHERE left(t.id, length(%(prefix)s)) = %(prefix)s
          AND NOT EXISTS (SELECT 1 FROM runbook.merge_skipped k WHERE k.run = %(run)s
                          AND k.target = {literal(t.dst_messages)} AND k.target_id = t.id)),
       (SELECT count(*) FROM {s(t.dst_sessions)} t JOIN {s(t.src_sessions)} c ON c.id = t.id
        WHERE t.id <> ALL(%(kept)s)
          AND NOT EXISTS (SELECT 1 FROM runbook.merge_skipped k WHERE k.run = %(run)s
                          AND k.source = {literal(t.src_sessions)} AND k.source_id = t.id))""",
                    {"prefix": prefix, "run": run_id, "kept": list(kept)})
        msgs, sessions = cur.fetchone()
    conn.commit()
    return [_check(f"{t.dst_messages}: no merged message left", msgs == 0, f"{msgs} left"),
            _check(f"{t.dst_sessions}: no merged session left but the kept ones", sessions == 0,
                  f"{sessions} left, {len(kept)} kept")]
