"""The engine against a real PostgreSQL: migrate, verify, roll back (spec 9.1)."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg2
import pytest

import runbook
from runbook.demo import fixture
from runbook.errors import ConcurrentRun, ConflictError, MigrationFailed, UnsafeFunction, WrongState
from runbook.execute import ADVISORY_KEY
from runbook.execute.backup import backup_bytes
from snapshots import audit_events, execute, rows, scalar, state


def opts(tmp_path):
    return dict(backup_dir=str(tmp_path / "backups"), log_dir=str(tmp_path / "logs"), progress=False)


def test_migrate_renames_every_table_and_dependent_name(ref_db, tmp_path):
    nulls = scalar(ref_db, 'SELECT count(*) FROM "AssistantChatSession" WHERE "sessionName" IS NULL')
    assert nulls > 0
    r = runbook.migrate(ref_db, **opts(tmp_path))
    assert r.status == "migrated" and r.verification.ok
    tables = {t for (t,) in rows(ref_db, "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")}
    assert {"users", "chat_folders", "chat_sessions", "chat_messages", "chat_sessions_temp", "chat_messages_temp"} <= tables
    assert not {"User", "AssistantFolder", "AssistantChatSession", "AssistantChatMessage", "AssistantConversation",
                "AssistantMessage"} & tables
    names = {n for (n,) in rows(ref_db, "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace")}
    cons = {n for (n,) in rows(ref_db, "SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace")}
    for expected in ("users_pkey", "users_email_key", "users_username_key", "chat_messages_temp_id_seq",
                     "chat_messages_sessionId_createdAt_idx", "chat_sessions_userId_idx"):
        assert expected in names, expected
    for expected in ("users_pkey", "chat_sessions_userId_fkey", "chat_messages_sessionId_fkey", "chat_sessions_folderId_fkey"):
        assert expected in cons, expected
    assert not [n for n in names | cons if n.startswith(("User_", "AssistantFolder_", "AssistantChat", "AssistantConversation_", "AssistantMessage_"))]
    # foreign keys of the 50+ referencing tables still point at the renamed users table, validated
    fks = scalar(ref_db, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = 'public.users'::regclass AND convalidated")
    assert fks >= 54
    # spec 3.2: columns
    assert scalar(ref_db, "SELECT count(*) FROM chat_sessions WHERE title = 'Untitled chat'") >= nulls
    assert scalar(ref_db, "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'chat_sessions'::regclass AND attname = 'title'")
    assert scalar(ref_db, "SELECT count(*) FROM users WHERE role <> 'USER'") == 0
    assert scalar(ref_db, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'role'") == '"UserRole"'
    # the serial default follows the sequence rename
    execute(ref_db, "INSERT INTO chat_messages_temp (\"conversationId\", role, content) SELECT id, 'user', 'x' FROM chat_sessions_temp LIMIT 1")
    # the rewritten trigger function works: a new message touches its session
    sid = scalar(ref_db, "SELECT id FROM chat_sessions LIMIT 1")
    execute(ref_db, "INSERT INTO chat_messages (id, \"sessionId\", role, content, \"createdAt\") VALUES ('cnew', %s, 'user', 'hi', '2030-01-01')", (sid,))
    assert str(scalar(ref_db, 'SELECT "lastMessageAt" FROM chat_sessions WHERE id = %s', (sid,))).startswith("2030-01-01")
    # the view and the rewritten plpgsql function read the renamed table
    uid = scalar(ref_db, "SELECT id FROM users LIMIT 1")
    assert scalar(ref_db, "SELECT user_display_name(%s)", (uid,))
    assert scalar(ref_db, 'SELECT count(*) FROM "ActiveUser"') > 0
    assert audit_events(ref_db)[-2:] == ["migration_start", "migration_complete"]
    assert r.backup and backup_bytes(r.backup.path) == r.backup.bytes and r.backup.verified
    assert r.lock_window_s > 0
    log_text = Path(r.log_file).read_text()
    assert "committed" in log_text


def test_migrate_then_rollback_leaves_catalog_and_data_identical(ref_db, tmp_path):
    before = state(ref_db)
    runbook.migrate(ref_db, **opts(tmp_path))
    assert state(ref_db) != before
    r = runbook.rollback(ref_db, drop_added_columns=True, **opts(tmp_path))
    assert r.status == "rolled back", [c for c in r.verification.checks if not c.ok]
    after = state(ref_db)
    assert after[0] == before[0]  # pg_dump --schema-only
    assert after[1] == before[1]  # every table's rows and checksum (NULL titles restored)
    assert audit_events(ref_db)[-1] == "rollback"
    # and the plan is whole again: a second migrate works
    assert runbook.migrate(ref_db, **opts(tmp_path)).status == "migrated"


@pytest.mark.parametrize("fill_scan", ["pages", "key"])
@pytest.mark.parametrize("batch_size", [3, 5000])
def test_fill_by_pages_and_by_key_fill_and_record_exactly_the_null_rows(ref_db, tmp_path, fill_scan, batch_size):
    """Both fill scans (heap pages on PostgreSQL 14+, the key on older servers), with
    batches of 3 rows (many batches, the page window shrinking and growing) and of 5000."""
    if fill_scan == "pages" and int(scalar(ref_db, "SHOW server_version_num")) < 140000:
        pytest.skip("TID Range Scan needs PostgreSQL 14")
    null_ids = sorted(r[0] for r in rows(ref_db, 'SELECT id FROM "AssistantChatSession" WHERE "sessionName" IS NULL'))
    assert len(null_ids) > 3
    before = state(ref_db)
    r = runbook.migrate(ref_db, fill_scan=fill_scan, batch_size=batch_size, **opts(tmp_path))
    assert r.status == "migrated"
    assert scalar(ref_db, "SELECT count(*) FROM chat_sessions WHERE title IS NULL") == 0
    filled = sorted(x[0] for x in rows(ref_db, "SELECT pk FROM runbook.filled"))
    assert filled == null_ids
    assert sorted(x[0] for x in rows(ref_db, "SELECT id FROM chat_sessions WHERE title = 'Untitled chat'")) == null_ids
    runbook.rollback(ref_db, drop_added_columns=True, **opts(tmp_path))
    assert state(ref_db) == before


def test_rollback_keeps_added_columns_unless_asked(ref_db, tmp_path):
    runbook.migrate(ref_db, **opts(tmp_path))
    execute(ref_db, "UPDATE users SET role = 'ADMIN' WHERE id = (SELECT min(id) FROM users)")
    runbook.rollback(ref_db, **opts(tmp_path))
    assert scalar(ref_db, "SELECT count(*) FROM \"User\" WHERE role = 'ADMIN'") == 1
    assert scalar(ref_db, "SELECT to_regclass('public.users')") is None


def test_rollback_dropping_added_columns_dumps_their_tables_first(ref_db, tmp_path):
    """What was written into the added columns since the migration is in a verified dump
    of exactly the tables whose columns the rollback drops."""
    import subprocess

    from runbook.pgbin import client_bin_dir

    runbook.migrate(ref_db, **opts(tmp_path))
    execute(ref_db, "UPDATE users SET role = 'ADMIN' WHERE id = (SELECT min(id) FROM users)")
    execute(ref_db, "UPDATE chat_folders SET color = 'teal-rollback-check' WHERE id = (SELECT min(id) FROM chat_folders)")
    r = runbook.rollback(ref_db, drop_added_columns=True, **opts(tmp_path))
    assert r.status == "rolled back"
    # as the migration's backup: a directory-format dump by 2 jobs (the default)
    assert r.backup and r.backup.verified and Path(r.backup.path).is_dir() and r.backup.path.endswith(".dir")
    assert backup_bytes(r.backup.path) == r.backup.bytes
    toc = subprocess.run([str(client_bin_dir() / "pg_restore"), "--list", r.backup.path],
                         capture_output=True, text=True, check=True).stdout
    dumped = sorted(l.split()[-2] for l in toc.splitlines() if " TABLE DATA " in l)
    assert dumped == ["chat_folders", "chat_sessions", "users"]
    data = subprocess.run([str(client_bin_dir() / "pg_restore"), "--data-only", "--file=-", r.backup.path],
                          capture_output=True, text=True, check=True).stdout
    assert "\tADMIN" in data and "teal-rollback-check" in data
    assert scalar(ref_db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'User' "
                          "AND column_name = 'role'") == 0


def test_rollback_keeping_added_columns_takes_no_backup(ref_db, tmp_path):
    runbook.migrate(ref_db, **opts(tmp_path))
    r = runbook.rollback(ref_db, **opts(tmp_path))
    assert r.status == "rolled back" and r.backup is None


@pytest.mark.parametrize("where", ["first prepare step", "last prepare step", "first lock step", "middle",
                                   "last lock step"])
def test_failure_at_a_step_leaves_the_database_as_it_was(ref_db, tmp_path, monkeypatch, where):
    ops = runbook.plan(ref_db).ops
    n_prep = len([o for o in ops if o.phase == "prepare"])
    n_lock = len([o for o in ops if o.phase == "lock"])
    step = {"first prepare step": 1, "last prepare step": n_prep, "first lock step": n_prep + 1,
            "middle": n_prep + n_lock // 2, "last lock step": n_prep + n_lock}[where]
    before = state(ref_db)
    monkeypatch.setenv("RUNBOOK_FAULT", f"fail:{step}")
    with pytest.raises(MigrationFailed) as ei:
        runbook.migrate(ref_db, **opts(tmp_path))
    assert f"step {step}" in str(ei.value) and "left as it was" in str(ei.value)
    assert state(ref_db) == before
    assert audit_events(ref_db)[-1] == "migration_failed"
    monkeypatch.delenv("RUNBOOK_FAULT")
    assert runbook.migrate(ref_db, **opts(tmp_path)).status == "migrated"


def test_second_concurrent_runner_is_refused(ref_db, tmp_path):
    holder = psycopg2.connect(ref_db, application_name="other-runbook")
    holder.autocommit = True
    holder.cursor().execute("SELECT pg_advisory_lock(%s)", (ADVISORY_KEY,))
    try:
        before = state(ref_db)
        with pytest.raises(ConcurrentRun, match="another runbook run holds the lock"):
            runbook.migrate(ref_db, **opts(tmp_path))
        assert state(ref_db) == before
    finally:
        holder.close()


def test_migrate_twice_does_nothing_the_second_time(ref_db, tmp_path):
    runbook.migrate(ref_db, **opts(tmp_path))
    after = state(ref_db)
    r = runbook.migrate(ref_db, **opts(tmp_path))
    assert r.status == "nothing to do" and not r.plan.ops
    assert state(ref_db) == after


def test_half_migrated_database_gets_only_what_is_left(pg, reference_template, ref_db, tmp_path):
    # a colleague renamed two tables by hand
    execute(ref_db, 'ALTER TABLE "User" RENAME TO users; ALTER TABLE "AssistantMessage" RENAME TO chat_messages_temp')
    an = runbook.analyze(ref_db)
    states = {t.old: t.state for t in an.tables}
    assert states["User"] == "done" and states["AssistantMessage"] == "done" and states["AssistantFolder"] == "todo"
    kinds = [(o.kind, o.describe()) for o in an.plan.ops]
    assert ("rename table", "rename table User -> users") not in kinds
    # no table rename for users, but its dependent names still follow
    assert ("rename constraint", "rename constraint User_pkey -> users_pkey") in kinds
    assert ("rename sequence", "rename sequence AssistantMessage_id_seq -> chat_messages_temp_id_seq") in kinds
    runbook.migrate(ref_db, **opts(tmp_path))
    # the end state equals a migration of an untouched copy
    other = pg.url(pg.create_db(template=reference_template))
    runbook.migrate(other, **opts(tmp_path))
    assert state(ref_db)[0] == state(other)[0]


def test_dry_run_and_rehearse_change_nothing(ref_db, tmp_path):
    before = state(ref_db)
    r = runbook.migrate(ref_db, dry_run=True, **opts(tmp_path))
    assert r.status == "planned" and r.plan.ops and r.preflight
    assert state(ref_db) == before
    r = runbook.migrate(ref_db, rehearse=True, **opts(tmp_path))
    assert r.status == "rehearsed" and len(r.steps) == len([o for o in r.plan.ops if o.phase != "finish"])
    assert all(s.seconds >= 0 for s in r.steps)
    assert state(ref_db) == before


def test_target_that_exists_is_a_conflict(ref_db, tmp_path):
    execute(ref_db, "CREATE TABLE chat_folders (id text)")
    before = state(ref_db)
    with pytest.raises(ConflictError, match="chat_folders"):
        runbook.migrate(ref_db, **opts(tmp_path))
    assert state(ref_db) == before
    an = runbook.analyze(ref_db)
    assert any("empty" in c.reason for c in an.conflicts)


def test_function_with_dynamic_sql_naming_an_old_table_blocks(ref_db, tmp_path):
    execute(ref_db, """CREATE FUNCTION count_users() RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE n bigint; BEGIN EXECUTE 'SELECT count(*) FROM "User"' INTO n; RETURN n; END $$""")
    before = state(ref_db)
    with pytest.raises(UnsafeFunction, match=r"count_users\(\)"):
        runbook.migrate(ref_db, **opts(tmp_path))
    assert state(ref_db) == before


def test_analysis_reports_dependencies_and_sizes(ref_db):
    an = runbook.analyze(ref_db)
    user = next(t for t in an.tables if t.old == "User")
    assert user.rows == scalar(ref_db, 'SELECT count(*) FROM "User"') and user.total_bytes > 0
    assert user.fks_in >= 54 and len([f for f in an.foreign_keys if f.references == "User"]) == user.fks_in
    kinds = {(r.kind, r.name.split("(")[0]) for r in an.at_risk}
    assert ("function", "public.touch_chat_session") in kinds and ("view", "public.ActiveUser") in kinds
    assert ("trigger", "AssistantChatMessage_touch_session") in kinds
    assert an.owns_tables and an.free_disk_bytes > 0 and an.estimated_downtime_s > 0
    deps = {(d.kind, d.name): d for d in an.dependencies}
    assert deps[("primary key", "User_pkey")].action == "renamed to users_pkey"
    assert deps[("index", "User_email_key")].action == "renamed to users_email_key"
    assert deps[("sequence", "AssistantMessage_id_seq")].action == "renamed to chat_messages_temp_id_seq"
    assert deps[("function", "public.touch_chat_session()")].action == "body rewritten"
    assert len([d for d in an.dependencies if d.kind == "foreign key in" and d.table == "User"]) == user.fks_in
    assert "User" in an.pascal_case_tables and "_prisma_migrations" not in an.pascal_case_tables
    d = an.to_dict()
    assert d["plan"]["fingerprint"] == an.fingerprint and "***" not in d["database"] or ":***@" in d["database"]


def test_a_session_holding_a_lock_is_named_as_a_blocker(ref_db):
    blocker = psycopg2.connect(ref_db, application_name="nightly-report")
    try:
        blocker.cursor().execute('SELECT count(*) FROM "User"')  # holds ACCESS SHARE, idle in transaction
        an = runbook.analyze(ref_db)
        b = [x for x in an.blocking if x.application == "nightly-report"]
        assert b and "User" in b[0].tables
    finally:
        blocker.close()


def test_verify_after_migrate_passes_and_catches_a_broken_constraint(ref_db, tmp_path):
    runbook.migrate(ref_db, **opts(tmp_path))
    v = runbook.verify(ref_db)
    assert v.ok and any(c.name == "ai-assistant: create/read/update/delete through its models" for c in v.checks)
    execute(ref_db, 'ALTER TABLE chat_messages DROP CONSTRAINT "chat_messages_sessionId_fkey"')
    v = runbook.verify(ref_db)
    assert not v.ok and any("chat_messages_sessionId_fkey" in c.name for c in v.failed)


def test_rollback_refuses_when_the_database_moved_on(ref_db, tmp_path):
    runbook.migrate(ref_db, **opts(tmp_path))
    execute(ref_db, "ALTER TABLE chat_folders RENAME TO folders_v2")
    with pytest.raises(WrongState, match="not in the state"):
        runbook.rollback(ref_db, **opts(tmp_path))


def test_restore_says_what_it_overwrites_before_doing_it(ref_db, tmp_path):
    r = runbook.migrate(ref_db, **opts(tmp_path))
    before = state(ref_db)
    info = runbook.restore(ref_db, r.backup.path)
    assert info["restored"] is False and "User" in info["tables_in_backup"]
    assert state(ref_db) == before


def test_audit_table_absent_falls_back_to_runbooks_own(ref_db, tmp_path):
    execute(ref_db, 'DROP TABLE "AuditLog"')
    runbook.migrate(ref_db, **opts(tmp_path))
    assert scalar(ref_db, "SELECT count(*) FROM runbook.audit_log WHERE action = 'migration_complete'") == 1



def test_restore_with_yes_brings_back_lost_data(ref_db, tmp_path):
    original = state(ref_db)
    r = runbook.migrate(ref_db, **opts(tmp_path))
    runbook.rollback(ref_db, drop_added_columns=True, **opts(tmp_path))
    execute(ref_db, 'DELETE FROM "AssistantChatMessage"')  # a disaster after the rollback
    info = runbook.restore(ref_db, r.backup.path, confirm=True)
    assert info["restored"] and "AssistantChatMessage" in info["dropped_and_recreated"]
    assert state(ref_db) == original


def test_approved_fingerprint_must_match_the_plan(ref_db, tmp_path):
    before = state(ref_db)
    with pytest.raises(WrongState, match="not the approved one"):
        runbook.migrate(ref_db, approved_fingerprint="0" * 64, **opts(tmp_path))
    assert state(ref_db) == before
    fp = runbook.plan(ref_db).fingerprint
    assert runbook.migrate(ref_db, approved_fingerprint=f"sha256:{fp}", **opts(tmp_path)).status == "migrated"
