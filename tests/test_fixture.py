"""Tests of the reference legacy database (runbook/data/reference_schema.sql)
and its generator (runbook.demo.fixture), against a real PostgreSQL server.

Uses the ``empty_db`` fixture from conftest.py: the libpq URL of a brand-new
empty database.
"""

from __future__ import annotations

import hashlib
import re
import uuid

import psycopg2
import psycopg2.extensions
import pytest

from runbook.demo import fixture as fx

N = 2000  # messages for most tests: 200 sessions, 20 users, 20 rows per satellite


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

@pytest.fixture
def second_db(empty_db):
    """A second empty database on the same server as ``empty_db``."""
    params = psycopg2.extensions.parse_dsn(empty_db)
    name = f"{params.get('dbname', 'db')}_second"[:63]
    admin = psycopg2.connect(empty_db)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield psycopg2.extensions.make_dsn(empty_db, dbname=name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def query(url: str, sql: str, args=None) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


def scalar(url: str, sql: str, args=None):
    return query(url, sql, args)[0][0]


def schema_only(url: str) -> None:
    conn = psycopg2.connect(url)
    try:
        fx.create_schema(conn)
        conn.commit()
    finally:
        conn.close()


ALL_TABLES = ("_prisma_migrations",) + fx.CORE_TABLES + ("AuditLog",) + fx.SATELLITE_TABLES


def table_digests(url: str) -> dict[str, str]:
    """md5 of every table's rows in id order."""
    out = {}
    for t in ALL_TABLES:
        out[t] = scalar(url, f"SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM \"{t}\" t")
    return out


def catalog_snapshot(url: str) -> dict[str, list]:
    """Names and definitions (no OIDs) of everything in schema public."""
    return {
        "columns": query(url, """
            SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid)
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY 1, 2"""),
        "constraints": query(url, """
            SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), convalidated
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"""),
        "indexes": query(url, """
            SELECT tablename, indexname, indexdef FROM pg_indexes
            WHERE schemaname = 'public' ORDER BY 1, 2"""),
        "relations": query(url, """
            SELECT relname, relkind FROM pg_class
            WHERE relnamespace = 'public'::regnamespace ORDER BY 1"""),
        "functions": query(url, """
            SELECT proname, pg_get_functiondef(oid) FROM pg_proc
            WHERE pronamespace = 'public'::regnamespace ORDER BY 1"""),
        "triggers": query(url, """
            SELECT tgrelid::regclass::text, tgname, tgenabled, pg_get_triggerdef(oid)
            FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"""),
        "views": query(url, """
            SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1"""),
    }


# --------------------------------------------------------------------------
# schema
# --------------------------------------------------------------------------

def test_tables_are_exactly_the_reference_set(empty_db):
    schema_only(empty_db)
    tables = {r[0] for r in query(empty_db, """
        SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'""")}
    assert tables == set(ALL_TABLES)
    assert len(fx.SATELLITE_TABLES) == len(set(fx.SATELLITE_TABLES)) == 50
    assert not set(fx.SATELLITE_TABLES) & set(fx.CORE_TABLES + ("AuditLog",))
    for t in tables - {"_prisma_migrations"}:
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", t), t


def test_core_columns_are_prisma_typed(empty_db):
    schema_only(empty_db)
    cols = {
        (t, c): (typ, notnull, default)
        for t, _, c, typ, notnull, default in catalog_snapshot(empty_db)["columns"]
    }
    ts3 = "timestamp(3) without time zone"
    assert cols[("User", "id")] == ("text", True, None)
    assert cols[("User", "email")] == ("text", True, None)
    assert cols[("User", "username")] == ("text", False, None)
    assert cols[("User", "passwordHash")] == ("text", True, None)
    assert cols[("User", "isActive")] == ("boolean", True, "true")
    assert cols[("User", "emailVerified")] == ("boolean", True, "false")
    assert cols[("User", "createdAt")] == (ts3, True, "CURRENT_TIMESTAMP")
    assert cols[("User", "updatedAt")] == (ts3, True, None)
    assert cols[("AssistantChatSession", "sessionName")] == ("text", False, None)
    assert cols[("AssistantChatSession", "lastActiveAt")] == (ts3, False, None)
    assert cols[("AssistantChatMessage", "metadata")] == ("jsonb", False, None)
    assert cols[("AssistantMessage", "id")] == (
        "integer", True, "nextval('\"AssistantMessage_id_seq\"'::regclass)")
    assert cols[("AuditLog", "id")] == ("integer", True, "nextval('\"AuditLog_id_seq\"'::regclass)")
    assert cols[("AuditLog", "userId")] == ("text", False, None)
    assert cols[("Invoice", "amount")] == ("numeric(65,30)", True, None)
    assert cols[("_prisma_migrations", "id")] == ("character varying(36)", True, None)
    assert cols[("_prisma_migrations", "checksum")] == ("character varying(64)", True, None)
    assert cols[("_prisma_migrations", "finished_at")] == ("timestamp with time zone", False, None)
    assert cols[("_prisma_migrations", "migration_name")] == ("character varying(255)", True, None)
    assert cols[("_prisma_migrations", "started_at")] == ("timestamp with time zone", True, "now()")
    assert cols[("_prisma_migrations", "applied_steps_count")] == ("integer", True, "0")
    # every satellite: id, userId, its data columns, createdAt
    for sat in fx.SATELLITES:
        names = [c for (t, c) in cols if t == sat.name]
        assert names == ["id", "userId", *[c.name for c in sat.cols], "createdAt"]


def test_constraint_and_index_names(empty_db):
    schema_only(empty_db)
    snap = catalog_snapshot(empty_db)
    pkeys = {(t, n) for t, n, kind, _, _ in snap["constraints"] if kind == "p"}
    assert pkeys == {(f'"{t}"' if t != "_prisma_migrations" else t, f"{t}_pkey") for t in ALL_TABLES}

    fks = {n: (t, d) for t, n, kind, d, _ in snap["constraints"] if kind == "f"}
    assert fks["AssistantFolder_userId_fkey"] == (
        '"AssistantFolder"', 'FOREIGN KEY ("userId") REFERENCES "User"(id) ON UPDATE CASCADE ON DELETE CASCADE')
    assert fks["AssistantChatSession_userId_fkey"][1].endswith('REFERENCES "User"(id) ON UPDATE CASCADE ON DELETE CASCADE')
    assert fks["AssistantChatMessage_sessionId_fkey"][1] == (
        'FOREIGN KEY ("sessionId") REFERENCES "AssistantChatSession"(id) ON UPDATE CASCADE ON DELETE CASCADE')
    assert fks["AssistantConversation_userId_fkey"][1].endswith("ON DELETE CASCADE")
    assert fks["AssistantMessage_conversationId_fkey"][1] == (
        'FOREIGN KEY ("conversationId") REFERENCES "AssistantConversation"(id) ON UPDATE CASCADE ON DELETE CASCADE')
    assert fks["AuditLog_userId_fkey"][1] == (
        'FOREIGN KEY ("userId") REFERENCES "User"(id) ON UPDATE CASCADE ON DELETE SET NULL')
    for sat in fx.SATELLITES:
        suffix = "ON DELETE CASCADE" if sat.on_delete == "CASCADE" else "ON DELETE RESTRICT"
        assert fks[f"{sat.name}_userId_fkey"] == (
            f'"{sat.name}"', f'FOREIGN KEY ("userId") REFERENCES "User"(id) ON UPDATE CASCADE {suffix}')
    assert len(fks) == 6 + 50

    indexes = {n: d for _, n, d in snap["indexes"]}
    expected = {
        "User_email_key": 'CREATE UNIQUE INDEX "User_email_key" ON public."User" USING btree (email)',
        "User_username_key": 'CREATE UNIQUE INDEX "User_username_key" ON public."User" USING btree (username)',
        "AssistantFolder_userId_idx":
            'CREATE INDEX "AssistantFolder_userId_idx" ON public."AssistantFolder" USING btree ("userId")',
        "AssistantChatSession_userId_idx":
            'CREATE INDEX "AssistantChatSession_userId_idx" ON public."AssistantChatSession" USING btree ("userId")',
        "AssistantChatMessage_sessionId_createdAt_idx":
            'CREATE INDEX "AssistantChatMessage_sessionId_createdAt_idx" ON public."AssistantChatMessage"'
            ' USING btree ("sessionId", "createdAt")',
        "AssistantConversation_userId_idx":
            'CREATE INDEX "AssistantConversation_userId_idx" ON public."AssistantConversation" USING btree ("userId")',
        "AssistantMessage_conversationId_idx":
            'CREATE INDEX "AssistantMessage_conversationId_idx" ON public."AssistantMessage"'
            ' USING btree ("conversationId")',
    }
    for name, definition in expected.items():
        assert indexes[name] == definition
    for sat in fx.SATELLITES:
        assert indexes[f"{sat.name}_userId_idx"] == (
            f'CREATE INDEX "{sat.name}_userId_idx" ON public."{sat.name}" USING btree ("userId")')
    assert set(indexes) == set(expected) | {f"{t}_pkey" for t in ALL_TABLES} | {
        f"{s}_userId_idx" for s in fx.SATELLITE_TABLES}

    seqs = query(empty_db, """
        SELECT s.relname, t.relname, a.attname FROM pg_class s
        JOIN pg_depend d ON d.objid = s.oid AND d.deptype = 'a'
        JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace ORDER BY 1""")
    assert seqs == [("AssistantMessage_id_seq", "AssistantMessage", "id"), ("AuditLog_id_seq", "AuditLog", "id")]


def test_user_is_referenced_by_54_tables(empty_db):
    # 4 core tables (folders, chat sessions, conversations, audit log) + 50 satellites
    schema_only(empty_db)
    referencing = {r[0] for r in query(empty_db, """
        SELECT conrelid::regclass::text FROM pg_constraint
        WHERE contype = 'f' AND confrelid = '"User"'::regclass""")}
    assert len(referencing) == 54
    assert {'"AssistantFolder"', '"AssistantChatSession"', '"AssistantConversation"', '"AuditLog"'} <= referencing
    actions = query(empty_db, """
        SELECT confdeltype, count(*) FROM pg_constraint
        WHERE contype = 'f' AND confrelid = '"User"'::regclass GROUP BY 1 ORDER BY 1""")
    assert dict(actions) == {"c": 3 + 25, "n": 1, "r": 25}


def test_view_function_and_trigger_exist_and_name_legacy_tables(empty_db):
    schema_only(empty_db)
    snap = catalog_snapshot(empty_db)
    assert [v[0] for v in snap["views"]] == ["ActiveUser"]
    assert '"User"' in snap["views"][0][1] and '"isActive"' in snap["views"][0][1]
    cols = query(empty_db, """SELECT attname FROM pg_attribute WHERE attrelid = '"ActiveUser"'::regclass
                              AND attnum > 0 ORDER BY attnum""")
    assert [c[0] for c in cols] == ["id", "email", "username"]

    funcs = dict(snap["functions"])
    assert set(funcs) == {"user_display_name", "touch_chat_session"}
    assert 'FROM "User"' in funcs["user_display_name"]
    assert "RETURNS text" in funcs["user_display_name"]
    assert ('UPDATE "AssistantChatSession" SET "lastActiveAt" = NEW."createdAt" WHERE id = NEW."sessionId";'
            in funcs["touch_chat_session"])
    assert snap["triggers"] == [(
        '"AssistantChatMessage"', "AssistantChatMessage_touch_session", "O",
        'CREATE TRIGGER "AssistantChatMessage_touch_session" AFTER INSERT ON public."AssistantChatMessage"'
        " FOR EACH ROW EXECUTE FUNCTION touch_chat_session()",
    )]


def test_sql_file_holds_the_rendered_satellite_ddl():
    sections = fx.migration_sections()
    assert list(sections) == list(fx.MIGRATIONS)
    assert sections["20240610120000_account_features"].strip() == fx.render_satellite_section().strip()
    text = fx.schema_sql()
    for stmt in sum(fx.satellite_ddl(), []):
        assert text.count(stmt) == 1, stmt
    # Prisma's layout inside each generated migration: tables, indexes, FKs
    init = sections["20240115093000_init"]
    assert init.rindex("CREATE TABLE") < init.index("CREATE UNIQUE INDEX") < init.rindex("CREATE INDEX") \
        < init.index("ALTER TABLE")


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------

def test_row_counts_follow_n(empty_db):
    counts = fx.build(empty_db, messages=N, seed=42)
    assert counts == fx.expected_counts(N)
    assert counts["AssistantChatMessage"] == N
    assert counts["AssistantChatSession"] == N // 10
    assert counts["User"] == N // 100
    assert counts["AssistantMessage"] == N // 2
    assert counts["AssistantConversation"] == N // 20
    assert counts["AssistantFolder"] == N // 50
    assert all(counts[s] == N // 100 for s in fx.SATELLITE_TABLES)
    assert counts["AuditLog"] > 0 and counts["_prisma_migrations"] == 3
    for table, n in counts.items():
        assert scalar(empty_db, f'SELECT count(*) FROM "{table}"') == n, table


def test_tiny_n_gives_at_least_one_row_everywhere(empty_db):
    counts = fx.build(empty_db, messages=1, seed=3)
    assert counts == fx.expected_counts(1)
    assert all(n >= 1 for n in counts.values())
    assert scalar(empty_db, 'SELECT count(*) FROM "AssistantChatMessage"') == 1


def test_same_seed_gives_identical_data(empty_db, second_db):
    fx.build(empty_db, messages=N, seed=7)
    fx.build(second_db, messages=N, seed=7)
    first, second = table_digests(empty_db), table_digests(second_db)
    assert all(first.values())
    assert first == second
    # sequences too
    for seq in ("AssistantMessage_id_seq", "AuditLog_id_seq"):
        q = f'SELECT last_value, is_called FROM "{seq}"'
        assert query(empty_db, q) == query(second_db, q)


def test_other_seed_gives_other_data(empty_db, second_db):
    fx.build(empty_db, messages=N, seed=1)
    fx.build(second_db, messages=N, seed=2)
    first, second = table_digests(empty_db), table_digests(second_db)
    assert all(first[t] != second[t] for t in ALL_TABLES)


def test_seed_leaves_the_schema_exactly_as_created(empty_db, second_db):
    # seed() drops keys/indexes/FKs for the load and recreates them
    fx.build(empty_db, messages=N, seed=42)
    schema_only(second_db)
    assert catalog_snapshot(empty_db) == catalog_snapshot(second_db)


def test_seed_refuses_a_non_empty_schema(empty_db):
    fx.build(empty_db, messages=100)
    conn = psycopg2.connect(empty_db)
    try:
        with pytest.raises(RuntimeError):
            fx.seed(conn, messages=100)
    finally:
        conn.close()


def test_values_look_like_prisma_data(empty_db):
    n = 10000
    fx.build(empty_db, messages=n, seed=42)
    cuid_tables = [t for t in ALL_TABLES if t not in ("_prisma_migrations", "AssistantMessage", "AuditLog")]
    for t in cuid_tables:
        bad = scalar(empty_db, f"SELECT count(*) FROM \"{t}\" WHERE id !~ '^c[0-9a-z]{{24}}$'")
        assert bad == 0, t
    assert scalar(empty_db, 'SELECT count(*) FROM "User" WHERE "updatedAt" < "createdAt"') == 0
    assert scalar(empty_db, 'SELECT count(DISTINCT email) = count(*) FROM "User"')
    assert scalar(empty_db, 'SELECT count(*) FROM "User" WHERE "passwordHash" NOT LIKE \'$2b$10$%\'') == 0
    # messages are created after their session, sessions after their user
    assert scalar(empty_db, """
        SELECT count(*) FROM "AssistantChatMessage" m JOIN "AssistantChatSession" s ON s.id = m."sessionId"
        WHERE m."createdAt" < s."createdAt" """) == 0
    assert scalar(empty_db, """
        SELECT count(*) FROM "AssistantChatSession" s JOIN "User" u ON u.id = s."userId"
        WHERE s."createdAt" < u."createdAt" """) == 0
    # some NULLs where the schema allows them
    for t, c in [("AssistantChatMessage", "metadata"), ("AssistantConversation", "title"),
                 ("AuditLog", "userId"), ("User", "username")]:
        frac = scalar(empty_db, f'SELECT avg(("{c}" IS NULL)::int) FROM "{t}"')
        assert 0 < frac < 0.5, (t, c, frac)
    roles = {r[0] for r in query(empty_db, 'SELECT DISTINCT role FROM "AssistantChatMessage"')}
    assert roles == {"user", "assistant", "system"}
    # serial ids 1..n and the sequence continues after them
    assert query(empty_db, 'SELECT min(id), max(id) FROM "AssistantMessage"') == [(1, n // 2)]
    assert scalar(empty_db, """SELECT nextval('"AssistantMessage_id_seq"')""") == n // 2 + 1
    # view and function work on the data
    assert scalar(empty_db, 'SELECT count(*) FROM "ActiveUser"') == scalar(
        empty_db, 'SELECT count(*) FROM "User" WHERE "isActive"')
    assert scalar(empty_db, 'SELECT count(*) FROM "User" WHERE user_display_name(id) IS DISTINCT FROM '
                            'coalesce(username, email)') == 0


def test_session_name_null_fraction_is_about_ten_percent(empty_db):
    fx.build(empty_db, messages=20000, seed=42)
    frac = scalar(empty_db, 'SELECT avg(("sessionName" IS NULL)::int)::float FROM "AssistantChatSession"')
    assert 0.07 <= frac <= 0.13


def test_last_active_at_is_what_the_trigger_would_leave(empty_db):
    fx.build(empty_db, messages=N, seed=42)
    mismatches = scalar(empty_db, """
        SELECT count(*) FROM "AssistantChatSession" s
        LEFT JOIN (SELECT "sessionId", max("createdAt") AS last FROM "AssistantChatMessage"
                   GROUP BY 1) m ON m."sessionId" = s.id
        WHERE s."lastActiveAt" IS DISTINCT FROM m.last""")
    assert mismatches == 0
    empty = scalar(empty_db, 'SELECT count(*) FROM "AssistantChatSession" WHERE "lastActiveAt" IS NULL')
    assert empty == (N // 10) // 20  # sessions whose index is 19 mod 20 have no messages


def test_trigger_fires_after_build(empty_db):
    fx.build(empty_db, messages=N, seed=42)
    conn = psycopg2.connect(empty_db)
    try:
        with conn.cursor() as cur:
            cur.execute('SELECT id FROM "AssistantChatSession" ORDER BY id LIMIT 1')
            sid = cur.fetchone()[0]
            cur.execute("""INSERT INTO "AssistantChatMessage" (id, "sessionId", role, content, "createdAt")
                           VALUES ('cnewmessage00000000000000', %s, 'user', 'hi', '2030-01-02 03:04:05.678')""",
                        (sid,))
            cur.execute('SELECT "lastActiveAt"::text FROM "AssistantChatSession" WHERE id = %s', (sid,))
            assert cur.fetchone()[0] == "2030-01-02 03:04:05.678"
        conn.rollback()
    finally:
        conn.close()


def test_prisma_migrations_rows(empty_db):
    fx.build(empty_db, messages=100, seed=42)
    rows = query(empty_db, """SELECT id, checksum, migration_name, finished_at IS NOT NULL, rolled_back_at,
                                     applied_steps_count FROM _prisma_migrations ORDER BY started_at""")
    sections = fx.migration_sections()
    assert [r[2] for r in rows] == list(fx.MIGRATIONS)
    for mid, checksum, name, finished, rolled_back, steps in rows:
        assert uuid.UUID(mid).version == 4
        assert checksum == hashlib.sha256(sections[name].encode()).hexdigest()
        assert finished and rolled_back is None and steps == 1


def test_build_accepts_a_conninfo_string(empty_db):
    conninfo = psycopg2.extensions.make_dsn(empty_db)
    assert fx.build(conninfo, messages=100)["AssistantChatMessage"] == 100
