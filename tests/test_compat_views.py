"""Expand / contract: ``migrate --compat-views`` leaves a view under every old name, so a
legacy client (the old quoted names, the old column names) keeps working beside the new
names; ``rollback`` removes the views; ``contract`` drops them later as a run of its own."""

from __future__ import annotations

import re
import threading

import psycopg2
import pytest

import runbook
from runbook.cli import main
from snapshots import audit_events, execute, rows, scalar, schema_dump, state


def opts(tmp_path):
    return dict(backup_dir=str(tmp_path / "backups"), log_dir=str(tmp_path / "logs"), progress=False)


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([*args, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def relkind(url: str, name: str):
    return scalar(url, "SELECT (SELECT relkind::text FROM pg_class WHERE oid = to_regclass(%s))", (name,))


# -- the reference database, default mapping ---------------------------------------------

def test_reference_database_legacy_client_works_through_the_views_and_rollback_restores(ref_db, workdir):
    before = state(ref_db)
    r = runbook.migrate(ref_db, compat_views=True, **opts(workdir))
    assert r.status == "migrated" and r.verification.ok
    for old in ('"User"', '"AssistantChatSession"', '"AssistantChatMessage"', '"AssistantFolder"',
                '"AssistantMessage"', '"AssistantConversation"'):
        assert relkind(ref_db, f"public.{old}") == "v", old
    assert runbook.verify(ref_db, crud=False).ok
    assert runbook.status(ref_db).state == "migrated"  # a view under an old name is not the old table
    conn = psycopg2.connect(ref_db)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        uid = scalar(ref_db, "SELECT id FROM users LIMIT 1")
        # a legacy INSERT that leaves sessionName out: the fill's placeholder, as the column is NOT NULL now;
        # createdAt gets its default as before; RETURNING through the view
        cur.execute('INSERT INTO "AssistantChatSession" (id, "userId", "updatedAt") VALUES (%s, %s, now()) '
                    'RETURNING "sessionName", "createdAt" IS NOT NULL', ("legacy1", uid))
        assert cur.fetchone() == ("Untitled chat", True)
        # an explicit NULL too (title is NOT NULL now): the fill trigger the views keep
        cur.execute('UPDATE "AssistantChatSession" SET "sessionName" = NULL WHERE id = %s RETURNING "sessionName"',
                    ("legacy1",))
        assert cur.fetchone() == ("Untitled chat",)
        cur.execute('UPDATE "AssistantChatSession" SET "sessionName" = %s, "lastActiveAt" = now() WHERE id = %s '
                    'RETURNING "sessionName"', ("renamed by legacy", "legacy1"))
        assert cur.fetchone() == ("renamed by legacy",)
        assert scalar(ref_db, "SELECT title FROM chat_sessions WHERE id = 'legacy1'") == "renamed by legacy"
        # the new service writes the table, the legacy one reads it
        cur.execute("UPDATE chat_sessions SET title = 'from the new service' WHERE id = 'legacy1'")
        cur.execute('SELECT "sessionName" FROM "AssistantChatSession" WHERE id = %s', ("legacy1",))
        assert cur.fetchone() == ("from the new service",)
        # a serial id through the view: the sequence's default as before
        top = scalar(ref_db, "SELECT max(id) FROM chat_messages_temp")
        cid = scalar(ref_db, "SELECT id FROM chat_sessions_temp LIMIT 1")
        cur.execute('INSERT INTO "AssistantMessage" ("conversationId", role, content) VALUES (%s, %s, %s) '
                    'RETURNING id', (cid, "user", "hello"))
        mid = cur.fetchone()[0]
        assert mid > top
        cur.execute('DELETE FROM "AssistantMessage" WHERE id = %s RETURNING id', (mid,))
        assert cur.fetchone() == (mid,)
        cur.execute('DELETE FROM "AssistantChatSession" WHERE id = %s', ("legacy1",))
        assert cur.rowcount == 1
    finally:
        conn.close()
    rb = runbook.rollback(ref_db, drop_added_columns=True, **opts(workdir))
    assert rb.status == "rolled back" and rb.verification.ok
    assert relkind(ref_db, 'public."AssistantChatSession"') == "r"
    assert state(ref_db) == before


def test_the_plan_with_views_has_its_own_fingerprint_and_the_default_plan_none(ref_db):
    from dataclasses import replace

    from runbook.mapping import load_mapping

    default = runbook.plan(ref_db)
    views = runbook.plan(ref_db, replace(load_mapping(), compat_views=True))
    from runbook.ops import LOCK, PREPARE

    assert not [o for o in default.ops if "compat view" in o.kind]
    # each view made online under its staged name, and only renamed under the lock
    staged = [o for o in views.ops if o.kind == "stage compat view"]
    renamed = [o for o in views.ops if o.kind == "rename compat view"]
    assert len(staged) == len(renamed) == 6
    assert {o.phase for o in staged} == {PREPARE} and {o.phase for o in renamed} == {LOCK}
    assert [o.view for o in staged] == [o.staged for o in renamed]
    assert views.fingerprint != default.fingerprint
    body = views.sql_body()
    prep, lock = body.split("BEGIN;", 1)
    assert "CREATE VIEW" not in default.sql_body() and "CREATE VIEW" not in lock
    assert f"CREATE VIEW public.{renamed[0].staged} " in prep
    assert "security_invoker" not in body  # (no table of it has row-level security)
    assert f'ALTER VIEW public.{renamed[0].staged} RENAME TO "User"' in lock
    # the fill's trigger is kept through the window (it follows its table and column by
    # number): no trigger made or dropped under the lock, only its function replaced, once,
    # as the column it names is renamed
    assert not re.search(r"(CREATE|DROP) (TRIGGER|FUNCTION)[^;]*runbook(_|\.)fill_", lock)
    assert lock.count("CREATE OR REPLACE FUNCTION runbook.fill_") == 1
    extra = {o.kind: len(o.statements()) for o in views.phase(LOCK) if o.kind not in {p.kind for p in default.ops}}
    assert extra == {"rename compat view": 1, "keep filling": 1}
    # the statements under the lock: the default plan's, less the fill's DROP TRIGGER and DROP
    # FUNCTION, plus one rename a view and the one function
    assert (sum(len(o.statements()) for o in views.phase(LOCK))
            == sum(len(o.statements()) for o in default.phase(LOCK)) - 2 + 6 + 1)


# -- a database of our own: schema app, two tables with a foreign key, renamed columns ----------

SCHEMA = """
CREATE SCHEMA app;
CREATE TABLE app."Author" (id serial PRIMARY KEY, "fullName" text NOT NULL, email text);
CREATE TABLE app."Book" (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "authorId" integer NOT NULL REFERENCES app."Author"(id),
    "bookTitle" text,
    "createdAt" timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX "Book_authorId_idx" ON app."Book" ("authorId");
INSERT INTO app."Author" ("fullName", email) SELECT 'author ' || i, 'a' || i || '@x' FROM generate_series(1, 20) i;
INSERT INTO app."Book" ("authorId", "bookTitle")
    SELECT 1 + i % 20, CASE WHEN i % 3 = 0 THEN NULL ELSE 'book ' || i END FROM generate_series(1, 200) i;
"""

MAPPING = """
schema = "app"
audit_table = false
compat_views = true

[[tables]]
from = "Author"
to = "authors"
rename_columns = [{ from = "fullName", to = "full_name" }]

[[tables]]
from = "Book"
to = "books"
rename_columns = [{ from = "bookTitle", to = "title", not_null = true, fill_nulls = "Untitled" }]
add_columns = [{ name = "isbn", type = "text" }]
"""


def own_state(url: str) -> tuple[str, list]:
    """The schema dump and every row of schema app (the tables under whatever name)."""
    data = []
    for (rel,) in rows(url, "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = 'app'::regnamespace "
                            "AND c.relkind = 'r' ORDER BY 1"):
        data.append((rel, rows(url, f"SELECT x::text FROM {rel} x ORDER BY 1")))
    return schema_dump(url), data


@pytest.fixture
def own_db(empty_db, workdir):
    execute(empty_db, SCHEMA)
    path = workdir / "mapping.toml"
    path.write_text(MAPPING)
    return empty_db, str(path)


def _legacy_writer(url: str, n: int, errors: list) -> None:
    """The legacy service: the old names, bounded, deleting what it wrote."""
    try:
        conn = psycopg2.connect(url)
        conn.autocommit = True
        cur = conn.cursor()
        for i in range(n):
            cur.execute('INSERT INTO app."Book" ("authorId") VALUES (%s) RETURNING id, "bookTitle"', (1 + i % 20,))
            bid, title = cur.fetchone()
            assert title == "Untitled"
            cur.execute('INSERT INTO app."Book" ("authorId", "bookTitle") VALUES (%s, NULL) RETURNING id, "bookTitle"',
                        (1 + i % 20,))
            bid2, title = cur.fetchone()
            assert title == "Untitled"
            cur.execute('DELETE FROM app."Book" WHERE id = %s', (bid2,))
            cur.execute('UPDATE app."Book" SET "bookTitle" = %s WHERE id = %s', (f"legacy {i}", bid))
            cur.execute('SELECT b."bookTitle", a."fullName" FROM app."Book" b '
                        'JOIN app."Author" a ON a.id = b."authorId" WHERE b.id = %s', (bid,))
            assert cur.fetchone()[0] == f"legacy {i}"
            cur.execute('DELETE FROM app."Book" WHERE id = %s', (bid,))
        conn.close()
    except Exception as exc:  # reported by the test
        errors.append(repr(exc))


def _new_writer(url: str, n: int, errors: list) -> None:
    try:
        conn = psycopg2.connect(url)
        conn.autocommit = True
        cur = conn.cursor()
        for i in range(n):
            cur.execute('INSERT INTO app.books ("authorId", title, isbn) VALUES (%s, %s, %s) RETURNING id',
                        (1 + i % 20, f"new {i}", f"isbn-{i}"))
            bid = cur.fetchone()[0]
            cur.execute("UPDATE app.books SET title = title || '!' WHERE id = %s", (bid,))
            cur.execute("DELETE FROM app.books WHERE id = %s", (bid,))
        conn.close()
    except Exception as exc:
        errors.append(repr(exc))


def test_own_schema_legacy_and_new_clients_write_concurrently_then_rollback_restores(own_db, workdir):
    url, mapping = own_db
    assert "127.0.0.1" in url or "localhost" in url
    before = own_state(url)
    r = runbook.migrate(url, mapping, **opts(workdir))
    assert r.status == "migrated" and r.verification.ok
    assert relkind(url, 'app."Book"') == "v" and relkind(url, "app.books") == "r"
    # the view exposes the legacy columns only: title under its old name, no isbn
    assert [c for (c,) in rows(url, "SELECT attname::text FROM pg_attribute WHERE attrelid = 'app.\"Book\"'::regclass "
                                    "AND attnum > 0 ORDER BY attnum")] == ["id", "authorId", "bookTitle", "createdAt"]
    errors: list = []
    threads = [threading.Thread(target=_legacy_writer, args=(url, 40, errors)) for _ in range(2)]
    threads += [threading.Thread(target=_new_writer, args=(url, 40, errors)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads) and errors == []
    # an upsert through the view (Prisma's upsert): ON CONFLICT on the table's key; a NULL it writes is filled
    execute(url, 'INSERT INTO app."Book" (id, "authorId", "bookTitle") VALUES (1, 1, NULL) '
                 'ON CONFLICT (id) DO UPDATE SET "bookTitle" = EXCLUDED."bookTitle"')
    assert scalar(url, "SELECT title FROM app.books WHERE id = 1") == "Untitled"
    execute(url, 'INSERT INTO app."Book" (id, "authorId", "bookTitle") VALUES (1, 2, %s) '
                 'ON CONFLICT (id) DO UPDATE SET "bookTitle" = EXCLUDED."bookTitle"', ("book 1",))
    assert scalar(url, "SELECT title FROM app.books WHERE id = 1") == "book 1"
    # identity default through the view; FK enforced through it
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        execute(url, 'INSERT INTO app."Book" ("authorId", "bookTitle") VALUES (9999, %s)', ("orphan",))
    assert runbook.verify(url, mapping, crud=False).ok
    # a row the legacy client wrote with a NULL title, kept: the rollback gives it its NULL back
    execute(url, 'INSERT INTO app."Book" ("authorId", "bookTitle") VALUES (5, NULL)')
    kept = scalar(url, "SELECT max(id) FROM app.books")
    assert scalar(url, "SELECT title FROM app.books WHERE id = %s", (kept,)) == "Untitled"
    # (quiesced=False: the kept row is one more than the baseline counted)
    rb = runbook.rollback(url, mapping, drop_added_columns=True, quiesced=False, **opts(workdir))
    assert rb.status == "rolled back" and rb.verification.ok
    assert scalar(url, 'SELECT "bookTitle" IS NULL FROM app."Book" WHERE id = %s', (kept,)) is True
    execute(url, 'DELETE FROM app."Book" WHERE id = %s', (kept,))
    assert own_state(url) == before


def test_a_filled_column_renamed_by_hand_keeps_its_trigger_as_it_is_and_legacy_nulls_come_back(own_db, workdir):
    """The column the fill names already has its new name: the window runs nothing for the
    fill (trigger and function kept), and a NULL a legacy client writes through the view
    is still filled and recorded, so the rollback gives it back."""
    url, mapping = own_db
    execute(url, 'ALTER TABLE app."Book" RENAME COLUMN "bookTitle" TO title')
    before = own_state(url)
    plan = runbook.plan(url, mapping)
    keep = [o for o in plan.ops if o.kind == "keep filling"]
    assert [o.mode for o in keep] == ["keep"] and keep[0].statements() == []
    r = runbook.migrate(url, mapping, **opts(workdir))
    assert r.status == "migrated" and r.verification.ok
    execute(url, 'INSERT INTO app."Book" ("authorId", "bookTitle") VALUES (3, NULL)')
    kept = scalar(url, "SELECT max(id) FROM app.books")
    assert scalar(url, "SELECT title FROM app.books WHERE id = %s", (kept,)) == "Untitled"
    assert scalar(url, "SELECT count(*) FROM runbook.filled f JOIN pg_attribute a ON a.attrelid = f.relid "
                       "AND a.attnum = f.attnum WHERE f.relid = 'app.books'::regclass AND a.attname = 'title' "
                       "AND f.pk = %s", (str(kept),)) == 1
    rb = runbook.rollback(url, mapping, drop_added_columns=True, quiesced=False, **opts(workdir))
    assert rb.status == "rolled back" and rb.verification.ok
    assert scalar(url, 'SELECT title IS NULL FROM app."Book" WHERE id = %s', (kept,)) is True
    execute(url, 'DELETE FROM app."Book" WHERE id = %s', (kept,))
    assert own_state(url) == before


def test_a_legacy_role_granted_the_tables_can_use_the_views_and_no_more(own_db, workdir):
    from urllib.parse import urlsplit, urlunsplit
    import uuid

    url, mapping = own_db
    role = f"legacy_{uuid.uuid4().hex[:8]}"
    execute(url, f'CREATE ROLE {role} LOGIN PASSWORD \'pw\'; GRANT USAGE ON SCHEMA app TO {role}; '
                 f'GRANT SELECT, INSERT ON app."Book" TO {role}; GRANT SELECT ON app."Author" TO {role}; '
                 f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA app TO {role}')
    p = urlsplit(url)
    as_role = urlunsplit(p._replace(netloc=f"{role}:pw@{p.hostname}:{p.port}"))
    try:
        assert runbook.migrate(url, mapping, **opts(workdir)).status == "migrated"
        conn = psycopg2.connect(as_role)
        conn.autocommit = True
        try:
            cur = conn.cursor()
            cur.execute('INSERT INTO app."Book" ("authorId") VALUES (2) RETURNING "bookTitle"')
            assert cur.fetchone() == ("Untitled",)
            cur.execute('SELECT count(*) FROM app."Author"')
            assert cur.fetchone() == (20,)
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):  # it had no UPDATE before either
                cur.execute('UPDATE app."Book" SET "bookTitle" = \'x\'')
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute('DELETE FROM app."Author"')
        finally:
            conn.close()
    finally:
        execute(url, f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_row_level_security_and_column_grants_hold_through_the_views_as_on_the_tables(own_db, workdir):
    """A legacy role sees through the views what it saw in the tables: the rows its policy
    lets through (the views are security_invoker; a view of its owner's rights would show
    the migrating role's, every row) and the columns it was granted (the column grants
    are repeated on the view, under the legacy names)."""
    from urllib.parse import urlsplit, urlunsplit
    import uuid

    url, mapping = own_db
    role = f"legacy_{uuid.uuid4().hex[:8]}"
    execute(url, f'CREATE ROLE {role} LOGIN PASSWORD \'pw\'; GRANT USAGE ON SCHEMA app TO {role}; '
                 f'GRANT SELECT ON app."Author" TO {role}; GRANT SELECT (id, "bookTitle") ON app."Book" TO {role}; '
                 'ALTER TABLE app."Author" ENABLE ROW LEVEL SECURITY; '
                 f'CREATE POLICY first_five ON app."Author" FOR SELECT TO {role} USING (id <= 5)')
    p = urlsplit(url)
    as_role = urlunsplit(p._replace(netloc=f"{role}:pw@{p.hostname}:{p.port}"))

    def what_the_role_sees():
        conn = psycopg2.connect(as_role)
        conn.autocommit = True
        try:
            cur = conn.cursor()
            cur.execute('SELECT count(*), max("fullName") FROM app."Author"')
            authors = cur.fetchone()
            cur.execute('SELECT count(*), sum(id) FROM app."Book" WHERE "bookTitle" LIKE %s', ("book 1%",))
            books = cur.fetchone()
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):  # not granted that column
                cur.execute('SELECT "authorId" FROM app."Book"')
            return authors, books
        finally:
            conn.close()

    try:
        before = what_the_role_sees()
        assert before[0][0] == 5
        assert runbook.migrate(url, mapping, **opts(workdir)).status == "migrated"
        assert relkind(url, 'app."Author"') == "v" and relkind(url, 'app."Book"') == "v"
        assert what_the_role_sees() == before
        options = "SELECT coalesce(reloptions::text, '') FROM pg_class WHERE oid = to_regclass(%s)"
        assert scalar(url, options, ('app."Author"',)) == "{security_invoker=true}"
        assert scalar(url, options, ('app."Book"',)) == ""  # no row-level security: the owner's rights
    finally:
        execute(url, f"DROP OWNED BY {role}; DROP ROLE {role}")  # (and the role from the policy)


@pytest.mark.parametrize("where", ["fail at the first lock step", "kill after the last staged view"])
def test_a_run_that_dies_after_staging_its_views_leaves_none_behind(own_db, workdir, monkeypatch, where):
    """The views are made before the lock window, under staged names: a run that fails in
    the window, or is killed before it, leaves the database as it was (no staged view),
    and the next run makes them again."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from runbook.errors import MigrationFailed
    from runbook.ops import PREPARE

    url, mapping = own_db
    ops = runbook.plan(url, mapping).ops
    n_prep = len([o for o in ops if o.phase == PREPARE])
    assert ops[n_prep - 1].kind == "stage compat view"
    before = own_state(url)
    if where.startswith("fail"):
        monkeypatch.setenv("RUNBOOK_FAULT", f"fail:{n_prep + 1}")
        with pytest.raises(MigrationFailed):
            runbook.migrate(url, mapping, **opts(workdir))
        monkeypatch.delenv("RUNBOOK_FAULT")
    else:
        exe = Path(sys.executable).with_name("runbook")
        r = subprocess.run([str(exe), "migrate", "--database-url", url, "--mapping", mapping, "--no-progress",
                            "--backup-dir", str(workdir / "backups"), "--log-dir", str(workdir / "logs")],
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "RUNBOOK_FAULT": f"kill:{n_prep}"})
        assert r.returncode == -9, r.stderr[-2000:]
        staged = scalar(url, "SELECT count(*) FROM pg_class WHERE relname LIKE 'runbook_staged_%%' AND relkind = 'v'")
        assert staged == 2  # the killed run had made them; the next run's recovery drops them
        assert runbook.rollback(url, mapping, **opts(workdir)).status == "rolled back"
    assert own_state(url) == before
    assert runbook.migrate(url, mapping, **opts(workdir)).status == "migrated"
    assert relkind(url, 'app."Book"') == "v"


def test_sqlalchemy_core_table_of_the_legacy_schema_works_through_the_view(own_db, workdir):
    import sqlalchemy as sa
    url, mapping = own_db
    assert runbook.migrate(url, mapping, **opts(workdir)).status == "migrated"
    md = sa.MetaData(schema="app")
    book = sa.Table("Book", md, sa.Column("id", sa.BigInteger, primary_key=True),
                    sa.Column("authorId", sa.Integer), sa.Column("bookTitle", sa.Text),
                    sa.Column("createdAt", sa.DateTime(timezone=True)))
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        with engine.begin() as c:
            bid, title = c.execute(sa.insert(book).values(authorId=3).returning(book.c.id, book.c.bookTitle)).one()
            assert title == "Untitled"
            c.execute(sa.update(book).where(book.c.id == bid).values(bookTitle="via sqlalchemy"))
            assert c.execute(sa.select(book.c.bookTitle).where(book.c.id == bid)).scalar_one() == "via sqlalchemy"
            assert c.execute(sa.text("SELECT title FROM app.books WHERE id = :i"), {"i": bid}).scalar_one() == \
                "via sqlalchemy"
            assert c.execute(sa.delete(book).where(book.c.id == bid)).rowcount == 1
    finally:
        engine.dispose()


# -- contract ----------------------------------------------------------------------------

def test_contract_refuses_unmeasured_use_drops_with_force_undo_and_rollback_after(own_db, workdir, capsys):
    url, mapping = own_db
    before = own_state(url)
    assert runbook.migrate(url, mapping, **opts(workdir)).status == "migrated"
    with_views = own_state(url)
    base = ["contract", "--database-url", url, "--mapping", mapping]
    # bad input: one line, exit 2, before connecting
    code, _, err = run_cli(capsys, "contract", "--database-url", "postgresql://127.0.0.1:1/x", "--quiet-for", "soon")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "quiet-for" in err
    # use cannot be measured here (no pg_stat_statements): refused, nothing changed
    code, out, err = run_cli(capsys, *base)
    assert code == 2 and "cannot be measured" in out and "refused" in err
    assert own_state(url) == with_views
    code, out, _ = run_cli(capsys, *base, "--dry-run", "--force")
    assert code == 0 and 'drop compat view app.Book' in out and out.strip().splitlines()[-1].startswith("dry run:")
    assert own_state(url) == with_views
    code, out, _ = run_cli(capsys, *base, "--force")
    assert code == 0 and out.strip().splitlines()[-1].startswith("contracted:")
    assert relkind(url, 'app."Book"') is None and relkind(url, 'app."Author"') is None
    assert scalar(url, "SELECT count(*) FROM runbook.runs WHERE status = 'contracted'") == 1
    assert runbook.verify(url, mapping, crud=False).ok  # the migration, less its views
    code, _, err = run_cli(capsys, *base, "--force")
    assert code == 2 and "already dropped" in err
    # --undo: the views as they were, and they work again
    code, out, _ = run_cli(capsys, *base, "--undo")
    assert code == 0 and out.strip().splitlines()[-1].startswith("restored:")
    assert own_state(url) == with_views
    execute(url, 'INSERT INTO app."Book" ("authorId") VALUES (1)')
    execute(url, "DELETE FROM app.books WHERE title = 'Untitled' AND id > 200")
    # contract again, then the migration's rollback still works
    assert run_cli(capsys, *base, "--force")[0] == 0
    rb = runbook.rollback(url, mapping, drop_added_columns=True, **opts(workdir))
    assert rb.status == "rolled back" and rb.verification.ok
    assert own_state(url) == before


def test_compat_schema_puts_the_views_elsewhere_and_a_missing_one_is_refused_at_plan_time(own_db, workdir):
    from runbook.errors import ConflictError

    url, mapping = own_db
    before = own_state(url)
    elsewhere = workdir / "elsewhere.toml"
    elsewhere.write_text(MAPPING.replace('compat_views = true', 'compat_views = true\ncompat_schema = "legacy"'))
    # a blocker of the plan (exit 2, before any backup or step), not a failure in the window
    an = runbook.analyze(url, str(elsewhere))
    assert [b.code for b in an.plan.blockers] == ["RB114"] and "'legacy' does not exist" in an.plan.blockers[0].reason
    with pytest.raises(ConflictError, match="'legacy' does not exist") as exc:
        runbook.migrate(url, str(elsewhere), **opts(workdir))
    assert exc.value.exit_code == 2
    assert own_state(url) == before
    execute(url, "CREATE SCHEMA legacy")
    before = own_state(url)
    assert runbook.migrate(url, str(elsewhere), **opts(workdir)).status == "migrated"
    assert relkind(url, 'legacy."Book"') == "v" and relkind(url, 'app."Book"') is None
    conn = psycopg2.connect(url, options="-c search_path=legacy")  # the legacy service, pointed at the views
    conn.autocommit = True
    try:
        cur = conn.cursor()
        cur.execute('INSERT INTO "Book" ("authorId") VALUES (1) RETURNING "bookTitle"')
        assert cur.fetchone() == ("Untitled",)
        cur.execute('DELETE FROM "Book" WHERE "bookTitle" = %s AND id > 200', ("Untitled",))
        assert cur.rowcount == 1
    finally:
        conn.close()
    assert runbook.rollback(url, str(elsewhere), drop_added_columns=True, **opts(workdir)).status == "rolled back"
    assert own_state(url) == before


def test_contract_audits_on_the_reference_database(ref_db, workdir, capsys):
    code, out, _ = run_cli(capsys, "migrate", "--database-url", ref_db, "--compat-views", "--no-backup",
                           "--no-progress", "--log-dir", str(workdir / "logs"))
    assert code == 0 and out.strip().splitlines()[-1].startswith("migrated:")
    code, out, _ = run_cli(capsys, "contract", "--database-url", ref_db, "--force", "--json")
    assert code == 0
    assert audit_events(ref_db)[-1] == "contract"
    assert relkind(ref_db, 'public."User"') is None


def test_contract_without_views_is_refused(ref_db, workdir, capsys):
    assert runbook.migrate(ref_db, **opts(workdir)).status == "migrated"
    code, _, err = run_cli(capsys, "contract", "--database-url", ref_db, "--force")
    assert code == 2 and "made no compat views" in err


def test_the_set_form_of_the_view_check_says_what_each_view_check_says(empty_db):
    from runbook.execute.lock_window import first_failing
    from runbook.ops import CreateCompatView, set_check_key

    execute(empty_db, """
        CREATE SCHEMA s;
        CREATE TABLE s.t (id int, "Name" text); CREATE TABLE s.u (id int, "Name" text);
        CREATE VIEW s."Good" (id, "oldName") AS SELECT id, "Name" FROM s.t;
        CREATE VIEW s."Swapped" ("oldName", id) AS SELECT "Name", id FROM s.t;
        CREATE VIEW s."Other" (id, "oldName") AS SELECT id, "Name" FROM s.u;
        CREATE TABLE s."Table" (id int, "oldName" text);
    """)

    def view(name, table="t"):
        return CreateCompatView("s", "s", name, table, ("id", "Name"), ("id", "oldName"), ("", ""))

    ops = [view("Good"), view("Swapped"), view("Other"), view("Table"), view("Missing"), view("Good", "u")]
    assert all(set_check_key(op) == "compat view" for op in ops)
    own = [scalar(empty_db, f"SELECT coalesce(({op.check()}), false)") for op in ops]
    as_set = [scalar(empty_db, f"SELECT {first_failing([(1, op)])}") == 0 for op in ops]
    assert own == as_set == [True, False, False, False, False, False]
    assert scalar(empty_db, f"SELECT {first_failing(list(enumerate(ops, 1)))}") == 2


@pytest.fixture(scope="module")
def pgss_server(tmp_path_factory):
    """A server of its own with pg_stat_statements loaded (the session's has not), stopped after."""
    import shutil
    import tempfile
    from pathlib import Path

    from runbook.demo.server import LocalServer

    base = Path(tempfile.mkdtemp(prefix="runbook-test-pgss-"))
    srv = LocalServer.create(base)
    with open(srv.data_dir / "postgresql.conf", "a") as f:
        f.write("\nshared_preload_libraries = 'pg_stat_statements'\n")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_contract_measures_use_with_pg_stat_statements_and_waits_for_quiet(pgss_server, workdir, capsys):
    import time

    execute(pgss_server.url("postgres"), "CREATE DATABASE pgss")
    url = pgss_server.url("pgss")
    execute(url, "CREATE EXTENSION pg_stat_statements")
    execute(url, SCHEMA)
    (workdir / "mapping.toml").write_text(MAPPING)
    mapping = str(workdir / "mapping.toml")
    assert runbook.migrate(url, mapping, **opts(workdir)).status == "migrated"
    base = ["contract", "--database-url", url, "--mapping", mapping, "--quiet-for", "1ms"]
    # the first reading: nothing old enough to show the views quiet; kept
    code, out, err = run_cli(capsys, *base)
    assert code == 2 and "no reading old enough" in out and "refused" in err
    # the legacy client reads through a view: that view is not quiet, the other one is
    for _ in range(3):
        scalar(url, 'SELECT count(*) FROM app."Book"')
    time.sleep(0.05)
    code, out, err = run_cli(capsys, *base, "--json")
    import json
    use = {u["view"]: u for u in json.loads(out)["use"]}
    assert code == 2 and use["app.Book"]["quiet"] is False and use["app.Author"]["quiet"] is True
    assert "used 3 times" in use["app.Book"]["detail"]
    assert relkind(url, 'app."Book"') == "v"
    # no use since that reading: quiet, dropped without --force
    time.sleep(0.05)
    code, out, _ = run_cli(capsys, *base)
    assert code == 0 and out.strip().splitlines()[-1].startswith("contracted:")
    assert relkind(url, 'app."Book"') is None


def test_the_scripts_with_views_by_hand_do_what_the_runner_does(pg, own_db, workdir):
    """sql_body's final check reads a table renamed under its view as renamed (end_checks):
    the script with views runs in psql and reaches the runner's end state, and back."""
    from runbook.mapping import load_mapping
    from test_sql_files import psql_file

    url, mapping = own_db
    original = own_state(url)
    fwd, back = runbook.plan(url, load_mapping(mapping)).write_scripts(workdir / "sql", drop_added=True)
    from runbook.ops import staged_name

    assert f'ALTER VIEW app.{staged_name("app", "Book")} RENAME TO "Book"' in fwd.read_text()
    psql_file(url, fwd)
    name = pg.create_db()
    other = pg.url(name)
    try:
        execute(other, SCHEMA)
        assert runbook.migrate(other, mapping, **opts(workdir)).status == "migrated"
        assert schema_dump(url) == schema_dump(other)
        books = 'SELECT id, "authorId", title, isbn FROM app.books ORDER BY id'  # (createdAt: each seed's now())
        assert rows(url, books) == rows(other, books)
    finally:
        pg.drop_db(name)
    psql_file(url, back)
    assert own_state(url) == original


@pytest.mark.parametrize("name", ["forum", "commerce", "ledger", "scheduling"])
def test_every_model_of_a_corpus_schema_round_trips_through_the_views_with_its_legacy_client(pg, workdir, name):
    """A corpus schema (tests/data/corpus/): its own Prisma schema, the legacy service's,
    creates, reads, updates and deletes a row of every model through the views, by
    exactly the columns it knows (runbook's own CRUD check, pointed at the old names)."""
    import subprocess
    import sys
    from pathlib import Path

    import corpus
    from runbook.compat.service import crud_check
    from runbook.mapping import load_mapping
    from runbook.prisma import load

    db = pg.create_db()
    url = pg.url(db)
    try:
        corpus.build(url, name)
        mapping = workdir / "mapping.toml"
        subprocess.run([str(Path(sys.executable).with_name("runbook")), "mapping", "init", "--database-url", url,
                        "--prisma-schema", str(corpus.folder(name) / "schema.prisma"), "--out", str(mapping)],
                       check=True, capture_output=True, text=True)
        before = schema_dump(url)
        r = runbook.migrate(url, str(mapping), compat_views=True, **opts(workdir))
        assert r.status == "migrated" and r.verification.ok
        legacy = load(corpus.folder(name) / "schema.prisma")
        conn = psycopg2.connect(url)
        try:
            res = crud_check(conn, legacy, db_schema=load_mapping(mapping).schema,
                             written=[m.name for m in legacy.models if not m.is_ignored])
            assert res.ok, res.detail
        finally:
            conn.rollback()
            conn.close()
        assert runbook.rollback(url, str(mapping), drop_added_columns=True, **opts(workdir)).status == "rolled back"
        assert schema_dump(url) == before
    finally:
        pg.drop_db(db)


def test_a_contract_that_fails_is_rolled_back_exit_1(own_db, workdir, capsys):
    """A view someone built on a compat view stops its DROP (RESTRICT): the contract's one
    transaction is rolled back, every view is still there, the run is recorded failed."""
    url, mapping = own_db
    assert runbook.migrate(url, mapping, **opts(workdir)).status == "migrated"
    execute(url, 'CREATE VIEW app.report AS SELECT count(*) FROM app."Book"')
    with_views = own_state(url)
    code, _, err = run_cli(capsys, "contract", "--database-url", url, "--mapping", mapping, "--force")
    assert code == 1 and "cannot drop view" in err and len(err.strip().splitlines()) == 1
    assert own_state(url) == with_views and relkind(url, 'app."Author"') == "v"
    assert scalar(url, "SELECT status FROM runbook.runs WHERE summary->>'migration' IS NOT NULL") == "failed"


# -- the real Prisma client of the legacy service ------------------------------------------

def test_the_legacy_services_own_prisma_client_works_through_the_views(ref_db, workdir, capsys, monkeypatch):
    """The legacy service's schema as Prisma's `db pull` writes it before the migration
    (models User, AssistantChatSession, no @@map), its client generated by the real Prisma
    CLI: after `migrate --compat-views` it still creates, reads (with its relation),
    updates and deletes, unchanged; once `contract` has dropped the views it fails."""
    import json
    import subprocess

    import test_prisma_history
    from test_prisma_history import _toolkit, client_crud

    # as the legacy service writes a session: "updatedAt" has no default in the legacy
    # schema (db pull knows no @updatedAt), so the client sends it; the legacy model has
    # no isActive (a column the migration adds, which the views do not show)
    crud = (test_prisma_history._CRUD_JS
            .replace('sessionName: "from the legacy client" }', 'sessionName: "from the legacy client", updatedAt: new Date() }')
            .replace("made.isActive === true", 'made.sessionName === "from the legacy client"'))
    assert "updatedAt: new Date()" in crud and "isActive" not in crud
    monkeypatch.setattr(test_prisma_history, "_CRUD_JS", crud)

    tk = _toolkit()
    pulled = subprocess.run([str(tk / "pull.sh"), ref_db], capture_output=True, text=True)
    assert pulled.returncode == 0, pulled.stderr
    assert "model AssistantChatSession {" in pulled.stdout and "@@map(" not in pulled.stdout
    legacy = workdir / "legacy.prisma"
    legacy.write_text(pulled.stdout)
    code, out, err = run_cli(capsys, "migrate", "--database-url", ref_db, "--compat-views", "--no-backup",
                             "--log-dir", str(workdir / "logs"))
    assert code == 0, err + out[-2000:]
    p = client_crud(tk, ref_db, legacy, workdir / "through-views")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"created": True, "read": True, "updated": True, "deleted": True}
    # beside the views, the AI Assistant's own client (the toolkit's, generated from the
    # spec's target schema) works on the renamed tables
    target = subprocess.run([str(tk / "crud.sh"), ref_db], capture_output=True, text=True, timeout=300)
    assert target.returncode == 0, target.stdout + target.stderr
    assert relkind(ref_db, 'public."AssistantChatSession"') == "v"
    # the same client without the views: the tables it names are gone
    code, out, err = run_cli(capsys, "contract", "--database-url", ref_db, "--force")
    assert code == 0, err + out[-2000:]
    assert client_crud(tk, ref_db, legacy, workdir / "after-contract").returncode == 1
