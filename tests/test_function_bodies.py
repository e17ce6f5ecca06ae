"""Function bodies are read by PostgreSQL's own parser (runbook/sqlbody.py): comments and
string literals are not references, a column belongs to the table it resolves to, a
renamed table is written schema-qualified, another schema's table of the same name is
left alone, and dynamic SQL that could name a renamed table is a named blocker."""

from __future__ import annotations

import psycopg2
import pytest

import runbook
from runbook.errors import UnsafeFunction, VerificationFailed
from snapshots import execute, rows, scalar, state

SCHEMA = r'''
CREATE SCHEMA legacy;
CREATE SCHEMA other;
CREATE TABLE "User" (id text PRIMARY KEY, email text NOT NULL);
CREATE TABLE "Session" (id text PRIMARY KEY, "userId" text REFERENCES "User"(id), "lastActiveAt" timestamp(3));
CREATE TABLE "DeviceSession" (id text PRIMARY KEY, "userId" text, "lastActiveAt" timestamp(3));
CREATE TABLE legacy."User" (id text, email text);  -- no constraint: verify matches constraint names across schemas
CREATE TABLE other.users (id text PRIMARY KEY, email text);
INSERT INTO "User" VALUES ('u1', 'a@x.io');
INSERT INTO "Session" VALUES ('s1', 'u1', '2024-01-01 10:00');
INSERT INTO "DeviceSession" VALUES ('d1', 'u1', '2023-05-05 05:05');
INSERT INTO legacy."User" VALUES ('u1', 'legacy@x.io');
INSERT INTO other.users VALUES ('u1', 'other@x.io');
'''

MAPPING = '''
schema = "public"
audit_table = false

[[tables]]
from = "User"
to = "users"

[[tables]]
from = "Session"
to = "sessions"
rename_columns = [{ from = "lastActiveAt", to = "lastSeenAt" }]
'''


@pytest.fixture
def db(empty_db, tmp_path):
    execute(empty_db, SCHEMA)
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING)
    return empty_db, str(path)


def migrate(url, mapping, tmp_path):
    r = runbook.migrate(url, mapping, backup_dir=str(tmp_path / "b"), log_dir=str(tmp_path / "l"), progress=False)
    assert r.status == "migrated", r.status
    assert r.verification.ok, [c for c in r.verification.checks if not c.ok]
    v = runbook.verify(url, mapping, crud=False)  # no [service] in this mapping
    assert v.ok, [c for c in v.checks if not c.ok]
    return r


def prosrc(url, name):
    return scalar(url, "SELECT prosrc FROM pg_proc WHERE proname = %s", (name,))


def test_a_comment_naming_an_old_table_is_not_a_reference(db, tmp_path):
    url, mapping = db
    execute(url, '''CREATE FUNCTION check_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- reads "User" to check the owner
    /* "Session" rows only */
    PERFORM 1 FROM "User" WHERE id = NEW."userId";
    RETURN NEW;
END $$;
CREATE TRIGGER session_owner BEFORE INSERT ON "Session" FOR EACH ROW EXECUTE FUNCTION check_owner();
-- a SQL-standard body is stored parsed: it follows the rename by OID, and is not flagged
CREATE FUNCTION user_count() RETURNS bigint LANGUAGE sql STABLE BEGIN ATOMIC SELECT count(*) FROM "User"; END;''')
    r = migrate(url, mapping, tmp_path)
    assert not [o for o in r.plan.ops if o.kind == "replace function" and "user_count" in o.signature]
    assert scalar(url, "SELECT user_count()") == 1
    src = prosrc(url, "check_owner")
    assert '-- reads "User" to check the owner' in src and '/* "Session" rows only */' in src
    assert 'PERFORM 1 FROM public.users WHERE id = NEW."userId";' in src
    execute(url, "INSERT INTO sessions (id, \"userId\") VALUES ('s2', 'u1')")


def test_a_renamed_column_of_another_table_is_left_alone(db, tmp_path):
    url, mapping = db
    execute(url, '''CREATE FUNCTION device_seen(uid text) RETURNS timestamp(3) LANGUAGE sql STABLE AS $$
    SELECT d."lastActiveAt" FROM "User" u JOIN "DeviceSession" d ON d."userId" = u.id WHERE u.id = uid
$$;
CREATE FUNCTION session_seen(uid text) RETURNS timestamp(3) LANGUAGE sql STABLE AS $$
    SELECT s."lastActiveAt" FROM "Session" s JOIN "DeviceSession" d ON d.id = s.id OR true WHERE s."userId" = uid
$$;''')
    migrate(url, mapping, tmp_path)
    assert str(scalar(url, "SELECT device_seen('u1')")) == "2023-05-05 05:05:00"
    assert str(scalar(url, "SELECT session_seen('u1')")) == "2024-01-01 10:00:00"
    assert 'd."lastActiveAt"' in prosrc(url, "device_seen")
    assert 's."lastSeenAt" FROM public.sessions s' in prosrc(url, "session_seen")


