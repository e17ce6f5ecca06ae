"""The lock window's batch on a real server: its steps timed in groups, each step's check
read once (at the end, or at the end of its group when a later step changes a name the
check reads), and a check that does not hold rolling the whole transaction back."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

import psycopg2
import pytest

from runbook.catalog.inspect import inspect
from runbook.errors import MigrationFailed
from runbook.execute.context import RunContext
from runbook.execute.lock_window import LockBatch, LockPhase
from runbook.execute.faults import LockFault
from runbook.execute.options import Options
from runbook.mapping import parse_mapping
from runbook.ops import RenameColumn, RenameConstraint, RenameTable
from runbook.plan import Plan
from snapshots import execute, scalar

DDL = """
CREATE SCHEMA shop;
CREATE TABLE shop."Order" (id int CONSTRAINT "Order_pkey" PRIMARY KEY, "totalCents" int);
CREATE TABLE shop."Line" (id int PRIMARY KEY, "orderId" int CONSTRAINT "Line_orderId_fkey" REFERENCES shop."Order");
"""

MAPPING = """
schema = "shop"
[[tables]]
from = "Order"
to = "orders"
[[tables]]
from = "Line"
to = "lines"
"""


@dataclass(frozen=True)
class _NeverTakesEffect(RenameColumn):
    """A rename whose check cannot hold: what a statement that silently did nothing
    would look like to the lock window."""

    def check(self):
        return "false"


def _run(url, tmp_path, ops, lock_tables, base_tables=None, conn_out=None):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        m = parse_mapping(tomllib.loads(MAPPING))
        plan = Plan.from_ops(inspect(conn), m, tuple(ops), lock_tables=lock_tables)
        ctx = RunContext(url, m, Options(log_dir=str(tmp_path / "logs"), progress=False))

        class _Bar:
            def update(self, n):
                pass

        phase = LockPhase(ctx)
        try:
            phase.run(conn, plan, 0, _Bar(), rehearse=False, event="migration_complete", base_tables=base_tables)
        finally:
            if conn_out is not None:  # what the run left in its session
                with conn.cursor() as cur:
                    cur.execute("SELECT count(*) FROM pg_prepared_statements")
                    conn_out["prepared"] = cur.fetchone()[0]
        return phase, ctx
    finally:
        conn.close()


LOCKS = ('shop."Order"', 'shop."Line"')


def test_a_chain_of_renames_passes_its_checks_each_read_before_the_next_rename(empty_db, tmp_path):
    """Order -> orders_tmp -> orders: the first rename's check (orders_tmp exists) is false
    once the second has run, so it must be read before the second, not at the end."""
    execute(empty_db, DDL)
    ops = [RenameTable("shop", "Order", "orders_tmp"), RenameTable("shop", "orders_tmp", "orders"),
           RenameTable("shop", "Line", "lines")]
    phase, ctx = _run(empty_db, tmp_path, ops, LOCKS)
    assert phase.committed
    assert scalar(empty_db, "SELECT to_regclass('shop.orders') IS NOT NULL AND to_regclass('shop.lines') IS NOT NULL")
    assert [s.step for s in ctx.steps] == [1, 2, 3]


def test_a_constraint_renamed_before_its_table_is_checked_before_the_table_rename(empty_db, tmp_path):
    execute(empty_db, DDL)
    ops = [RenameConstraint("shop", "Order", "Order_pkey", "orders_pkey"), RenameTable("shop", "Order", "orders"),
           RenameTable("shop", "Line", "lines")]
    phase, _ = _run(empty_db, tmp_path, ops, LOCKS)
    assert phase.committed
    assert scalar(empty_db, "SELECT count(*) FROM pg_constraint WHERE conname = 'orders_pkey'") == 1


def test_a_check_that_does_not_hold_rolls_the_window_back_and_names_its_step(empty_db, tmp_path):
    execute(empty_db, DDL)
    ops = [RenameTable("shop", "Order", "orders"), RenameTable("shop", "Line", "lines"),
           _NeverTakesEffect("shop", "lines", "orderId", "order_id")]
    with pytest.raises(MigrationFailed, match=r"step 3 did not take effect \(rename column lines.orderId"):
        _run(empty_db, tmp_path, ops, LOCKS)
    # nothing of the window remains: the tables and the column have their old names
    assert scalar(empty_db, "SELECT to_regclass('shop.\"Order\"') IS NOT NULL AND to_regclass('shop.orders') IS NULL")
    assert scalar(empty_db, "SELECT count(*) FROM pg_attribute WHERE attname = 'orderId'") == 1


def test_steps_are_timed_in_groups_that_end_before_a_step_that_falsifies_an_earlier_check():
    """The constraint's check reads its table's name, which step 3 changes: the first
    group ends after step 2, and its steps share that group's time."""
    ops = [RenameColumn("shop", "Order", "totalCents", "total"), RenameConstraint("shop", "Order", "Order_pkey", "pk"),
           RenameTable("shop", "Order", "orders"), RenameTable("shop", "Line", "lines")]
    plan = Plan("shop", tuple(ops), ())
    batch = LockBatch(plan, 0, {}, LockFault("", None))
    assert [[i for i, _ in g] for g in batch.groups] == [[1, 2], [3, 4]]
    marks = {"start": 10.0, "locked": 10.5, "g0": 10.7, "g1": 11.1, "checks": 11.2}
    wait, steps = batch.step_results(marks, 1)
    assert wait == pytest.approx(0.5)
    assert [s.shared for s in steps] == [2, 2, 2, 2]
    assert [round(s.seconds, 6) for s in steps] == [0.1, 0.1, 0.2, 0.2]


