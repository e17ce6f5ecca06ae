"""runbook.merge: the legacy merge on the reference database, on a real PostgreSQL.

The reference database at 1k messages holds 50 legacy conversations and 500 legacy
messages; the kill test builds one with 2,000 conversations and 20,000 messages.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import psycopg2
import pytest

from runbook.demo import fixture
from runbook.api import migrate
from runbook.connection import password_of
from runbook.errors import BadInput, ConcurrentRun, WrongState
from runbook.merge import MESSAGE_ID_PREFIX, MERGE_LOCK_KEY, PLACEHOLDER_TITLE, merge_legacy, merge_status, rollback_merge

CUID = re.compile(r"^c[0-9a-z]{24}$")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "runbook.cli", *args], capture_output=True, text=True, timeout=300)


def do_migrate(url, tmp_path):
    migrate(url, backup=False, progress=False, log_dir=str(tmp_path), backup_dir=str(tmp_path))


def query(url, sql, args=None):
    c = psycopg2.connect(url)
    try:
        with c, c.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else None
    finally:
        c.close()


def state(url) -> dict:
    """Counts and checksums of every row of the four tables (all columns)."""
    out = {}
    for t in ("chat_sessions", "chat_messages", "chat_sessions_temp", "chat_messages_temp"):
        out[t] = query(url, f"SELECT count(*), sum(hashtextextended(x::text, 0))::text FROM {t} x")[0]
    return out


@pytest.fixture
def migrated(ref_db, tmp_path):
    do_migrate(ref_db, tmp_path)
    return ref_db


@pytest.fixture
def twin(pg, reference_template, tmp_path):
    """A second migrated copy of the reference database."""
    name = pg.create_db(template=reference_template)
    url = pg.url(name)
    do_migrate(url, tmp_path)
    yield url
    pg.drop_db(name)


# --------------------------------------------------------------------------- preconditions


def test_refuses_before_the_rename(ref_db):
    before = query(ref_db, 'SELECT count(*) FROM "AssistantMessage"')
    with pytest.raises(WrongState, match="after the rename has committed"):
        merge_legacy(ref_db, progress=False)
    r = run_cli("merge-legacy", "--database-url", ref_db)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "runbook: merge-legacy runs after the rename has committed: table public.chat_sessions_temp does not exist "
        "(run `runbook migrate` first)"]
    assert query(ref_db, 'SELECT count(*) FROM "AssistantMessage"') == before
    assert query(ref_db, "SELECT to_regclass('runbook.merge_runs')") == [(None,)]


def test_bad_input_is_one_line_exit_2(migrated):
    for args in (["--batch-size", "0"], ["--rollback"], ["--placeholder-title", " "]):
        r = run_cli("merge-legacy", "--database-url", migrated, "--no-progress", *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert query(migrated, "SELECT count(*) FROM runbook.merged") == [(0,)]


# --------------------------------------------------------------------------- the merge


def test_merge_follows_the_stated_rules(migrated):
    before = state(migrated)
    r = merge_legacy(migrated, batch_size=50, progress=False)
    assert r.ok, [c for c in r.checks if not c.ok]
    assert r.status == "done" and r.batches == 10
    assert (r.sessions_merged, r.messages_merged, r.sessions_skipped, r.messages_skipped) == (50, 500, 0, 0)
    counts = {c.table: c for c in r.counts}
    assert counts["chat_sessions"].after == before["chat_sessions"][0] + 50
    assert counts["chat_messages"].after == before["chat_messages"][0] + 500
    assert counts["chat_sessions_temp"].after == counts["chat_sessions_temp"].before == 50
    # the legacy tables are read, never changed
    after = state(migrated)
    assert after["chat_sessions_temp"] == before["chat_sessions_temp"]
    assert after["chat_messages_temp"] == before["chat_messages_temp"]
    # sessions: same id, title or placeholder, newest message time, defaults for the rest
    rows = query(migrated, '''
        SELECT count(*) FILTER (WHERE s.title = coalesce(c.title, %s)),
               count(*) FILTER (WHERE c.title IS NULL),
               count(*) FILTER (WHERE s."lastMessageAt" IS NOT DISTINCT FROM
                                (SELECT max("createdAt") FROM chat_messages_temp m WHERE m."conversationId" = c.id)),
               count(*) FILTER (WHERE s."isActive" AND s."folderId" IS NULL AND s."userId" = c."userId"
                                AND s."createdAt" = c."createdAt" AND s."updatedAt" = c."updatedAt")
        FROM chat_sessions_temp c JOIN chat_sessions s ON s.id = c.id''', (PLACEHOLDER_TITLE,))
    assert rows == [(50, rows[0][1], 50, 50)] and rows[0][1] > 0  # the fixture has NULL titles
    # messages: 'legacy-msg-<id>', never a cuid, content kept
    rows = query(migrated, '''
        SELECT t.id, m.id FROM chat_messages_temp m JOIN chat_messages t ON t.id = %s || m.id
        WHERE (t."sessionId", t.role, t.content, t."createdAt", t.metadata)
              IS NOT DISTINCT FROM (m."conversationId", m.role, m.content, m."createdAt", NULL::jsonb)''',
                 (MESSAGE_ID_PREFIX,))
    assert len(rows) == 500
    assert all(t == f"legacy-msg-{m}" and not CUID.match(t) for t, m in rows)
    assert all(CUID.match(i) for (i,) in query(migrated, "SELECT id FROM chat_messages WHERE id NOT LIKE 'legacy-msg-%'"))


def test_a_second_run_changes_nothing(migrated):
    merge_legacy(migrated, batch_size=50, progress=False)
    s1 = state(migrated)
    r = merge_legacy(migrated, batch_size=7, progress=False)
    assert r.status == "already done" and r.ok and r.rows == 0
    assert state(migrated) == s1


def test_existing_ids_are_counted_listed_and_not_overwritten(migrated):
    (conv, user), (other,) = query(migrated, "SELECT id, \"userId\" FROM chat_sessions_temp ORDER BY id LIMIT 1")[0], \
        query(migrated, 'SELECT min(id) FROM chat_messages_temp WHERE "conversationId" <> '
                        '(SELECT min(id) FROM chat_sessions_temp)')[0]
    # the service already has a session with a legacy conversation's id, and a message with a merged id
    query(migrated, 'INSERT INTO chat_sessions (id, "userId", title) VALUES (%s, %s, %s)', (conv, user, "mine"))
    query(migrated, 'INSERT INTO chat_messages (id, "sessionId", role, content) VALUES (%s, %s, %s, %s)',
          (f"legacy-msg-{other}", conv, "user", "not legacy"))
    n_conv_msgs = query(migrated, 'SELECT count(*) FROM chat_messages_temp WHERE "conversationId" = %s', (conv,))[0][0]
    r = merge_legacy(migrated, batch_size=50, progress=False)
    assert r.ok, [c for c in r.checks if not c.ok]
    assert r.sessions_skipped == 1 and r.messages_skipped == n_conv_msgs + 1
    assert r.sessions_merged == 49 and r.messages_merged == 500 - n_conv_msgs - 1
    listed = {(s.source, s.source_id): s.reason for s in r.skipped}
    assert listed[("chat_sessions_temp", conv)] == "id already in chat_sessions"
    assert listed[("chat_messages_temp", str(other))] == "id already in chat_messages"
    assert sum(1 for reason in listed.values() if reason == f"its conversation {conv} was not merged") == n_conv_msgs
    # not overwritten
    assert query(migrated, "SELECT title FROM chat_sessions WHERE id = %s", (conv,)) == [("mine",)]
    assert query(migrated, "SELECT content FROM chat_messages WHERE id = %s", (f"legacy-msg-{other}",)) == [("not legacy",)]
    # the skipped conversation's messages did not land in the service's session
    assert query(migrated, 'SELECT count(*) FROM chat_messages WHERE "sessionId" = %s', (conv,)) == [(1,)]


def test_interrupted_then_resumed_equals_uninterrupted(migrated, twin):
    r1 = merge_legacy(migrated, batch_size=50, progress=False, stop_after_batches=3)
    assert r1.status == "interrupted" and r1.sessions_merged == 15
    r2 = merge_legacy(migrated, batch_size=120, progress=False)  # another batch size: the same result
    assert r2.resumed and r2.ok and r2.sessions_merged == 50 and r2.messages_merged == 500
    full = merge_legacy(twin, batch_size=500, progress=False)
    assert full.ok and not full.resumed
    assert state(migrated) == state(twin)


@pytest.fixture
def big_migrated(pg, tmp_path):
    """Template: the reference database at 40k messages (2,000 conversations, 20,000 legacy messages), migrated."""
    name = pg.create_db()
    url = pg.url(name)
    fixture.build(url, messages=40_000)
    do_migrate(url, tmp_path)
    copies = []

    def copy():
        copies.append(pg.create_db(template=name))
        return pg.url(copies[-1])

    yield copy
    for c in copies:
        pg.drop_db(c)
    pg.drop_db(name)


def test_killed_half_way_and_rerun_gives_the_same_result(big_migrated):
    killed, clean = big_migrated(), big_migrated()
    p = subprocess.Popen([sys.executable, "-m", "runbook.cli", "merge-legacy", "--database-url", killed,
                          "--batch-size", "100", "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and p.poll() is None:
        try:
            done = query(killed, "SELECT coalesce(max(batches), 0) FROM runbook.merge_runs")[0][0]
        except psycopg2.Error:
            done = 0
        if done >= 100:  # of about 200
            break
        time.sleep(0.01)
    assert p.poll() is None, f"the merge ended before it could be killed: {p.stderr.read()}"
    p.send_signal(signal.SIGKILL)
    p.wait()
    half = query(killed, "SELECT count(*) FROM chat_messages WHERE id LIKE 'legacy-msg-%'")[0][0]
    assert 0 < half < 20_000
    r = merge_legacy(killed, batch_size=100, progress=False)
    assert r.resumed and r.ok, [c for c in r.checks if not c.ok]
    assert (r.sessions_merged, r.messages_merged) == (2_000, 20_000)
    ok = merge_legacy(clean, batch_size=1000, progress=False)
    assert ok.ok
    assert state(killed) == state(clean)


# --------------------------------------------------------------------------- rollback


def test_rollback_removes_exactly_the_merged_rows(migrated):
    before = state(migrated)
    merge_legacy(migrated, batch_size=50, progress=False)
    # the service writes meanwhile: a new session, and a message into a merged session
    (user,), = query(migrated, "SELECT id FROM users LIMIT 1")
    (merged_session,), = query(migrated, "SELECT id FROM chat_sessions_temp ORDER BY id DESC LIMIT 1")
    query(migrated, 'INSERT INTO chat_sessions (id, "userId", title) VALUES (%s, %s, %s)', ("cnew0000000000000000000000"[:25], user, "new"))
    query(migrated, 'INSERT INTO chat_messages (id, "sessionId", role, content) VALUES (%s, %s, %s, %s)',
          ("cmsg0000000000000000000000"[:25], merged_session, "user", "after the merge"))
    r = rollback_merge(migrated, progress=False)
    assert r.status == "rolled back" and r.ok, [c for c in r.checks if not c.ok]
    assert r.kept == (merged_session,)
    assert query(migrated, "SELECT count(*) FROM chat_messages WHERE id LIKE 'legacy-msg-%'") == [(0,)]
    # what the service wrote is still there; everything else is as before the merge
    query(migrated, "DELETE FROM chat_messages WHERE id = %s", ("cmsg0000000000000000000000"[:25],))
    query(migrated, "DELETE FROM chat_sessions WHERE id IN (%s, %s)", ("cnew0000000000000000000000"[:25], merged_session))
    assert state(migrated) == before
    # a new merge may run after a rollback
    r2 = merge_legacy(migrated, batch_size=50, progress=False)
    assert r2.ok and r2.run == r.run + 1 and r2.messages_merged == 500


def test_rollback_interrupted_then_resumed(migrated):
    before = state(migrated)
    merge_legacy(migrated, batch_size=50, progress=False)
    r1 = rollback_merge(migrated, progress=False, stop_after_batches=4)
    assert r1.status == "rolling back"
    with pytest.raises(WrongState, match="half rolled back"):
        merge_legacy(migrated, progress=False)
    r2 = rollback_merge(migrated, progress=False)
    assert r2.status == "rolled back" and r2.ok
    assert state(migrated) == before
    with pytest.raises(WrongState, match="nothing to roll back"):
        rollback_merge(migrated, progress=False)


# --------------------------------------------------------------------------- locks, resume rules, CLI


def test_one_merge_at_a_time_and_never_during_a_migrate(migrated):
    from runbook.execute import ADVISORY_KEY

    for key, msg in ((MERGE_LOCK_KEY, "another merge-legacy run"), (ADVISORY_KEY, "runbook migrate or rollback")):
        holder = psycopg2.connect(migrated)
        holder.autocommit = True
        try:
            with holder.cursor() as cur:
                cur.execute("SELECT pg_advisory_lock(%s)", (key,))
            with pytest.raises(ConcurrentRun, match=msg):
                merge_legacy(migrated, progress=False, lock_wait=0.2)
        finally:
            holder.close()
    assert merge_legacy(migrated, progress=False).ok


def test_resume_keeps_the_placeholder(migrated):
    merge_legacy(migrated, batch_size=50, progress=False, stop_after_batches=1)
    with pytest.raises(BadInput, match="placeholder title 'Untitled chat'"):
        merge_legacy(migrated, placeholder="No title", progress=False)
    assert merge_legacy(migrated, placeholder=PLACEHOLDER_TITLE, progress=False).ok


def test_cli_report_json_and_status(migrated):
    pw = password_of(migrated)
    r = run_cli("merge-legacy", "--database-url", migrated, "--no-progress", "--batch-size", "100")
    assert r.returncode == 0, r.stderr
    assert "merge run 1: done" in r.stdout
    assert re.search(r"chat_messages_temp\s+source\s+500\s+500\s+500\s+0", r.stdout)
    assert "message id: 'legacy-msg-' || legacy integer id" in r.stdout
    assert pw not in r.stdout + r.stderr
    r = run_cli("merge-legacy", "--database-url", migrated, "--status", "--json")
    d = json.loads(r.stdout)
    assert r.returncode == 0 and d["status"] == "done" and d["ok"] and d["messages_merged"] == 500
    assert pw not in r.stdout
    assert merge_status(migrated).messages_merged == 500
    r = run_cli("merge-legacy", "--database-url", migrated, "--rollback", "--no-progress")
    assert r.returncode == 0 and "merge run 1: rolled back" in r.stdout


def test_engine_can_ask_whether_merged_rows_are_present(migrated):
    from runbook.merge import merged_rows_present

    def ask():
        c = psycopg2.connect(migrated)
        try:
            return merged_rows_present(c)
        finally:
            c.close()

    assert ask() is None
    r = merge_legacy(migrated, batch_size=50, progress=False, stop_after_batches=1)
    assert ask() == r.run
    merge_legacy(migrated, progress=False)
    assert ask() == r.run
    rollback_merge(migrated, progress=False)
    assert ask() is None
