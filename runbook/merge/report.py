"""The legacy merge's report: what a run merged and skipped, the tables' row counts, and
the checks that nothing was lost, duplicated or changed (after a merge) or that no
merged row is left (after a rollback)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..checks import Check, Kind
from ..naming import literal, qq
from ..ops.merge import MergeLegacy
from .book import counts
from .tables import Tables


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


def _check(name: str, ok: bool, detail: str = "") -> Check:
    """Every check of the merge is of the kind MERGE."""
    return Check(name, ok, detail, kind=Kind.MERGE)


@dataclass(frozen=True)
class _Tally:
    """A run's numbers: row counts when it started and now, rows merged per target,
    rows skipped per source, the first skipped rows."""

    before: dict
    after: dict
    merged: dict
    skipped: dict
    listed: tuple[Skipped, ...]


def _tally(cur, t: Tables, run_id: int, schema: str, before: dict, list_limit: int) -> _Tally:
    after = counts(cur, t, schema)
    cur.execute("SELECT target, coalesce(sum(cardinality(ids)), 0) FROM runbook.merged WHERE run = %s GROUP BY 1",
                (run_id,))
    merged = {t.dst_sessions: 0, t.dst_messages: 0} | {t: int(n) for t, n in cur.fetchall()}
    cur.execute("SELECT source, count(*) FROM runbook.merge_skipped WHERE run = %s GROUP BY 1", (run_id,))
    skipped = {t.src_sessions: 0, t.src_messages: 0} | {t: int(n) for t, n in cur.fetchall()}
    cur.execute("SELECT source, source_id, target, target_id, reason FROM runbook.merge_skipped WHERE run = %s "
                "ORDER BY source DESC, source_id LIMIT %s", (run_id, list_limit))
    return _Tally(before, after, merged, skipped, tuple(Skipped(*r) for r in cur.fetchall()))


def _table_counts(t: Tables, n: _Tally) -> tuple[TableCount, ...]:
    b, a, m, s = n.before, n.after, n.merged, n.skipped
    return (
        TableCount(t.src_sessions, "source", b[t.src_sessions], a[t.src_sessions], m[t.dst_sessions], s[t.src_sessions]),
        TableCount(t.src_messages, "source", b[t.src_messages], a[t.src_messages], m[t.dst_messages], s[t.src_messages]),
        TableCount(t.dst_sessions, "target", b[t.dst_sessions], a[t.dst_sessions], m[t.dst_sessions], 0),
        TableCount(t.dst_messages, "target", b[t.dst_messages], a[t.dst_messages], m[t.dst_messages], 0),
    )


def _rules(ph: str, prefix: str) -> dict:
    return {"session id": "the legacy conversation id", "title": f"legacy title, or {ph!r} when NULL",
            "lastMessageAt": "createdAt of the conversation's newest message",
            "message id": f"{prefix!r} || legacy integer id", "existing ids": "not overwritten: skipped and listed"}


def report(conn, t: Tables, run_id: int, schema: str, status: str, batches: int, seconds: float, rows: int, verify: bool,
           list_limit: int, resumed: bool, kept: tuple[str, ...] = (), database: str = "") -> MergeResult:
    """The report of merge run ``run_id`` (``batches``, ``seconds`` and ``rows``: this
    invocation's), with the merge's checks when ``verify``."""
    with conn.cursor() as cur:
        cur.execute("SELECT before, batches, placeholder, id_prefix FROM runbook.merge_runs WHERE id = %s", (run_id,))
        before, total_batches, ph, prefix = cur.fetchone()
        n = _tally(cur, t, run_id, schema, before, list_limit)
        op = MergeLegacy(schema, *t.all, run_id, ph, prefix)
        checks = merge_checks(cur, op, n) if verify else ()
        conn.commit()
    return MergeResult(run_id, status, database, total_batches if status != "interrupted" else batches, seconds, rows,
                       n.merged[t.dst_sessions], n.merged[t.dst_messages], n.skipped[t.src_sessions],
                       n.skipped[t.src_messages], _table_counts(t, n), n.listed, tuple(checks), kept, resumed,
                       _rules(ph, prefix))


# --------------------------------------------------------------------------- after a merge


def merge_checks(cur, op: MergeLegacy, n: _Tally) -> list[Check]:
    """Nothing lost, nothing duplicated, every merged row equal to its source."""
    return [*_source_checks(cur, op, n), *_target_checks(op, n), _sessions_equal(cur, op), _messages_equal(cur, op),
            _last_message_at(cur, op)]


def _source_checks(cur, op: MergeLegacy, n: _Tally) -> list[Check]:
    """Per legacy table: every row merged or listed as skipped (the operation's check),
    and the table unchanged."""
    out = []
    for src, dst in ((op.src_sessions, op.dst_sessions), (op.src_messages, op.dst_messages)):
        m, s, rows = n.merged[dst], n.skipped[src], n.after[src]
        cur.execute(f"SELECT {op.covered(src)}")
        out.append(_check(f"{src}: every row merged or listed as skipped", cur.fetchone()[0],
                          f"{m:,} merged + {s:,} skipped = {m + s:,} of {rows:,}"))
        out.append(_check(f"{src}: unchanged", n.before[src] == n.after[src], f"{n.before[src]:,} -> {n.after[src]:,} rows"))
    return out


def _target_checks(op: MergeLegacy, n: _Tally) -> list[Check]:
    out = []
    for dst in (op.dst_sessions, op.dst_messages):
        b, m, a = n.before[dst], n.merged[dst], n.after[dst]
        out.append(_check(f"{dst}: grew by the merged rows", a == b + m,
                          f"{b:,} + {m:,} = {b + m:,}; now {a:,} (other writers would change this)"))
    return out


def _sessions_equal(cur, op: MergeLegacy) -> Check:
    """Every recorded session id is present once, and equal to its source row."""
    s = lambda t: qq(op.schema, t)  # noqa: E731
    cur.execute(f"""
SELECT count(*) FILTER (WHERE t.id IS NULL),
       count(*) FILTER (WHERE t.id IS NOT NULL AND (t."userId", t.title, t."createdAt", t."updatedAt")
                        IS DISTINCT FROM (c."userId", coalesce(c.title, %(ph)s), c."createdAt", c."updatedAt"))
FROM runbook.merged r CROSS JOIN LATERAL unnest(r.ids) AS x(id)
LEFT JOIN {s(op.dst_sessions)} t ON t.id = x.id
LEFT JOIN {s(op.src_sessions)} c ON c.id = x.id
WHERE r.run = %(run)s AND r.target = {literal(op.dst_sessions)}""", {"run": op.run, "ph": op.placeholder})
    gone, differ = cur.fetchone()
    return _check(f"{op.dst_sessions}: merged rows present and equal to their source", gone == 0 and differ == 0,
                  f"{gone} missing, {differ} different")


def _messages_equal(cur, op: MergeLegacy) -> Check:
    """Every recorded message id is present once, and equal to its source row."""
    s = lambda t: qq(op.schema, t)  # noqa: E731
    cur.execute(f"""
SELECT count(*) FILTER (WHERE t.id IS NULL),
       count(*) FILTER (WHERE t.id IS NOT NULL AND (t."sessionId", t.role, t.content, t."createdAt")
                        IS DISTINCT FROM (m."conversationId", m.role, m.content, m."createdAt"))
FROM runbook.merged r CROSS JOIN LATERAL unnest(r.ids) AS x(id)
LEFT JOIN {s(op.dst_messages)} t ON t.id = x.id
LEFT JOIN {s(op.src_messages)} m ON %(prefix)s || m.id = x.id
WHERE r.run = %(run)s AND r.target = {literal(op.dst_messages)}""", {"run": op.run, "prefix": op.prefix})
    gone, differ = cur.fetchone()
    return _check(f"{op.dst_messages}: merged rows present and equal to their source", gone == 0 and differ == 0,
                  f"{gone} missing, {differ} different")


def _last_message_at(cur, op: MergeLegacy) -> Check:
    s = lambda t: qq(op.schema, t)  # noqa: E731
    cur.execute(f"""
SELECT count(*) FROM {s(op.dst_sessions)} t
JOIN (SELECT x.id FROM runbook.merged r CROSS JOIN LATERAL unnest(r.ids) AS x(id)
      WHERE r.run = %(run)s AND r.target = {literal(op.dst_sessions)}) x ON x.id = t.id
LEFT JOIN (SELECT "conversationId" AS id, max("createdAt") AS at FROM {s(op.src_messages)} GROUP BY 1) n ON n.id = t.id
WHERE t."lastMessageAt" IS DISTINCT FROM n.at""", {"run": op.run})
    wrong = cur.fetchone()[0]
    return _check(f"{op.dst_sessions}: lastMessageAt is the newest legacy message", wrong == 0, f"{wrong} differ")


# --------------------------------------------------------------------------- after a rollback


def rollback_checks(conn, t: Tables, run_id: int, schema: str, prefix: str, kept: list[str]) -> list[Check]:
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