def test_a_table_rename_whose_old_name_a_compat_view_takes_is_checked_at_the_end_with_that_view(empty_db, tmp_path):
    """The view's rename takes the name the table rename freed, which falsifies that
    rename's own check ("the old name is gone"): the rename is checked at the end as
    renamed with a view under its old name, in the one group, not in a group of its own
    before the views. A view under the old name that does not read the table still stops
    the window."""
    from runbook.ops import RenameCompatView, StageCompatView

    execute(empty_db, DDL)
    view = dict(columns=("id",), legacy=("id",), defaults=("",))
    stage = StageCompatView("shop", "shop", "runbook_staged_0123456789abcdef", "Order", **view)
    ops = [RenameTable("shop", "Order", "orders"), RenameTable("shop", "Line", "lines"),
           RenameCompatView("shop", "shop", "Order", "orders", **view, staged=stage.view)]
    batch = LockBatch(Plan("shop", tuple(ops), ()), 0, {}, LockFault("", None))
    assert [[i for i, _ in g] for g in batch.groups] == [[1, 2, 3]]
    assert list(batch.checked_marks) == ["checks"]
    for s in stage.statements():
        execute(empty_db, s)
    phase, _ = _run(empty_db, tmp_path, ops, LOCKS)
    assert phase.committed
    assert scalar(empty_db, "SELECT relkind::text FROM pg_class WHERE oid = to_regclass('shop.\"Order\"')") == "v"
    # the same window, with a staged view that reads nothing: stopped at the view's step
    execute(empty_db, 'DROP VIEW shop."Order"; ALTER TABLE shop.orders RENAME TO "Order"; '
                      'ALTER TABLE shop.lines RENAME TO "Line"')
    execute(empty_db, f'CREATE VIEW shop.{stage.view} AS SELECT 1 AS id')
    with pytest.raises(MigrationFailed, match=r"step 3 did not take effect \(rename staged view"):
        _run(empty_db, tmp_path, ops, LOCKS)
    assert scalar(empty_db, "SELECT relkind::text FROM pg_class WHERE oid = to_regclass('shop.\"Order\"')") == "r"


