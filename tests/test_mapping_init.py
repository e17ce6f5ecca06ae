"""``runbook mapping init`` against a real PostgreSQL: which tables, which names, the
conflicts that refuse, the target Prisma schema, and the mapping migrated end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

import runbook
from runbook.cli import main
from runbook.compat import check
from runbook.mapping import load_mapping
from runbook.mapping_init import plural, snake, target_name
from runbook.prisma import load
from snapshots import execute, scalar

DATA = Path(__file__).parent / "data" / "mapping_init"
BLOG_PRISMA = DATA / "blog.prisma"
BLOG_SQL = (DATA / "blog.sql").read_text()

#: a hand-made database: PascalCase and camelCase tables, a Prisma m2m table, Prisma's
#: migrations table, a snake_case table, and a PascalCase table in another schema
MIXED_SQL = """
CREATE TABLE "User" (id serial PRIMARY KEY, "emailAddress" text NOT NULL UNIQUE);
CREATE TABLE "userProfile" (id serial PRIMARY KEY, "userId" int NOT NULL REFERENCES "User"(id) ON DELETE CASCADE);
CREATE TABLE "Category" (id serial PRIMARY KEY, name text);
CREATE TABLE "Post" (id serial PRIMARY KEY, "authorId" int REFERENCES "User"(id));
CREATE TABLE "_CategoryToPost" ("A" int NOT NULL REFERENCES "Category"(id), "B" int NOT NULL REFERENCES "Post"(id));
CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY);
CREATE TABLE audit_log (id serial PRIMARY KEY, "createdAt" timestamptz);
CREATE SCHEMA other;
CREATE TABLE other."OtherThing" (id serial PRIMARY KEY);
INSERT INTO "User" ("emailAddress") SELECT 'u' || g || '@x' FROM generate_series(1, 7) g;
INSERT INTO "Post" ("authorId") SELECT 1 FROM generate_series(1, 3);
"""


def run(capsys, *args):
    code = main(["mapping", "init", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def mixed_db(empty_db):
    execute(empty_db, MIXED_SQL)
    return empty_db


@pytest.fixture
def blog_db(empty_db):
    execute(empty_db, BLOG_SQL)
    return empty_db


# -- names (no database) --------------------------------------------------------------------

@pytest.mark.parametrize("name, want", [
    ("User", "users"), ("UserProfile", "user_profiles"), ("Category", "categories"), ("Person", "people"),
    ("Address", "addresses"), ("Status", "statuses"), ("Data", "data"), ("Media", "media"), ("News", "news"),
    ("Series", "series"), ("Equipment", "equipment"), ("UserSettings", "user_settings"),
    ("Impersonations", "impersonations"), ("Categories", "categories"), ("People", "people"),
    ("Bus", "buses"), ("Alias", "aliases"), ("Analysis", "analyses"), ("Child", "children"),
    ("userProfile", "user_profiles"), ("HTTPRequest", "http_requests"), ("WorkflowsOnEventTypes",
                                                                         "workflows_on_event_types"),
    ("Feedback", "feedback"), ("Metadata", "metadata"), ("ChatMessage", "chat_messages"),
])
def test_plural_convention_pluralises_only_the_last_word_and_keeps_uncountables(name, want):
    assert target_name(name, "snake_case_plural") == want


def test_snake_case_convention_splits_words_without_pluralising():
    assert [target_name(n, "snake_case") for n in ("UserProfile", "HTTPRequest", "userId", "App_RoutingForms")] == \
        ["user_profile", "http_request", "user_id", "app_routing_forms"]
    assert snake("_CategoryToPost") == "_category_to_post"
    assert plural("user_profile") == "user_profiles"


# -- arguments are checked before connecting -----------------------------------------------

#: nothing listens there: an argument error must come before any connection attempt
NOWHERE = "postgresql://nobody@127.0.0.1:1/nowhere"


@pytest.mark.parametrize("args, says", [
    (["--convention", "camelCase"], "unknown convention 'camelCase'"),
    (["--tables", "("], "--tables: not a regular expression"),
    (["--exclude", "[a-"], "--exclude: not a regular expression"),
    (["--prisma-schema", "missing.prisma"], "no such file"),
    (["--target-schema-out", "t.prisma"], "--target-schema-out needs --prisma-schema"),
    (["--columns", "kebab"], "unknown column convention"),
    (["--reserved", "quote"], "unknown --reserved strategy"),
    (["--schema", 'a"b'], "--schema"),
])
def test_bad_arguments_exit_2_with_one_line_before_connecting(capsys, workdir, args, says):
    code, out, err = run(capsys, "--database-url", NOWHERE, *args)
    assert code == 2
    line = one_line(err)
    assert says in line and "cannot connect" not in line
    assert not any(workdir.iterdir())


def test_an_existing_out_file_is_refused_without_force(capsys, workdir, mixed_db):
    (workdir / "mapping.toml").write_text("keep me")
    code, _, err = run(capsys, "--database-url", mixed_db, "--out", "mapping.toml")
    assert code == 2 and "exists; pass --force" in one_line(err)
    assert (workdir / "mapping.toml").read_text() == "keep me"
    code, _, err = run(capsys, "--database-url", mixed_db, "--out", "mapping.toml", "--force")
    assert code == 0, err
    assert load_mapping(workdir / "mapping.toml").tables


# -- which tables -------------------------------------------------------------------------

def test_default_picks_pascal_camel_and_m2m_tables_of_the_schema_only(capsys, workdir, mixed_db):
    code, out, err = run(capsys, "--database-url", mixed_db, "--out", "mapping.toml")
    assert code == 0, err
    m = load_mapping(workdir / "mapping.toml")
    assert {(t.old, t.new) for t in m.tables} == {
        ("User", "users"), ("userProfile", "user_profiles"), ("Category", "categories"), ("Post", "posts"),
        ("_CategoryToPost", "_category_to_post")}
    assert m.schema == "public" and m.audit_table is None
    text = (workdir / "mapping.toml").read_text()
    assert "_prisma_migrations" not in text and "OtherThing" not in text and '"audit_log"' not in text
    # rows (exact, and said so) and the foreign keys into the table, in its block
    block = text.split("# --- table User -> users")[1].split("[[tables]]")[0]
    assert "rows: 7 (exact count)" in block
    assert "foreign keys into it: 2" in block
    assert 'userProfile_userId_fkey' in block and "ON DELETE CASCADE" in block
    assert "rows: 3 (exact count)" in text.split("# --- table Post -> posts")[1].split("[[tables]]")[0]


def test_tables_and_exclude_regexes_and_the_other_schema(capsys, workdir, mixed_db):
    code, out, err = run(capsys, "--database-url", mixed_db, "--tables", "^(User|Post|audit_log)$",
                         "--exclude", "^Post$", "--convention", "snake_case", "--reserved", "suffix")
    assert code == 0, err
    assert 'from = "User"\nto = "user_"' in out  # the reserved word gets its documented suffix
    assert "reserved word" in out and 'from = "Post"' not in out and 'from = "userProfile"' not in out
    assert "Post (--exclude)" in out and "audit_log (already its target name)" in out
    code, out, err = run(capsys, "--database-url", mixed_db, "--schema", "other")
    assert code == 0, err
    assert 'from = "OtherThing"\nto = "other_things"' in out and 'from = "User"' not in out


# -- conflicts: exit 2, nothing written -------------------------------------------------------

@pytest.mark.parametrize("sql, args, says", [
    ('CREATE TABLE "UserProfile" (id int); CREATE TABLE "userProfile" (id int);', [],
     "'UserProfile' and 'userProfile' would all become 'user_profiles'"),
    ('CREATE TABLE "User" (id int); CREATE TABLE users (id int);', [],
     "'User' would become 'users', which a table of schema 'public' already is"),
    ('CREATE TABLE "Post" (id int PRIMARY KEY); CREATE TABLE "Post2" (id int, CONSTRAINT posts UNIQUE (id));', [],
     "which an index of schema 'public' already is"),
    ('CREATE TABLE "' + "Ab" * 31 + '" (id int);', [], "bytes (PostgreSQL keeps 63)"),
    ('CREATE TABLE "User" (id int); CREATE TABLE "Order" (id int);', ["--convention", "snake_case"],
     "'user', a PostgreSQL reserved word"),
    ('CREATE TABLE "Thing" ("userId" int, user_id int);', ["--columns", "snake_case"],
     "would become 'user_id', a column the table has"),
])
def test_conflicts_exit_2_and_nothing_is_written(capsys, workdir, empty_db, sql, args, says):
    execute(empty_db, sql)
    (workdir / "schema.prisma").write_text("model X {\n  id Int @id\n}\n")
    code, out, err = run(capsys, "--database-url", empty_db, "--out", "mapping.toml", "--prisma-schema",
                         "schema.prisma", "--target-schema-out", "target.prisma", *args)
    assert code == 2
    assert says in one_line(err)
    assert out == ""
    assert sorted(p.name for p in workdir.iterdir()) == ["schema.prisma"]


# -- the target schema ----------------------------------------------------------------------

def test_target_schema_maps_every_model_column_and_m2m_relation_and_keeps_the_rest(capsys, workdir, blog_db):
    code, _, err = run(capsys, "--database-url", blog_db, "--convention", "snake_case_plural", "--columns",
                       "snake_case", "--prisma-schema", BLOG_PRISMA, "--out", "mapping.toml",
                       "--target-schema-out", "target.prisma")
    assert code == 0, err
    m = load_mapping(workdir / "mapping.toml")
    assert m.service.target_schema == workdir / "target.prisma"
    target = m.service.load_schema()
    before = load(BLOG_PRISMA)
    assert {x.name: x.db_name for x in target.models} == {
        "User": "users", "UserProfile": "user_profiles", "Post": "posts", "Category": "categories", "Tag": "tags",
        "Comment": "blog_comments",  # an existing @@map is replaced
        "Order": "orders", "Status": "statuses", "Media": "media"}
    # model and field names are kept; the columns are mapped
    assert [f.name for f in target.model("Post").fields] == [f.name for f in before.model("Post").fields]
    assert target.model("Post").column("authorId") == "author_id"
    assert target.model("Post").column("publishedAt") == "published_at"
    # implicit many-to-many: both sides named, default name and explicit name alike
    rel = {(mo.name, f.name): f.relation.name for mo in target.models for f in mo.relation_fields() if f.list}
    assert rel[("Post", "categories")] == rel[("Category", "posts")] == "category_to_post"
    assert rel[("Post", "tags")] == rel[("Tag", "posts")] == "post_tags"
    assert rel[("User", "followers")] == rel[("User", "following")] == "user_follows"
    # explicit map: names that the engine renames follow it
    up = target.model("UserProfile")
    assert up.field("userId").attribute("unique").arg("map") == "user_profiles_user_id_key"
    assert up.field("user").relation.map == "user_profiles_user_id_fkey"
    # comments and layout are kept: the text differs only on the edited lines
    text = (workdir / "target.prisma").read_text()
    assert "// shown on posts" in text and "/// A person who writes." in text
    old_lines = BLOG_PRISMA.read_text().splitlines()
    kept = [ln for ln in old_lines if "Int" not in ln and "String" not in ln and "[]" not in ln
            and "@@" not in ln and "DateTime" not in ln and "User " not in ln]
    assert all(ln in text.splitlines() for ln in kept)
    mapping = (workdir / "mapping.toml").read_text()
    assert 'target_schema = "target.prisma"' in mapping
    assert "implicit many-to-many table _CategoryToPost -> _category_to_post" in mapping


def test_the_mapping_migrated_leaves_the_database_the_target_schema_describes(capsys, workdir, blog_db):
    """End to end in the suite: runbook's own schema check of the migrated database against the
    written target schema (the manual check with Prisma's drift.sh is in the commit message)."""
    code, _, err = run(capsys, "--database-url", blog_db, "--columns", "snake_case", "--prisma-schema",
                       BLOG_PRISMA, "--out", "mapping.toml", "--target-schema-out", "target.prisma")
    assert code == 0, err
    assert check(blog_db, BLOG_PRISMA, written=()).ok  # the service's schema describes the database now,
    assert not check(blog_db, workdir / "target.prisma", written=()).ok  # the target does not, yet ...
    r = runbook.migrate(blog_db, str(workdir / "mapping.toml"), backup=False, progress=False,
                        log_dir=str(workdir / "logs"))
    assert r.status == "migrated"
    after = check(blog_db, workdir / "target.prisma", written=())
    assert after.ok and after.findings == (), after.findings  # ... and the target the new one
    assert scalar(blog_db, "SELECT count(*) FROM _category_to_post") == 0
    assert scalar(blog_db, "SELECT to_regclass('public.\"UserProfile\"') IS NULL")


def test_stdout_is_the_default_and_the_summary_goes_to_stderr(capsys, workdir, mixed_db):
    code, out, err = run(capsys, "--database-url", mixed_db)
    assert code == 0
    assert out.startswith("# Written by `runbook mapping init`") and "[[tables]]" in out
    assert "5 tables (1 many-to-many)" in err and "[[tables]]" not in err
    assert not any(workdir.iterdir())


def test_columns_of_a_table_that_is_not_renamed_are_reported_kept(capsys, workdir, mixed_db):
    code, out, err = run(capsys, "--database-url", mixed_db, "--columns", "snake_case")
    assert code == 0, err
    assert "note: the columns of 'audit_log' keep their names" in err
    assert '{ from = "emailAddress", to = "email_address" }' in out
    assert '"A"' not in out.split("_CategoryToPost -> _category_to_post")[1]  # A and B are Prisma's: never renamed
