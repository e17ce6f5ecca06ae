"""runbook.compat: the Prisma schema against the live catalog, on a real PostgreSQL.

Three kinds of evidence:

* the reference legacy database before and after ``migrate`` (the four models missing,
  then only the User blockers the AI Assistant never meets);
* round trips: a database built from a schema's own DDL (``render_ddl``) compares clean,
  for the spec's schema and for the large schemas in tests/data/prisma; each deliberate
  change to it is then reported with the right severity;
* the prediction before anything runs equals the result after ``migrate``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from runbook import compat, mapping, prisma
from runbook.api import migrate
from runbook.compat.defaults import norm_expr
from runbook.connection import password_of
from runbook.errors import BadInput
from prisma_ddl import render_ddl

DATA = Path(__file__).parent / "data" / "prisma"
CHAT = {"ChatFolder", "ChatSession", "ChatMessage"}


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "runbook.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def execute(url: str, *statements: str) -> None:
    c = psycopg2.connect(url)
    with c, c.cursor() as cur:
        for s in statements:
            cur.execute(s)
    c.close()


def build(url: str, schema: prisma.Schema, *, extensions=(), replace: dict | None = None) -> None:
    """Create ``schema``'s tables as prisma migrate would (render_ddl)."""
    stmts = [f"CREATE EXTENSION IF NOT EXISTS {e}" for e in extensions]
    for s in render_ddl(schema):
        for a, b in (replace or {}).items():
            s = s.replace(a, b)
        stmts.append(s)
    execute(url, *stmts)


def keyed(c: compat.Compatibility) -> set[tuple]:
    return {(f.model, f.column, f.check, f.severity) for f in c.findings}


@pytest.fixture
def migrated(ref_db, tmp_path):
    migrate(ref_db, backup=False, progress=False, log_dir=str(tmp_path), backup_dir=str(tmp_path))
    return ref_db


@pytest.fixture
def spec_db(empty_db):
    """An empty database with exactly the spec 3.1 schema, as prisma migrate would create it."""
    build(empty_db, mapping.default_target_schema())
    return empty_db


# --------------------------------------------------------------------------- without a database


def test_expected_types_follow_prisma_migrate():
    s = prisma.parse('''
        enum Role { USER ADMIN }
        model T {
          id    Int      @id @default(autoincrement())
          a     String
          b     String   @db.VarChar(255)
          c     DateTime
          d     DateTime @db.Timestamptz(6)
          e     Json
          f     Decimal
          g     Role[]
          h     Int[]
          i     Decimal  @db.Decimal(12, 2)
        }''')
    m = s.model("T")
    got = {f.name: compat.expected_type(f, s) for f in m.scalar_fields()}
    assert got == {"id": "integer", "a": "text", "b": "character varying(255)",
                   "c": "timestamp(3) without time zone", "d": "timestamp(6) with time zone", "e": "jsonb",
                   "f": "numeric(65,30)", "g": '"Role"[]', "h": "integer[]", "i": "numeric(12,2)"}


def test_default_expressions_are_normalised():
    n = norm_expr
    assert n("'USER'::\"UserRole\"") == "user"
    assert n("'member'::auth.account_role") == "member"
    assert n("'EUR'::shop.\"Currency\"") == "eur"
    assert n("'it''s'::text") == "it's"
    assert n("CURRENT_TIMESTAMP") == "current_timestamp"
    assert n("0") == "0"
    assert n(None) == ""


def test_render_ddl_is_prisma_shaped():
    ddl = render_ddl(mapping.default_target_schema())
    assert "CREATE TYPE public.\"UserRole\" AS ENUM ('USER', 'ADMIN')" in ddl
    assert any(s.startswith("CREATE TABLE public.chat_messages (") and 'CONSTRAINT chat_messages_pkey PRIMARY KEY (id)'
               in s for s in ddl)
    assert 'CREATE UNIQUE INDEX users_email_key ON public.users (email)' in ddl
    assert ('ALTER TABLE public.chat_sessions ADD CONSTRAINT "chat_sessions_folderId_fkey" FOREIGN KEY ("folderId") '
            'REFERENCES public.chat_folders (id) ON DELETE SET NULL ON UPDATE CASCADE') in ddl
    assert ('ALTER TABLE public.chat_messages ADD CONSTRAINT "chat_messages_sessionId_fkey" FOREIGN KEY ("sessionId") '
            'REFERENCES public.chat_sessions (id) ON DELETE RESTRICT ON UPDATE CASCADE') in ddl