@pytest.mark.parametrize("rule", [False, True])
def test_the_audit_row_is_written_in_the_window_folded_into_the_marks_statement_or_apart(empty_db, tmp_path, rule):
    """The audit row's INSERT is a data-modifying WITH query of the statement that reads
    the marks; an audit table with a rule (which such a query refuses) gets it apart.
    Either way the row is written in the window's transaction."""
    from runbook.execute.lock_window import folded

    execute(empty_db, DDL + 'CREATE TABLE shop."AuditLog" (id serial PRIMARY KEY, action text, details jsonb);')
    if rule:
        execute(empty_db, 'CREATE RULE audit_notify AS ON INSERT TO shop."AuditLog" DO ALSO NOTIFY audit')
    ops = [RenameTable("shop", "Order", "orders")]
    phase, _ = _run(empty_db, tmp_path, ops, LOCKS)
    assert phase.committed and phase.fold is not rule
    assert scalar(empty_db, 'SELECT count(*) FROM shop."AuditLog" WHERE action = %s', ("migration_complete",)) == 1
    sql = folded(["INSERT INTO t VALUES (1)", "UPDATE u SET a = 1", "NOTIFY x"], "SELECT 1")
    assert sql == "NOTIFY x;\nWITH runbook_w0 AS (INSERT INTO t VALUES (1) RETURNING 1), " \
                  "runbook_w1 AS (UPDATE u SET a = 1 RETURNING 1) SELECT 1"


def test_a_kill_fault_ends_a_round_trip_and_a_group_after_its_step():
    ops = [RenameTable("shop", "Order", "orders"), RenameTable("shop", "Line", "lines")]
    batch = LockBatch(Plan("shop", tuple(ops), ()), 0, {}, LockFault("kill", 1))
    trips = list(batch.round_trips([]))
    assert [stop for _, stop in trips] == [1, None]
    assert [[i for i, _ in g] for g in batch.groups] == [[1], [2]]


def test_each_set_check_says_what_its_operations_own_check_says(empty_db):
    """The set form of a kind's check (one query for every step of the kind) against each
    operation's own check(), on objects that exist, are missing, or are dropped."""
    from runbook.execute.lock_window import first_failing
    from runbook.ops import (AddColumn, AddForeignKey, RenameIndex, RenameSequence, RenameTrigger, SetNotNull,
                             set_check_key)

    execute(empty_db, DDL + """
        CREATE SEQUENCE shop.order_seq;
        CREATE TABLE shop.orders_both (id int);
        CREATE TABLE shop."Both" (id int, gone int);
        ALTER TABLE shop."Both" DROP COLUMN gone;
        CREATE FUNCTION shop.t() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER "Order_audit" AFTER INSERT ON shop."Order" FOR EACH ROW EXECUTE FUNCTION shop.t();
    """)
    ops = [RenameTable("shop", "Gone", "Order"), RenameTable("shop", "Order", "orders"),
           RenameTable("shop", "Both", "orders_both"), RenameTable("other", "Gone", "Order"),
           RenameIndex("shop", "Order", "old_idx", "Order_pkey"), RenameIndex("shop", "Order", "Order_pkey", "new_idx"),
           RenameSequence("shop", "Order", "old_seq", "order_seq"), RenameSequence("shop", "Order", "order_seq", "x"),
           RenameConstraint("shop", "Order", "a", "Order_pkey"), RenameConstraint("shop", "Order", "a", "Line_orderId_fkey"),
           RenameConstraint("shop", "Line", "a", "Line_orderId_fkey"), RenameConstraint("shop", "Nope", "a", "Order_pkey"),
           RenameTrigger("shop", "Order", "a", "Order_audit"), RenameTrigger("shop", "Line", "a", "Order_audit"),
           RenameColumn("shop", "Order", "a", "totalCents"), RenameColumn("shop", "Order", "a", "total"),
           RenameColumn("shop", "Both", "a", "gone"), RenameColumn("shop", "Both", "a", "id"),
           AddColumn("shop", "Order", "totalCents", "int"), AddColumn("shop", "Order", "nope", "int"),
           SetNotNull("shop", "Order", "id"), SetNotNull("shop", "Order", "totalCents"), SetNotNull("shop", "Order", "nope"),
           AddForeignKey("shop", "Line", "Line_orderId_fkey", ("orderId",), "Order", ("id",)),
           AddForeignKey("shop", "Order", "Order_pkey", ("id",), "Order", ("id",))]
    assert all(set_check_key(op) for op in ops)
    own = [scalar(empty_db, f"SELECT coalesce(({op.check()}), false)") for op in ops]
    as_set = [scalar(empty_db, f"SELECT {first_failing([(1, op)])}") == 0 for op in ops]
    assert own == as_set
    assert True in own and False in own
    # all of them at once: the first step whose check fails
    first = next(n for n, ok in enumerate(own, 1) if not ok)
    assert scalar(empty_db, f"SELECT {first_failing(list(enumerate(ops, 1)))}") == first


