"""The lock window's estimate, calibrated on the server by a probe that leaves nothing."""

from __future__ import annotations

import tomllib

import psycopg2

import runbook
from runbook.estimate import calibrate
from runbook.mapping import parse_mapping
from crm import DDL, MAPPING
from snapshots import execute, scalar, state


def _probe_objects(url: str) -> int:
    return scalar(url, "SELECT count(*) FROM pg_class WHERE relname LIKE 'rb\\_probe%'")


def test_the_estimate_is_a_range_calibrated_by_a_probe_that_changes_nothing(empty_db):
    execute(empty_db, DDL)
    before = state(empty_db)
    plan = runbook.plan(empty_db, parse_mapping(tomllib.loads(MAPPING)))
    conn = psycopg2.connect(empty_db)
    conn.autocommit = True
    try:
        est = calibrate(conn, plan)
        # the probe's scratch tables are gone from its own session too (rolled back, not just temporary)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'rb\\_probe%'")
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT pg_current_xact_id_if_assigned() IS NULL")  # no transaction left open
            assert cur.fetchone()[0]
    finally:
        conn.close()
    assert est.calibrated, est.detail
    assert 0 < est.low_s <= est.high_s
    assert f"{len(plan.phase('lock'))} steps under the lock" in est.detail
    assert state(empty_db) == before and _probe_objects(empty_db) == 0


def test_analyze_reports_the_calibrated_range(empty_db):
    execute(empty_db, DDL)
    a = runbook.analyze(empty_db, parse_mapping(tomllib.loads(MAPPING)))
    e = a.lock_estimate
    assert e.calibrated and e.low_s <= a.estimated_downtime_s <= e.high_s
    assert a.to_dict()["lock_estimate"]["calibrated"] is True


def test_where_the_probe_cannot_run_the_estimate_is_the_static_one_and_says_why(empty_db):
    execute(empty_db, DDL)
    plan = runbook.plan(empty_db, parse_mapping(tomllib.loads(MAPPING)))
    conn = psycopg2.connect(empty_db)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:  # as on a hot standby: no transaction may write, not even to a temp table
            cur.execute("SET default_transaction_read_only = on")
        est = calibrate(conn, plan)
    finally:
        conn.close()
    assert not est.calibrated
    assert "not calibrated" in est.detail and "read-only" in est.detail
    assert est.low_s == est.high_s > 0 and est.text().startswith("~")


def test_a_plan_with_compat_views_is_probed_with_views(empty_db):
    """The plan renames its staged compat views under the lock: the probe renames
    (temporary) views over its scratch tables where the plan does, with the views' own
    check, and still leaves nothing."""
    from runbook.estimate import _probe_ops
    from runbook.ops import RenameCompatView

    execute(empty_db, DDL)
    plan = runbook.plan(empty_db, parse_mapping(tomllib.loads("compat_views = true\n" + MAPPING)))
    kinds = [o.kind for o in plan.phase("lock")]
    assert "rename compat view" in kinds and "create compat view" not in kinds
    probe = _probe_ops(kinds, 40, [f"t{i}" for i in range(12)])
    assert sum(isinstance(o, RenameCompatView) for o in probe) == min(12, sum(
        kinds[k % len(kinds)] == "rename compat view" for k in range(40)))
    before = state(empty_db)
    conn = psycopg2.connect(empty_db)
    conn.autocommit = True
    try:
        est = calibrate(conn, plan)
    finally:
        conn.close()
    assert est.calibrated, est.detail
    assert state(empty_db) == before