def test_writes_must_name_models_of_the_schema(spec_db):
    with pytest.raises(BadInput, match="Chat, not a model"):
        compat.check(spec_db, written=("Chat",))


# --------------------------------------------------------------------------- the reference database


def test_legacy_database_blocks_every_model(ref_db):
    c = compat.check(ref_db)
    assert not c.ok
    assert {(f.model, f.check) for f in c.blocking} == {(m, "table") for m in ("User", *CHAT)}
    assert all(set(f.blocks) == {"reads", "writes"} for f in c.blocking)
    fixes = {f.model: f.fix for f in c.blocking}
    assert fixes["ChatSession"] == 'runbook migrate (renames "AssistantChatSession" to chat_sessions)'
    assert [m.exists for m in c.models] == [False] * 4


def test_after_migrate_only_user_writes_are_blocked(migrated):
    c = compat.check(migrated)
    assert c.ok, [f.row() for f in c.blocking]
    blockers = {(f.model, f.column, f.blocks) for f in c.of(compat.BLOCKER)}
    # the AI Assistant never creates users: reported, not blocking
    assert blockers == {("User", "passwordHash", ("writes",)), ("User", "updatedAt", ("writes",))}
    status = {m.model: m for m in c.models}
    assert all(status[m].readable and status[m].writable for m in CHAT)
    assert status["User"].readable and not status["User"].writable and not status["User"].written
    # "updatedAt"/"createdAt" of the chat tables got database defaults from the plan: info only
    infos = {(f.model, f.column) for f in c.of(compat.INFO) if f.check == "unknown column"}
    assert {("ChatFolder", "updatedAt"), ("ChatSession", "updatedAt"), ("ChatMessage", "createdAt")} <= infos
    # the legacy foreign keys cascade where the spec's schema says Restrict: a behaviour change, stated
    cascade = {(f.model, f.column) for f in c.of(compat.WARNING) if "ON DELETE CASCADE" in f.problem}
    assert cascade == {("ChatFolder", "userId"), ("ChatSession", "userId"), ("ChatMessage", "sessionId")}
    # Prisma's default names hold for the renamed tables (the plan renamed them all)
    assert not [f for f in c.findings if f.check == "name"]