def test_a_rewritten_table_is_schema_qualified_whatever_the_callers_search_path(db, tmp_path):
    url, mapping = db
    execute(url, '''CREATE FUNCTION public.mark_email(uid text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE "User" SET email = email || '!' WHERE id = uid;
END $$;''')
    migrate(url, mapping, tmp_path)
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET search_path = other, public")
            cur.execute("SELECT public.mark_email('u1')")
    finally:
        conn.close()
    assert scalar(url, "SELECT email FROM public.users WHERE id = 'u1'") == "a@x.io!"
    assert scalar(url, "SELECT email FROM other.users WHERE id = 'u1'") == "other@x.io"


def test_a_table_of_the_same_name_in_another_schema_is_untouched(db, tmp_path):
    url, mapping = db
    body = ' SELECT email FROM legacy."User" WHERE id = uid '
    execute(url, f'''CREATE FUNCTION legacy_email(uid text) RETURNS text LANGUAGE sql STABLE AS $${body}$$;
CREATE FUNCTION both_emails(uid text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT l.email || ' ' || u.email FROM legacy."User" l JOIN "User" u USING (id) WHERE l.id = uid
$$;''')
    r = migrate(url, mapping, tmp_path)
    assert prosrc(url, "legacy_email") == body
    assert scalar(url, "SELECT legacy_email('u1')") == "legacy@x.io"
    assert scalar(url, "SELECT both_emails('u1')") == "legacy@x.io a@x.io"
    assert 'FROM legacy."User" l JOIN public.users u' in prosrc(url, "both_emails")
    assert not [o for o in r.plan.ops if o.kind == "replace function" and "legacy_email" in o.signature]


def test_a_raise_message_naming_an_old_table_is_not_dynamic_sql(db, tmp_path):
    url, mapping = db
    execute(url, '''CREATE FUNCTION require_user(uid text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM "User" WHERE id = uid) THEN
        RAISE EXCEPTION 'User % not found', uid;
    END IF;
END $$;''')
    migrate(url, mapping, tmp_path)
    execute(url, "SELECT require_user('u1')")
    with pytest.raises(psycopg2.errors.RaiseException, match="User nope not found"):
        execute(url, "SELECT require_user('nope')")


def test_execute_of_a_built_string_naming_an_old_table_is_a_named_blocker(db, tmp_path):
    url, mapping = db
    execute(url, '''CREATE FUNCTION count_rows() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %I', 'User') INTO n;
    RETURN n;
END $$;''')
    before = state(url)
    with pytest.raises(UnsafeFunction, match=r"count_rows\(\).*EXECUTE"):
        runbook.migrate(url, mapping, backup_dir=str(tmp_path / "b"), log_dir=str(tmp_path / "l"), progress=False)
    assert state(url) == before
    p = runbook.plan(url, mapping)
    b = [x for x in p.blockers if x.kind == "unsafe function"]
    assert [x.object for x in b] == ["public.count_rows()"] and "EXECUTE" in b[0].reason


def test_new_renamed_column_of_a_trigger_function_is_rewritten(db, tmp_path):
    url, mapping = db
    execute(url, '''CREATE FUNCTION stamp_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW."lastActiveAt" IS NULL THEN
        NEW."lastActiveAt" := '2025-02-02 02:02';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER session_stamp BEFORE INSERT ON "Session" FOR EACH ROW EXECUTE FUNCTION stamp_session();''')
    migrate(url, mapping, tmp_path)
    assert prosrc(url, "stamp_session").count('NEW."lastSeenAt"') == 2
    execute(url, "INSERT INTO sessions (id, \"userId\") VALUES ('s3', 'u1')")
    assert rows(url, "SELECT \"lastSeenAt\"::text FROM sessions WHERE id = 's3'") == [("2025-02-02 02:02:00",)]


def test_a_body_the_parser_cannot_read_is_a_named_blocker(db, tmp_path):
    url, mapping = db
    execute(url, '''SET check_function_bodies = off;
CREATE FUNCTION broken() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE "User" SET email = WHERE;
END $$;''')
    before = state(url)
    with pytest.raises(UnsafeFunction, match=r"broken\(\): its body could not be parsed"):
        runbook.migrate(url, mapping, backup_dir=str(tmp_path / "b"), log_dir=str(tmp_path / "l"), progress=False)
    assert state(url) == before


