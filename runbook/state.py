"""runbook's own bookkeeping, in schema ``runbook`` (as sqitch and pgroll keep theirs).

- ``runbook.runs``: one row per migrate run: the plan that ran (so the rollback is the
  same plan, reversed), the baseline counts and checksums, and the outcome.
- ``runbook.filled``: the rows whose NULLs were filled with a placeholder, by table OID
  and column number (both survive renames), so the rollback puts exactly those back.

Everything in this schema is excluded from catalog snapshots and comparisons.
"""

from __future__ import annotations

import json

from psycopg2.extras import Json

SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS runbook;
CREATE TABLE IF NOT EXISTS runbook.runs (
    id text PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    fingerprint text NOT NULL,
    status text NOT NULL,
    plan jsonb NOT NULL,
    baseline jsonb,
    summary jsonb
);
CREATE TABLE IF NOT EXISTS runbook.filled (
    relid oid NOT NULL,
    attnum int2 NOT NULL,
    pk text NOT NULL,
    PRIMARY KEY (relid, attnum, pk)
);
"""


def ensure(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('runbook.filled') IS NOT NULL AND to_regclass('runbook.runs') IS NOT NULL")
        if cur.fetchone()[0]:
            return
        cur.execute(SCHEMA_SQL)
    if not conn.autocommit:
        conn.commit()


def exists(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('runbook.runs') IS NOT NULL")
        return cur.fetchone()[0]


def record_run(conn, run_id: str, fingerprint: str, plan_json: list, baseline: dict, status: str = "running") -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO runbook.runs (id, fingerprint, status, plan, baseline) VALUES (%s, %s, %s, %s, %s)",
            (run_id, fingerprint, status, Json(plan_json), Json(baseline)),
        )


def set_status(conn, run_id: str, status: str, summary: dict | None = None) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE runbook.runs SET status = %s, finished_at = now(), summary = coalesce(%s, summary) WHERE id = %s",
            (status, Json(summary) if summary is not None else None, run_id),
        )


def last_run(conn, statuses=("migrated", "committed", "restoring")) -> dict | None:
    if not exists(conn):
        return None
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, fingerprint, status, plan, baseline, summary, started_at FROM runbook.runs "
            "WHERE status = ANY(%s) ORDER BY started_at DESC LIMIT 1",
            (list(statuses),),
        )
        row = cur.fetchone()
    if not row:
        return None
    keys = ["id", "fingerprint", "status", "plan", "baseline", "summary", "started_at"]
    return dict(zip(keys, row))
