"""Any Prisma-managed database, not only the AI Assistant's (issue 9, items 1, 3, 4).

The notes service (tests/data/notes) is not ours: Prisma's default referential actions
(ON DELETE RESTRICT, no cascade), a schema ``analytics`` that sorts before ``public``
with tables named like the old *and* the new ones, and a service described only by its
mapping's ``[service]`` section. Migrate, verify and check-schema must all work on it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg2
import pytest

from runbook.cli import main
from snapshots import checksums, schema_dump

NOTES = Path(__file__).parent / "data" / "notes"


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def notes_db(empty_db):
    conn = psycopg2.connect(empty_db)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute((NOTES / "schema.sql").read_text())
    conn.close()
    return empty_db


@pytest.fixture
def notes_mapping(tmp_path):
    for f in ("mapping.toml", "target.prisma"):
        shutil.copy(NOTES / f, tmp_path / f)
    return str(tmp_path / "mapping.toml")


def _q(url, sql):
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def test_a_schema_that_sorts_before_public_does_not_fail_the_migration(notes_db, notes_mapping, tmp_path, capsys):
    """Before: verification took the schema of the first table in the snapshot
    (``analytics``), found ``analytics.authors`` "still there" and rolled back."""
    analytics_before = _q(notes_db, "SELECT * FROM analytics.\"Author\" UNION ALL SELECT id, hits FROM analytics.notes")
    code, out, err = run(capsys, "migrate", "--database-url", notes_db, "--mapping", notes_mapping,
                         "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"), "--no-progress")
    assert code == 0, err + out
    assert "migrated" in out
    tables = {r[0] for r in _q(notes_db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"authors", "notes", "note_tags"} <= tables and not {"Author", "Note", "NoteTag"} & tables
    # the tables of the same names in analytics are untouched
    an = {r[0] for r in _q(notes_db, "SELECT tablename FROM pg_tables WHERE schemaname = 'analytics'")}
    assert an == {"Author", "notes", "authors"}
    assert _q(notes_db, "SELECT * FROM analytics.\"Author\" UNION ALL SELECT id, hits FROM analytics.notes") == analytics_before
    code, out, err = run(capsys, "verify", "--database-url", notes_db, "--mapping", notes_mapping)
    assert code == 0, err + out


def test_the_crud_check_needs_no_cascade_and_uses_the_mappings_service(notes_db, notes_mapping, tmp_path):
    """Before: the CRUD check was the AI Assistant's (it ran only for its tables) and
    deleted a parent that still had children, which fails under ON DELETE RESTRICT."""
    import runbook

    runbook.migrate(notes_db, notes_mapping, backup_dir=str(tmp_path / "b"), log_dir=str(tmp_path / "l"),
                    progress=False)
    v = runbook.verify(notes_db, notes_mapping)
    crud = [c for c in v.checks if c.name.startswith("notes: create/read/update/delete")]
    assert v.ok, v.failed
    assert len(crud) == 1 and crud[0].ok, crud
    assert "3 model(s) created, read, updated and deleted" in crud[0].detail
    # the check left no row behind
    assert _q(notes_db, "SELECT (SELECT count(*) FROM authors), (SELECT count(*) FROM notes), "
                        "(SELECT count(*) FROM note_tags)") == [(2, 3, 3)]
    # every foreign key kept its RESTRICT action
    rules = _q(notes_db, "SELECT conname, confdeltype FROM pg_constraint WHERE contype = 'f' "
                         "AND connamespace = 'public'::regnamespace ORDER BY 1")
    assert [r[1] for r in rules] == ["r", "r"]


def test_the_crud_check_fails_when_the_service_cannot_insert(notes_db, notes_mapping, tmp_path):
    """A NOT NULL column the target models do not know: the service's inserts fail, and
    so must the check (it is not only a happy-path)."""
    import runbook
    from runbook.connection import connect
    from runbook.mapping import load_mapping
    from runbook.compat.service import crud_check

    runbook.migrate(notes_db, notes_mapping, backup_dir=str(tmp_path / "b"), log_dir=str(tmp_path / "l"),
                    progress=False)
    _q_exec(notes_db, "ALTER TABLE note_tags ADD COLUMN weight int NOT NULL DEFAULT 1; "
                      "ALTER TABLE note_tags ALTER COLUMN weight DROP DEFAULT")
    svc = load_mapping(notes_mapping).service
    conn = connect(notes_db)
    try:
        r = crud_check(conn, svc.load_schema(), db_schema="public", written=svc.written_models(svc.load_schema()))
    finally:
        conn.rollback()
        conn.close()
    assert r.ok is False
    bad = [x for x in r.results if x.verdict == "failed"]
    assert [x.model for x in bad] == ["NoteTag"] and "NOT NULL" in bad[0].detail


def _q_exec(url, sql):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def test_check_schema_with_a_target_schema_needs_no_writes_option(notes_db, notes_mapping, tmp_path, capsys):
    """Before: ``check-schema --target-schema X`` exited 2 unless --writes named the AI
    Assistant's models."""
    import runbook

    runbook.migrate(notes_db, notes_mapping, backup_dir=str(tmp_path / "b"), log_dir=str(tmp_path / "l"),
                    progress=False)
    code, out, err = run(capsys, "check-schema", "--database-url", notes_db,
                         "--target-schema", str(NOTES / "target.prisma"))
    assert code == 0, err + out
    assert "models the service writes: Author, Note, NoteTag" in out
    # and from the mapping's [service], without --target-schema
    code, out, err = run(capsys, "check-schema", "--database-url", notes_db, "--mapping", notes_mapping)
    assert code == 0, err + out


