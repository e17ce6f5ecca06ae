"""runbook's own bookkeeping, in schema ``runbook`` (as sqitch and pgroll keep theirs).

- ``runbook.runs``: one row per migrate run: the plan that ran (so the rollback is the
  same plan, reversed) and its fingerprint (checked before that plan runs again), the
  baseline counts and checksums, and the outcome: ``running``; ``committed`` (set in the
  lock transaction itself: renamed, not verified yet); ``migrated`` (verified); ``failed``,
  ``abandoned``, ``rolled back``, ``restoring``; and the database role that ran it
  (``run_by``, read by ``runbook status``).
- ``runbook.filled``: the rows whose NULLs were filled with a placeholder, by table OID
  and column number (both survive renames), so the rollback puts exactly those back.

Everything in this schema is excluded from catalog snapshots and comparisons.
"""

from __future__ import annotations

import json

from psycopg2.extras import Json

from .phases import FINISH

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


# Added later: the LOCK TABLE list of the plan, which its fingerprint covers (so that the
# stored plan can be checked against its fingerprint before a rollback runs it); and the
# database role (session_user) that ran the run, for ``runbook status`` (older rows: NULL).
UPGRADE_SQL = ("ALTER TABLE runbook.runs ADD COLUMN IF NOT EXISTS lock_tables jsonb;"
               "ALTER TABLE runbook.runs ADD COLUMN IF NOT EXISTS run_by text")
#: the columns UPGRADE_SQL adds, which a ``runbook.runs`` of an older runbook lacks
UPGRADE_COLUMNS = ("lock_tables", "run_by")


def ensure(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('runbook.filled') IS NOT NULL AND to_regclass('runbook.runs') IS NOT NULL")
        if cur.fetchone()[0] and set(columns(conn)) >= set(UPGRADE_COLUMNS):
            return
        cur.execute(SCHEMA_SQL)
        cur.execute(UPGRADE_SQL)
    if not conn.autocommit:
        conn.commit()


def exists(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('runbook.runs') IS NOT NULL")
        return cur.fetchone()[0]


def columns(conn) -> tuple[str, ...]:
    """The columns ``runbook.runs`` has (none when it does not exist): one written by an
    older runbook lacks those of UPGRADE_SQL."""
    with conn.cursor() as cur:
        cur.execute("SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass('runbook.runs') "
                    "AND attnum > 0 AND NOT attisdropped ORDER BY attnum")
        return tuple(r[0] for r in cur.fetchall())


def record_run(conn, run_id: str, fingerprint: str, plan_json: list, baseline: dict, status: str = "running",
               lock_tables: list | None = None) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO runbook.runs (id, fingerprint, status, plan, baseline, lock_tables, run_by) "
            "VALUES (%s, %s, %s, %s, %s, %s, session_user)",
            (run_id, fingerprint, status, Json(plan_json), Json(baseline), Json(list(lock_tables or []))),
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
    lock_col = "lock_tables" if "lock_tables" in columns(conn) else "NULL::jsonb"
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT id, fingerprint, status, plan, baseline, summary, started_at, {lock_col} FROM runbook.runs "
            "WHERE status = ANY(%s) ORDER BY started_at DESC LIMIT 1",
            (list(statuses),),
        )
        row = cur.fetchone()
    if not row:
        return None
    keys = ["id", "fingerprint", "status", "plan", "baseline", "summary", "started_at", "lock_tables"]
    return dict(zip(keys, row))


def record_verified(conn, run_id: str, plan, verification) -> bool:
    """A committed run that ``runbook verify`` found good becomes ``migrated``, once its
    finish steps have taken effect too (else ``runbook migrate`` runs them first)."""
    if not verification.ok:
        return False
    if not finish_done(conn, plan.phase(FINISH)):
        return False
    set_status(conn, run_id, "migrated", {"verified": True, "by": "runbook verify"})
    return True


def finish_done(conn, finish_ops) -> bool:
    """Whether every finish step (``VALIDATE CONSTRAINT`` ...) of a plan has taken effect:
    their own checks, in one query."""
    if not finish_ops:
        return True
    with conn.cursor() as cur:
        cur.execute("SELECT " + " AND ".join(f"({o.check()})" for o in finish_ops))
        return bool(cur.fetchone()[0])
