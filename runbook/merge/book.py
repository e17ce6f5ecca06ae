"""The legacy merge's bookkeeping: its tables in the ``runbook`` schema (one row per run,
the ids each batch inserted, the rows skipped), its advisory lock, and the small
queries the runner and the report share."""

from __future__ import annotations

import psycopg2.errors

from ..errors import ConcurrentRun
from ..naming import literal, qq

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

#: The columns of a run row :func:`active_run` returns, in order.
RUN_COLUMNS = "id, status, placeholder, id_prefix, cursor, batches, before, schema_name"


def scalar(cur, sql: str, args=None):
    cur.execute(sql, args)
    return cur.fetchone()[0]


def counts(cur, t, schema: str) -> dict[str, int]:
    parts = ", ".join(f"(SELECT count(*) FROM {qq(schema, x)})" for x in t.all)
    cur.execute(f"SELECT {parts}")
    return dict(zip(t.all, cur.fetchone()))


def lock(cur, wait_s: float = 15.0) -> None:
    """Take the merge lock and the engine's lock, waiting up to ``wait_s`` for each: the
    server ends a killed client's session only when its current statement ends."""
    from ..locks import ADVISORY_KEY

    for key, what in ((MERGE_LOCK_KEY, "another merge-legacy run holds the merge lock"),
                      (ADVISORY_KEY, "a runbook migrate or rollback holds the lock")):
        cur.execute(f"SET lock_timeout = {literal(f'{int(wait_s * 1000)}ms')}")
        try:
            cur.execute("SELECT pg_advisory_lock(%s)", (key,))
        except psycopg2.errors.LockNotAvailable:
            who = _holder(cur, key)
            if key == ADVISORY_KEY:
                cur.execute("SELECT pg_advisory_unlock(%s)", (MERGE_LOCK_KEY,))
            raise ConcurrentRun(f"{what} on this database{who}; try again when it ends") from None
        finally:
            cur.execute("RESET lock_timeout")


def _holder(cur, key: int) -> str:
    """`` (pid ..., application, state)`` of the session holding the advisory lock ``key``."""
    cur.execute("SELECT a.pid, coalesce(a.application_name, ''), a.state FROM pg_locks l "
                "JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.objid = %s "
                "AND l.granted LIMIT 1", (key & 0xFFFFFFFF,))
    row = cur.fetchone()
    return f" (pid {row[0]}, {row[1] or 'no application name'}, {row[2]})" if row else ""


def ensure_schema(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('runbook.merge_skipped') IS NOT NULL")
        if not cur.fetchone()[0]:
            cur.execute(SCHEMA_SQL)
    conn.commit()


def has_runs(cur) -> bool:
    """Whether the bookkeeping exists (a merge ran on this database)."""
    return scalar(cur, "SELECT to_regclass('runbook.merge_runs') IS NOT NULL")


def active_run(cur):
    """The newest run whose rows are (partly) in the targets, as :data:`RUN_COLUMNS`, or None."""
    cur.execute(f"SELECT {RUN_COLUMNS} "
                "FROM runbook.merge_runs WHERE status IN ('running', 'done', 'rolling back') ORDER BY id DESC LIMIT 1")
    return cur.fetchone()


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