def test_the_user_blocker_is_real(migrated):
    """What the check calls a write blocker fails exactly so through the target models."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from runbook.connection import engine
    from ai_assistant_models import User

    eng = engine(migrated)
    try:
        with Session(eng) as s:
            s.add(User(email="new@example.com", username="new_user"))
            with pytest.raises(IntegrityError, match='null value in column "passwordHash"'):
                s.flush()
    finally:
        eng.dispose()


def test_write_blockers_for_verify(ref_db, tmp_path):
    before = compat.write_blockers(ref_db)
    assert before and not any(c.ok for c in before)
    assert any("chat_sessions does not exist" in c.name for c in before)
    migrate(ref_db, backup=False, progress=False, log_dir=str(tmp_path), backup_dir=str(tmp_path))
    after = compat.write_blockers(ref_db)
    assert len(after) == 1 and after[0].ok and "2 warning(s): writes of models it does not write" in after[0].detail
    with_users = compat.write_blockers(ref_db, written=("User", *sorted(CHAT)))
    assert {c.ok for c in with_users} == {False}
    assert {c.name.split(":")[1].strip() for c in with_users} == {"User passwordHash", "User updatedAt"}


def test_prediction_before_anything_runs_matches_the_result(ref_db, tmp_path):
    predicted = compat.predict(ref_db)
    # the rehearsal rolled back: still the legacy database
    assert not compat.check(ref_db).ok
    migrate(ref_db, backup=False, progress=False, log_dir=str(tmp_path), backup_dir=str(tmp_path))
    actual = compat.check(ref_db)
    assert predicted.ok and actual.ok
    # the one difference: title's NOT NULL needs the data fill, which a rehearsal skips (and says so)
    assert keyed(predicted) - keyed(actual) == {("ChatSession", "title", "nullability", "warning")}
    assert keyed(actual) - keyed(predicted) == set()
    assert any("title NOT NULL" in n for n in predicted.notes)


# --------------------------------------------------------------------------- round trips and deliberate drift


def test_spec_schema_round_trip_is_clean(spec_db):
    c = compat.check(spec_db)
    assert c.findings == ()
    assert c.ok


def test_unknown_not_null_column_blocks_writes(spec_db):
    execute(spec_db, 'ALTER TABLE chat_messages ADD COLUMN "updatedAt" timestamp(3) NOT NULL')
    c = compat.check(spec_db)
    assert not c.ok
    (f,) = c.blocking
    assert (f.model, f.column, f.check, f.blocks) == ("ChatMessage", "updatedAt", "unknown column", ("writes",))
    assert f.fix == 'ALTER TABLE public.chat_messages ALTER COLUMN "updatedAt" SET DEFAULT CURRENT_TIMESTAMP'
    execute(spec_db, f.fix)
    c = compat.check(spec_db)
    assert c.ok and [x.severity for x in c.findings] == ["info"]


def test_each_kind_of_drift_is_reported(spec_db):
    execute(spec_db,
            "ALTER TABLE chat_folders DROP COLUMN color",                       # missing column: reads+writes
            'ALTER TABLE chat_folders ALTER COLUMN "sessionCount" TYPE text',   # incompatible type
            'ALTER TABLE chat_sessions ALTER COLUMN "isActive" DROP DEFAULT',   # client sends it: warning
            'ALTER TABLE chat_sessions ALTER COLUMN "folderId" SET NOT NULL',   # optional field, NOT NULL
            "ALTER TYPE \"UserRole\" ADD VALUE 'GUEST'",                        # extra label
            "DROP INDEX users_username_key",                                    # missing unique
            'ALTER TABLE chat_messages DROP CONSTRAINT "chat_messages_sessionId_fkey"',
            'ALTER INDEX users_email_key RENAME TO users_email_unique',         # name drift
            "ALTER TABLE users ADD COLUMN nickname text")                       # unknown, nullable
    c = compat.check(spec_db)
    got = {(f.model, f.column, f.check): (f.severity, f.blocks) for f in c.findings}
    assert got == {
        ("ChatFolder", "color", "column"): ("blocker", ("reads", "writes")),
        ("ChatFolder", "sessionCount", "type"): ("blocker", ("reads", "writes")),
        ("ChatSession", "isActive", "default"): ("warning", ()),
        ("ChatSession", "folderId", "nullability"): ("blocker", ("writes",)),
        ("User", "role", "enum"): ("warning", ()),
        ("User", "username", "unique"): ("warning", ()),
        ("ChatMessage", "sessionId", "relation"): ("warning", ()),
        ("User", "unique (email)", "name"): ("info", ()),
        ("User", "nickname", "unknown column"): ("info", ()),
    }
    assert {f.model for f in c.blocking} == {"ChatFolder", "ChatSession"}
    status = {m.model: m for m in c.models}
    assert not status["ChatFolder"].readable and status["ChatSession"].readable and not status["ChatSession"].writable


def test_enum_missing_label_blocks_writes(empty_db):
    schema = prisma.parse('''
        enum Plan { FREE PRO }
        model Account {
          id   String @id @default(cuid())
          plan Plan   @default(FREE)
          @@map("accounts")
        }''')
    execute(empty_db, "CREATE TYPE \"Plan\" AS ENUM ('FREE')",
            'CREATE TABLE accounts (id text PRIMARY KEY, plan "Plan" NOT NULL DEFAULT \'FREE\')')
    c = compat.check(empty_db, schema, written=("Account",))
    (f,) = c.blocking
    assert (f.check, f.problem, f.blocks) == ("enum", "enum Plan lacks PRO", ("writes",))
    assert f.fix == "ALTER TYPE public.\"Plan\" ADD VALUE 'PRO'"
    # the pkey is named accounts_pkey, Prisma's default: no name finding
    assert [x.check for x in c.findings] == ["enum"]


def test_autoincrement_needs_the_database(empty_db):
    schema = prisma.parse('''
        model Event {
          id    Int    @id @default(autoincrement())
          kind  String
        }''')
    execute(empty_db, 'CREATE TABLE "Event" (id integer NOT NULL, kind text NOT NULL, '
                      'CONSTRAINT "Event_pkey" PRIMARY KEY (id))')
    c = compat.check(empty_db, schema, written=("Event",))
    (f,) = c.blocking
    assert (f.column, f.check, f.blocks) == ("id", "default", ("writes",))
    execute(empty_db, f.fix)
    assert compat.check(empty_db, schema, written=("Event",)).findings == ()


def test_large_scheduling_schema_round_trip(empty_db):
    """46 models: composite ids, implicit many-to-many, enum lists, native types."""
    schema = prisma.load(DATA / "scheduling_saas.prisma")
    build(empty_db, schema)
    c = compat.check(empty_db, schema, written=())
    # a view is not created by the DDL: it is the only finding
    views = {v.name for v in schema.views}
    assert [(f.model, f.check) for f in c.findings] == [(v, "table") for v in sorted(views)]
    assert len([m for m in c.models if m.exists]) == len(schema.models)


def test_multischema_commerce_round_trip(empty_db):
    """@@schema in three schemas, Unsupported types, explicit map names, dbgenerated defaults."""
    schema = prisma.load(DATA / "commerce_multischema.prisma")
    try:
        execute(empty_db, "CREATE EXTENSION IF NOT EXISTS citext", "CREATE EXTENSION IF NOT EXISTS vector",
                "CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except psycopg2.Error as exc:
        pytest.skip(f"extension not installed on this server: {str(exc).splitlines()[0]}")
    # PostGIS is not installed here: its column is created as bytea, and reported as info
    build(empty_db, schema, replace={"geography(Point, 4326)": "bytea"})
    c = compat.check(empty_db, schema, written=())
    rest = {(f.model, f.column, f.check, f.severity) for f in c.findings}
    assert rest == {("OrgDailyRevenue", "", "table", "blocker"), ("ActiveProduct", "", "table", "blocker"),
                    ("Product", "location", "type", "info"), ("Order", "legacy_ref", "unknown column", "info")}
    tables = {m.model: m.table for m in c.models}
    assert tables["Account"].startswith("auth.") and tables["Order"].startswith("shop.")


def test_commerce_against_an_empty_database_names_each_schema(empty_db):
    schema = prisma.load(DATA / "commerce_multischema.prisma")
    c = compat.check(empty_db, schema, written=())
    missing = {f.table for f in c.findings if f.check == "table"}
    assert {t.split(".")[0] for t in missing} == {"auth", "shop", "analytics"}
    assert len(missing) == len([m for m in schema.models if not m.is_ignored]) + len(schema.views)


# --------------------------------------------------------------------------- command line


def test_cli_exit_codes_and_no_secret(ref_db, tmp_path):
    pw = password_of(ref_db)
    r = run_cli("check-schema", "--database-url", ref_db)
    assert r.returncode == 1
    assert "INCOMPATIBLE: 4 blocker(s)" in r.stdout
    assert r.stderr.strip().startswith("runbook: 4 blocker(s); first: User")
    assert pw and pw not in r.stdout + r.stderr
    migrate(ref_db, backup=False, progress=False, log_dir=str(tmp_path), backup_dir=str(tmp_path))
    r = run_cli("check-schema", "--database-url", ref_db, "--json")
    assert r.returncode == 0, r.stderr
    import json

    d = json.loads(r.stdout)
    assert d["ok"] and d["blocking"] == [] and pw not in r.stdout
    r = run_cli("check-schema", "--database-url", ref_db, "--writes", "User,ChatMessage")
    assert r.returncode == 1 and "passwordHash" in r.stderr


def test_cli_bad_input_is_one_line_exit_2(ref_db, tmp_path):
    bad = tmp_path / "bad.prisma"
    bad.write_text("model A {\n  id String @id\n  name String @default(\n}\n")
    cases = [
        ("--target-schema", str(tmp_path / "missing.prisma")),
        ("--target-schema", str(bad)),
        ("--writes", "Nope"),
    ]
    for args in cases:
        r = run_cli("check-schema", "--database-url", ref_db, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    r = run_cli("check-schema", "--database-url", ref_db, "--target-schema", str(bad))
    assert "line 4, column 1" in r.stderr
    r = run_cli("check-schema", "--database-url", "mysql://x@y/z")
    assert r.returncode == 2 and "not a postgresql:// URL" in r.stderr
    wrong = ref_db.replace(password_of(ref_db), "wrong-secret-123")
    r = run_cli("check-schema", "--database-url", wrong)
    assert r.returncode == 2 and "wrong-secret-123" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