def test_a_mapping_without_a_service_skips_the_service_checks_and_says_so(notes_db, tmp_path, capsys):
    m = tmp_path / "m.toml"
    m.write_text((NOTES / "mapping.toml").read_text().split("[service]")[0]
                 + "\n".join(l for l in (NOTES / "mapping.toml").read_text().split("[service]")[1].splitlines()
                             if not l.startswith(("name", "target_schema"))))
    code, out, err = run(capsys, "migrate", "--database-url", notes_db, "--mapping", str(m),
                         "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"), "--no-progress")
    assert code == 0, err + out
    code, out, err = run(capsys, "verify", "--database-url", notes_db, "--mapping", str(m))
    assert code == 0, err + out
    assert out.count("service checks skipped") == 1


def test_rollback_of_the_notes_database_is_exact(notes_db, notes_mapping, tmp_path, capsys):
    before_schema, before_rows = schema_dump(notes_db), checksums(notes_db, exclude=())
    code, out, err = run(capsys, "migrate", "--database-url", notes_db, "--mapping", notes_mapping,
                         "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"), "--no-progress")
    assert code == 0, err + out
    code, out, err = run(capsys, "rollback", "--database-url", notes_db, "--mapping", notes_mapping,
                         "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"), "--no-progress")
    assert code == 0, err + out
    assert schema_dump(notes_db) == before_schema
    assert checksums(notes_db, exclude=()) == before_rows


def test_a_role_whose_search_path_puts_analytics_first_changes_nothing_there(notes_db, notes_mapping, tmp_path, capsys):
    """Every statement names the mapping's schema: with ``search_path = analytics,
    public`` for the migrating role, ``analytics.notes`` and ``analytics.authors`` (the
    target names) and ``analytics."Author"`` (an old name) are left alone."""
    _q_exec(notes_db, "ALTER DATABASE " + notes_db.rsplit("/", 1)[1].split("?")[0] +
            " SET search_path = analytics, public")
    before = schema_dump(notes_db)
    code, out, err = run(capsys, "migrate", "--database-url", notes_db, "--mapping", notes_mapping,
                         "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"), "--no-progress")
    assert code == 0, err + out
    code, out, err = run(capsys, "verify", "--database-url", notes_db, "--mapping", notes_mapping)
    assert code == 0, err + out
    an = [l for l in schema_dump(notes_db).splitlines() if "analytics." in l]
    assert an == [l for l in before.splitlines() if "analytics." in l]


def test_merge_legacy_reads_what_to_merge_from_the_mapping(notes_db, notes_mapping, capsys):
    """The notes mapping has no [merge]: one line, exit 2, before connecting (the URL is
    not even read). Before, merge-legacy knew the AI Assistant's four tables itself."""
    code, out, err = run(capsys, "merge-legacy", "--database-url", "postgresql://nobody@127.0.0.1:1/x",
                         "--mapping", notes_mapping)
    assert code == 2
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and "has no [merge] section" in lines[0] and "Traceback" not in err
    from runbook.merge import tables_of

    assert tables_of(None).all == ("chat_sessions_temp", "chat_messages_temp", "chat_sessions", "chat_messages")


def test_a_column_renamed_in_one_table_is_not_expected_renamed_in_another(notes_db, tmp_path, capsys):
    """``Note."authorId"`` becomes ``author_id``; the table ``comments`` (not in the
    mapping) keeps its own ``"authorId"``, and its foreign key into ``"Author"`` must be
    expected unchanged. Before, verification used one column map for every table, expected
    ``FOREIGN KEY (author_id)`` on ``comments`` and rolled the migration back."""
    _q_exec(notes_db, 'CREATE TABLE comments (id text PRIMARY KEY, "authorId" text NOT NULL '
                      'REFERENCES "Author"(id), "noteId" text REFERENCES "Note"(id)); '
                      "INSERT INTO comments VALUES ('c1', 'a2', 'n1')")
    text = (NOTES / "mapping.toml").read_text().replace(
        'from = "Note"\nto = "notes"\n',
        'from = "Note"\nto = "notes"\nrename_columns = [ { from = "authorId", to = "author_id" } ]\n')
    assert "author_id" in text
    m = tmp_path / "m.toml"
    m.write_text("\n".join(l for l in text.splitlines() if not l.startswith(("name =", "target_schema ="))))
    code, out, err = run(capsys, "migrate", "--database-url", notes_db, "--mapping", str(m),
                         "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"), "--no-progress")
    assert code == 0, err + out
    fks = dict(_q(notes_db, "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
                            "WHERE contype = 'f' AND conname LIKE 'comments%authorId%'"))
    assert fks == {"comments": 'FOREIGN KEY ("authorId") REFERENCES authors(id)'}
    code, out, err = run(capsys, "verify", "--database-url", notes_db, "--mapping", str(m))
    assert code == 0, err + out