def test_rowtype_and_type_declarations_of_a_renamed_table_follow_the_rename(db, tmp_path):
    """``r "Session"%ROWTYPE`` and ``"Session"."lastActiveAt"%TYPE`` are resolved when the
    function is compiled: after the rename they must name ``public.sessions`` and its new
    column, and a field of the record (``r."lastActiveAt"``) the renamed column. Before,
    such a declaration blocked the whole run ("rewrite it by hand"), as on the social
    corpus schema."""
    url, mapping = db
    execute(url, '''CREATE FUNCTION last_seen(sid text) RETURNS timestamp(3) LANGUAGE plpgsql AS $$
DECLARE
    r "Session"%ROWTYPE;  -- a "Session"%ROWTYPE in a comment stays as it is
    t "Session"."lastActiveAt"%TYPE;
    o other.users%ROWTYPE;
BEGIN
    SELECT * INTO r FROM "Session" WHERE id = sid;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Session % not found', sid;
    END IF;
    t := r."lastActiveAt";
    RETURN t;
END $$;''')
    before = scalar(url, "SELECT last_seen('s1')")
    migrate(url, mapping, tmp_path)
    src = prosrc(url, "last_seen")
    assert 'r public.sessions%ROWTYPE;  -- a "Session"%ROWTYPE in a comment stays as it is' in src
    assert 't public.sessions."lastSeenAt"%TYPE;' in src and 't := r."lastSeenAt";' in src
    assert "o other.users%ROWTYPE;" in src
    assert scalar(url, "SELECT last_seen('s1')") == before


ATOMIC = '''
CREATE FUNCTION user_emails() RETURNS SETOF text LANGUAGE sql STABLE
BEGIN ATOMIC SELECT u.email FROM "User" u JOIN "Session" s ON s."userId" = u.id WHERE s."lastActiveAt" IS NOT NULL; END;
CREATE FUNCTION last_seen(uid text) RETURNS timestamp(3) LANGUAGE sql STABLE
BEGIN ATOMIC SELECT max("lastActiveAt") FROM "Session" WHERE "userId" = uid; END;
'''


def test_begin_atomic_bodies_are_verified_to_still_run(db, tmp_path):
    """SQL-standard bodies follow the rename by OID: nothing rewrites them, and the
    verification says that each one still runs (called when it takes no argument)."""
    url, mapping = db
    execute(url, ATOMIC)
    r = runbook.migrate(url, mapping, backup_dir=str(tmp_path / "b"), log_dir=str(tmp_path / "l"), progress=False)
    assert r.status == "migrated" and r.verification.ok
    got = {c.name: c for c in r.verification.checks if "BEGIN ATOMIC" in c.name}
    assert set(got) == {"function user_emails() (BEGIN ATOMIC) still runs",
                        "function last_seen(text) (BEGIN ATOMIC) still runs"}, got
    assert got["function user_emails() (BEGIN ATOMIC) still runs"].detail == "called, ran"
    assert "not called" in got["function last_seen(text) (BEGIN ATOMIC) still runs"].detail
    assert rows(url, "SELECT * FROM user_emails()") == [("a@x.io",)]
    assert str(scalar(url, "SELECT last_seen('u1')")) == "2024-01-01 10:00:00"
    # the standalone verify reads the baseline the run stored, and checks them again
    v = runbook.verify(url, mapping, crud=False)
    assert [c.ok for c in v.checks if "BEGIN ATOMIC" in c.name] == [True, True]


def test_a_begin_atomic_body_that_ran_before_and_fails_after_fails_the_verification(db, tmp_path):
    """The data steps can break a body that follows the rename: NULLs filled make this
    function divide by zero. The verification names it, and the run is rolled back."""
    url, mapping = db
    execute(url, '''INSERT INTO "Session" VALUES ('s0', 'u1', NULL);
CREATE FUNCTION per_unseen() RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC SELECT 10 / count(*) FILTER (WHERE "lastActiveAt" IS NULL) FROM "Session"; END;''')
    assert scalar(url, "SELECT per_unseen()") == 10
    path = tmp_path / "fill.toml"
    path.write_text(MAPPING.replace('to = "lastSeenAt" }', 'to = "lastSeenAt", not_null = true, '
                                    'fill_nulls = "2020-01-01 00:00" }'))
    before = state(url)
    with pytest.raises(VerificationFailed, match=r"function per_unseen\(\) \(BEGIN ATOMIC\) still runs: "
                       r"it ran before, now it fails: ERROR: +division by zero; the migration was rolled back"):
        runbook.migrate(url, str(path), backup_dir=str(tmp_path / "b"), log_dir=str(tmp_path / "l"), progress=False)
    assert state(url) == before
    assert scalar(url, "SELECT per_unseen()") == 10