def test_an_operation_that_overrides_its_check_is_not_read_by_its_parents_set_check():
    from runbook.ops import set_check_key

    assert set_check_key(RenameColumn("shop", "t", "a", "b")) == "column named"
    assert set_check_key(_NeverTakesEffect("shop", "t", "a", "b")) is None


@dataclass(frozen=True)
class _RewritesTheTable(RenameColumn):
    """A step that rewrites its table (new storage) though its own check holds: what the
    storage proof in the window is for."""

    def statements(self):
        return super().statements() + [f'ALTER TABLE shop."{self.table_name}" ALTER COLUMN id TYPE bigint']


def test_a_table_whose_storage_changes_under_the_lock_rolls_the_window_back(empty_db, tmp_path):
    """The storage proof (each table's relfilenode as in the baseline) is read in the
    window with the steps' checks: a step that rewrote a table stops the COMMIT."""
    execute(empty_db, DDL)
    oid, relfilenode = scalar(empty_db, "SELECT array[oid::int, relfilenode::int] FROM pg_class "
                                        "WHERE oid = 'shop.\"Order\"'::regclass")
    ops = [_RewritesTheTable("shop", "Order", "totalCents", "total_cents")]
    left = {}
    with pytest.raises(MigrationFailed, match=r"storage changed under the lock"):
        _run(empty_db, tmp_path, ops, LOCKS, base_tables={str(oid): {"relfilenode": relfilenode}}, conn_out=left)
    # rolled back, and the marks prepared for the window are gone with it
    assert scalar(empty_db, "SELECT relfilenode::int FROM pg_class WHERE oid = 'shop.\"Order\"'::regclass") == relfilenode
    assert left["prepared"] == 0


def test_the_checks_are_prepared_before_the_window_and_read_the_same_under_it(empty_db, tmp_path):
    """The marks that read checks are prepared (parsed and planned) before the locks, and
    their result is the window's: a check that does not hold still stops it."""
    execute(empty_db, DDL)
    ops = [RenameTable("shop", "Order", "orders"), RenameTable("shop", "Line", "lines"),
           _NeverTakesEffect("shop", "lines", "orderId", "order_id")]
    plan = Plan("shop", tuple(ops), (), lock_tables=LOCKS)
    batch = LockBatch(plan, 0, {}, LockFault("", None))
    conn = psycopg2.connect(empty_db)
    try:
        with conn.cursor() as cur:
            batch.prepare(cur, "t_mark")
            assert set(batch.prepared) == {"checks"}
            sql = list(batch.round_trips([]))[-1][0]
            assert "EXECUTE t_mark_checks" in sql and "DEALLOCATE t_mark_checks" in sql and "v.ok" not in sql
            cur.execute(sql)
            with pytest.raises(MigrationFailed, match="step 3 did not take effect"):
                batch.read(cur.fetchone())
            conn.rollback()
            cur.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cur.fetchone()[0] == 0
    finally:
        conn.close()
