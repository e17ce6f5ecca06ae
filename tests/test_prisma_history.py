"""``runbook prisma-history``: Prisma's migration history agrees with the renamed tables
(issue 12), on the reference database and on a corpus database that is not the AI
Assistant's.

The tests that ask the real Prisma 7 CLI (``prisma migrate status``, ``prisma migrate
resolve``) need the toolkit (``RUNBOOK_PRISMA_TOOLKIT``); the others need no Node. The
toolkit's schema-engine stand-in does not implement the engine's ``cli
can-connect-to-database`` subcommand, which ``migrate status`` and ``migrate resolve``
run first as a probe: :func:`prisma` answers only that probe (exit 0) with a small
wrapper of its own and hands every other call to the toolkit's shim, unchanged; the
probe checks nothing the next calls do not (they connect to the same database).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest

import corpus
from runbook.cli import main
from runbook.prisma_history import TITLE

def prisma_migrations_ddl() -> str:
    """Prisma's own DDL of its history table (the reference schema's copy of it)."""
    import re

    from runbook.demo import fixture

    return re.search(r"CREATE TABLE _prisma_migrations \(.*?\);", fixture.schema_sql(), re.S).group(0)


_CLI_JS = """
// node cli.mjs TOOLKIT SCHEMA DIR ARGS...: the toolkit's prisma CLI, SCHEMA prepared for Prisma 7
// into DIR (beside DIR/migrations, where Prisma looks for the migrations by default)
const [tk, schema, dir, wrapper, ...args] = process.argv.slice(2);
const { prisma, prepareSchema } = await import(tk + "/lib/common.mjs");
const prepared = prepareSchema(schema, dir);
const r = prisma([...args, "--schema", prepared], { PRZ_SCHEMA: prepared, PRISMA_SCHEMA_ENGINE_BINARY: wrapper });
process.stdout.write(r.stdout); process.stderr.write(r.stderr); process.exit(r.status ?? 2);
"""

_WRAPPER = """#!/bin/sh
# the engine's `cli can-connect-to-database` probe (not in the toolkit's shim): answered here
for a in "$@"; do [ "$a" = cli ] && exit 0; done
exec node "{shim}" "$@"
"""


def prisma(tk: Path, url: str, schema: Path, migrations: Path, *args: str) -> subprocess.CompletedProcess:
    """``prisma ARGS --schema SCHEMA`` by the real CLI of the toolkit, with ``migrations``
    (a folder named ``migrations``) as its migrations folder."""
    assert migrations.name == "migrations"
    work = migrations.parent
    cli, wrapper = work / ".cli.mjs", work / ".engine.sh"
    cli.write_text(_CLI_JS)
    wrapper.write_text(_WRAPPER.format(shim=tk / "lib" / "schema-engine-shim.mjs"))
    wrapper.chmod(0o755)
    env = dict(os.environ, DATABASE_URL=url)
    return subprocess.run(["node", str(cli), str(tk), str(schema), str(work), str(wrapper), *args],
                          capture_output=True, text=True, env=env)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def history(url: str) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('public._prisma_migrations') IS NOT NULL")
            if not cur.fetchone()[0]:
                return []
            cur.execute("SELECT id, checksum, migration_name, started_at, finished_at, logs, rolled_back_at, "
                        "applied_steps_count FROM _prisma_migrations ORDER BY migration_name")
            return cur.fetchall()
    finally:
        conn.close()


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def stored_plan_sql(url: str, mapping) -> tuple[str, str]:
    """(the forward script of the last run's stored plan, its recorded fingerprint), read
    from runbook.runs here, independently of the command."""
    from runbook import state
    from runbook.catalog.inspect import inspect
    from runbook.mapping import as_mapping
    from runbook.plan import Plan

    conn = psycopg2.connect(url)
    try:
        run_ = state.last_run(conn)
        plan = Plan.from_stored(inspect(conn), as_mapping(mapping), run_)
        return plan.render(TITLE), run_["fingerprint"]
    finally:
        conn.close()


def legacy_history(url: str, migrations: Path) -> None:
    """The reference database's own migrations, as its service's prisma/migrations holds them."""
    from runbook.demo import fixture

    migrations.mkdir(parents=True)
    (migrations / "migration_lock.toml").write_text('provider = "postgresql"\n')
    for name, sql in fixture.migration_sections().items():
        (migrations / name).mkdir()
        (migrations / name / "migration.sql").write_text(sql)
    assert len(history(url)) == len(fixture.migration_sections())


def migrate(capsys, url: str, *mapping: str) -> None:
    code, out, err = run(capsys, "migrate", "--database-url", url, *mapping, "--no-backup", "--no-progress",
                         "--log-dir", "logs")
    assert code == 0, err + out[-2000:]


def check_recorded(url: str, migrations: Path, mapping, before: list[tuple], out: str) -> Path:
    """The one new row and the one new folder agree with each other and with the stored plan."""
    rows = history(url)
    new = [r for r in rows if r not in before]
    assert len(rows) == len(before) + 1 and len(new) == 1, rows
    id_, checksum, name, started, finished, logs, rolled_back, steps = new[0]
    assert name.endswith("_rename_tables_to_snake_case") and name[:14].isdigit(), name
    f = migrations / name / "migration.sql"
    text = f.read_text()
    assert checksum == hashlib.sha256(f.read_bytes()).hexdigest()
    want, fingerprint = stored_plan_sql(url, mapping)
    assert text == want
    assert f"sha256:{fingerprint}" in text
    # as `prisma migrate resolve --applied` writes it (seen with the real Prisma 7 CLI)
    assert uuid.UUID(id_).version == 4
    assert (logs, rolled_back, steps) == (None, None, 0)
    assert started == finished and finished is not None
    assert out.strip().splitlines()[-1].startswith("recorded: " + name)
    return f


# -- the reference database -----------------------------------------------------------------

def test_the_reference_database_history_records_the_plan_that_ran(capsys, workdir, ref_db):
    migrations = workdir / "prisma" / "migrations"
    legacy_history(ref_db, migrations)
    migrate(capsys, ref_db)
    before, files = history(ref_db), tree(migrations)
    code, out, err = run(capsys, "prisma-history", "--database-url", ref_db, "--migrations", migrations)
    assert code == 0, err
    f = check_recorded(ref_db, migrations, None, before, out)
    assert set(tree(migrations)) - set(files) == {str(f.relative_to(migrations))}


def test_a_second_call_is_refused_and_changes_nothing(capsys, workdir, ref_db):
    migrations = workdir / "prisma" / "migrations"
    legacy_history(ref_db, migrations)
    migrate(capsys, ref_db)
    assert run(capsys, "prisma-history", "--database-url", ref_db, "--migrations", migrations)[0] == 0
    before, files = history(ref_db), tree(migrations)
    for fmt in ((), ("--json",)):
        code, out, err = run(capsys, "prisma-history", "--database-url", ref_db, "--migrations", migrations, *fmt)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "already records" in err, err
        assert "Traceback" not in err
    assert history(ref_db) == before and tree(migrations) == files


def test_no_migration_run_is_refused_and_changes_nothing(capsys, workdir, ref_db):
    migrations = workdir / "prisma" / "migrations"
    legacy_history(ref_db, migrations)
    before, files = history(ref_db), tree(migrations)
    code, out, err = run(capsys, "prisma-history", "--database-url", ref_db, "--migrations", migrations)
    assert code == 2 and "runbook migrate" in err and len(err.strip().splitlines()) == 1, err
    assert history(ref_db) == before and tree(migrations) == files


def test_a_rolled_back_migration_is_not_recorded(capsys, workdir, ref_db):
    migrations = workdir / "prisma" / "migrations"
    legacy_history(ref_db, migrations)
    migrate(capsys, ref_db)
    code, out, err = run(capsys, "rollback", "--database-url", ref_db, "--no-backup", "--no-progress", "--log-dir", "logs")
    assert code == 0, err
    before, files = history(ref_db), tree(migrations)
    code, out, err = run(capsys, "prisma-history", "--database-url", ref_db, "--migrations", migrations)
    assert code == 2 and "rolled back" in err, err
    assert history(ref_db) == before and tree(migrations) == files


def test_dry_run_prints_the_sql_and_changes_nothing(capsys, workdir, ref_db):
    migrations = workdir / "prisma" / "migrations"
    legacy_history(ref_db, migrations)
    migrate(capsys, ref_db)
    before, files = history(ref_db), tree(migrations)
    code, out, err = run(capsys, "prisma-history", "--database-url", ref_db, "--migrations", migrations, "--dry-run")
    assert code == 0, err
    want, _ = stored_plan_sql(ref_db, None)
    assert want in out and out.strip().splitlines()[-1].startswith("dry run: ")
    assert history(ref_db) == before and tree(migrations) == files


def test_the_folder_of_an_attempt_whose_row_is_missing_is_reused(capsys, workdir, ref_db):
    """A folder holding exactly this migration.sql but no row (its row deleted here) is
    the one recorded again: no second folder; the JSON of a dry run carries the SQL."""
    migrations = workdir / "prisma" / "migrations"
    legacy_history(ref_db, migrations)
    migrate(capsys, ref_db)
    code, out, err = run(capsys, "prisma-history", "--database-url", ref_db, "--migrations", migrations, "--json")
    assert code == 0, err
    name = json.loads(out)["migration"]
    conn = psycopg2.connect(ref_db)
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM _prisma_migrations WHERE migration_name = %s", (name,))
    conn.close()
    before, files = history(ref_db), tree(migrations)
    code, out, err = run(capsys, "prisma-history", "--database-url", ref_db, "--migrations", migrations,
                         "--dry-run", "--json")
    assert code == 0 and json.loads(out)["migration"] == name
    assert json.loads(out)["sql"] == (migrations / name / "migration.sql").read_text()
    code, out, err = run(capsys, "prisma-history", "--database-url", ref_db, "--migrations", migrations)
    assert code == 0, err
    check_recorded(ref_db, migrations, None, before, out)
    assert tree(migrations) == files


def test_a_failed_commit_leaves_neither_the_row_nor_the_folder(capsys, workdir, ref_db):
    """The row commits only with the file on disk; a commit that fails (here a deferred
    trigger that raises at COMMIT, after the file was written) removes the file again."""
    migrations = workdir / "prisma" / "migrations"
    legacy_history(ref_db, migrations)
    migrate(capsys, ref_db)
    conn = psycopg2.connect(ref_db)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE FUNCTION no_more() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$BEGIN RAISE EXCEPTION 'history is frozen'; END$$;"
                    "CREATE CONSTRAINT TRIGGER frozen AFTER INSERT ON _prisma_migrations "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION no_more()")
    conn.close()
    before, files = history(ref_db), tree(migrations)
    code, out, err = run(capsys, "prisma-history", "--database-url", ref_db, "--migrations", migrations)
    assert code == 1 and "history is frozen" in err, err
    assert history(ref_db) == before and tree(migrations) == files


@pytest.mark.parametrize("args, says", [
    (["--migrations", "no-such-folder"], "no such folder"),
    (["--migrations", ".", "--name", "bad name;"], "--name"),
    (["--migrations", ".", "--name", ""], "--name"),
])
def test_bad_arguments_exit_2_before_connecting(capsys, workdir, args, says):
    url = "postgresql://nobody:secret@127.0.0.1:1/none"
    for fmt in ((), ("--json",)):
        code, out, err = run(capsys, "prisma-history", "--database-url", url, *args, *fmt)
        assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err
        assert "cannot connect" not in err and "secret" not in err


# -- a database that is not the AI Assistant's -----------------------------------------------

@pytest.fixture
def tracker(capsys, workdir, empty_db):
    """The corpus' tracker database, its mapping (``mapping init``) and target schema."""
    corpus.build(empty_db, "tracker")
    mapping, target = workdir / "mapping.toml", workdir / "target.prisma"
    code, out, err = run(capsys, "mapping", "init", "--database-url", empty_db, "--convention", "snake_case_plural",
                         "--prisma-schema", corpus.folder("tracker") / "schema.prisma", "--out", mapping,
                         "--target-schema-out", target)
    assert code == 0, err
    return empty_db, mapping, target


def _baseline(url: str, migrations: Path, tk: Path | None) -> None:
    """The service's first migration, applied: its folder, and its row (by `prisma migrate
    resolve --applied`, which creates _prisma_migrations, when the toolkit is there)."""
    d = corpus.folder("tracker")
    migrations.mkdir(parents=True)
    (migrations / "migration_lock.toml").write_text('provider = "postgresql"\n')
    (migrations / "20240101000000_init").mkdir()
    sql = (d / "prisma.sql").read_text() + (d / "extras.sql").read_text()
    (migrations / "20240101000000_init" / "migration.sql").write_text(sql)
    if tk is not None:
        p = prisma(tk, url, d / "schema.prisma", migrations, "migrate", "resolve", "--applied", "20240101000000_init")
        assert p.returncode == 0, p.stderr + p.stdout
    else:
        conn = psycopg2.connect(url)
        with conn, conn.cursor() as cur:
            cur.execute(prisma_migrations_ddl())
            cur.execute("INSERT INTO _prisma_migrations (id, checksum, migration_name, finished_at, applied_steps_count) "
                        "VALUES (%s, %s, '20240101000000_init', now(), 1)",
                        (str(uuid.uuid4()), hashlib.sha256(sql.encode()).hexdigest()))
        conn.close()
    assert len(history(url)) == 1


def test_a_database_without_prisma_history_is_refused(capsys, workdir, tracker):
    url, mapping, _ = tracker
    migrate(capsys, url, "--mapping", mapping)
    migrations = workdir / "prisma" / "migrations"
    migrations.mkdir(parents=True)
    code, out, err = run(capsys, "prisma-history", "--database-url", url, "--mapping", mapping,
                         "--migrations", migrations)
    assert code == 2 and "_prisma_migrations" in err and "prisma migrate" in err, err
    assert len(err.strip().splitlines()) == 1
    assert history(url) == [] and list(migrations.iterdir()) == []


def test_the_corpus_history_records_the_plan_that_ran(capsys, workdir, tracker):
    url, mapping, _ = tracker
    migrations = workdir / "prisma" / "migrations"
    _baseline(url, migrations, corpus.toolkit())
    migrate(capsys, url, "--mapping", mapping)
    before = history(url)
    code, out, err = run(capsys, "prisma-history", "--database-url", url, "--mapping", mapping,
                         "--migrations", migrations, "--json")
    assert code == 0, err
    assert json.loads(out)["checksum"] == hashlib.sha256(
        (migrations / json.loads(out)["migration"] / "migration.sql").read_bytes()).hexdigest()
    check_recorded(url, migrations, mapping, before, "recorded: " + json.loads(out)["migration"])


# -- what the real Prisma CLI says -------------------------------------------------------------

def _toolkit() -> Path:
    tk = corpus.toolkit()
    if tk is None:
        pytest.skip("needs the Prisma toolkit (RUNBOOK_PRISMA_TOOLKIT)")
    return tk


def test_prisma_migrate_status_is_up_to_date_after_it_on_the_reference_database(capsys, workdir, ref_db):
    from runbook.mapping import load_mapping

    tk = _toolkit()
    migrations = workdir / "prisma" / "migrations"
    legacy_history(ref_db, migrations)
    target = load_mapping(None).service.target_schema
    migrate(capsys, ref_db)
    assert run(capsys, "prisma-history", "--database-url", ref_db, "--migrations", migrations)[0] == 0
    p = prisma(tk, ref_db, target, migrations, "migrate", "status")
    assert p.returncode == 0 and "Database schema is up to date!" in p.stdout, p.stdout + p.stderr
    assert "4 migrations found" in p.stdout  # the three of the service and the rename


def test_prisma_migrate_status_is_up_to_date_after_it_on_the_corpus(capsys, workdir, tracker):
    tk = _toolkit()
    url, mapping, target = tracker
    migrations = workdir / "prisma" / "migrations"
    _baseline(url, migrations, tk)
    migrate(capsys, url, "--mapping", mapping)
    assert run(capsys, "prisma-history", "--database-url", url, "--mapping", mapping,
               "--migrations", migrations)[0] == 0
    p = prisma(tk, url, target, migrations, "migrate", "status")
    assert p.returncode == 0 and "Database schema is up to date!" in p.stdout, p.stdout + p.stderr
    assert "2 migrations found" in p.stdout
    drift = subprocess.run([str(tk / "drift.sh"), url, str(target)], capture_output=True, text=True)
    assert drift.returncode == 0 and not corpus.drift_statements(drift.stdout), drift.stdout + drift.stderr


# -- prisma-schema --legacy ---------------------------------------------------------------------

def test_the_legacy_schema_of_the_corpus_maps_its_models_onto_the_renamed_tables(capsys, workdir, tracker):
    """No Node needed: the tracker's own (legacy) schema, mapped after its migration, is
    exactly the target schema mapping init wrote for it (the tracker's mapping adds no
    column), and runbook's own comparison with the live catalog finds no blocker."""
    url, mapping, target = tracker
    legacy = corpus.folder("tracker") / "schema.prisma"
    migrate(capsys, url, "--mapping", mapping)
    out = workdir / "legacy.prisma"
    code, text, err = run(capsys, "prisma-schema", "--database-url", url, "--mapping", mapping,
                          "--legacy", legacy, "--out", out)
    assert code == 0, err
    assert text.strip().splitlines()[-1].startswith("written: ")
    assert out.read_text() == target.read_text() != legacy.read_text()
    code, text, err = run(capsys, "check-schema", "--database-url", url, "--mapping", mapping,
                          "--target-schema", out)
    assert code == 0, err + text


_ISSUE_CHANGES = """
rename_columns = [{ from = "descriptionHtml", to = "description_html" }]
add_columns = [
  { name = "severity", type = "Severity", not_null = true, default = "LOW" },
  { name = "note", type = "varchar(80)" },
  { name = "reviewedAt", type = "timestamptz" },
  { name = "triageTypeId", type = "integer", references = { table = "IssueType", column = "id", on_delete = "SET NULL" } },
]
"""


def test_the_legacy_schema_gets_the_renamed_columns_and_added_fields_of_another_mapping(capsys, workdir, tracker):
    """On the corpus tracker, with a mapping that renames a column of Issue and adds an
    enum column, a varchar, a timestamptz and a foreign key to IssueType: the legacy
    schema keeps the model and field names, maps the column, declares the added fields
    and the relation, and runbook's comparison with the live tables finds nothing to
    warn of on Issue (with the toolkit: Prisma's drift is empty too)."""
    from runbook.prisma import parse

    url, mapping, _ = tracker
    text = mapping.read_text().replace('from = "Issue"\nto = "issues"\n', 'from = "Issue"\nto = "issues"\n' + _ISSUE_CHANGES)
    # the service of this mapping is the legacy one: mapping init's target does not apply
    text = text.replace('target_schema = "target.prisma"\n', "")
    mapping.write_text(text + '\n[[enums]]\nname = "Severity"\nvalues = ["LOW", "HIGH"]\n')
    migrate(capsys, url, "--mapping", mapping)
    out = workdir / "legacy.prisma"
    code, _, err = run(capsys, "prisma-schema", "--database-url", url, "--mapping", mapping,
                       "--legacy", corpus.folder("tracker") / "schema.prisma", "--out", out)
    assert code == 0, err
    issue = parse(out.read_text()).model("Issue")
    assert issue.db_name == "issues" and issue.field("descriptionHtml").db_name == "description_html"
    assert issue.field("severity").type == "Severity" and not issue.field("severity").optional
    assert issue.field("note").native_type == ("VarChar", ("80",))
    assert issue.field("issueType").relation.fields == ("triageTypeId",)
    bad = [f for f in _findings(capsys, url, out, "--mapping", mapping)
           if f["model"] == "Issue" and f["severity"] != "info"]
    assert bad == []
    tk = corpus.toolkit()
    if tk is not None:
        drift = subprocess.run([str(tk / "drift.sh"), url, str(out)], capture_output=True, text=True)
        assert drift.returncode == 0 and not corpus.drift_statements(drift.stdout), drift.stdout + drift.stderr


def test_prisma_schema_refuses_before_connecting_and_writes_nothing(capsys, workdir):
    url = "postgresql://nobody:secret@127.0.0.1:1/none"
    legacy = corpus.folder("tracker") / "schema.prisma"
    (workdir / "taken.prisma").write_text("keep me\n")
    for args, says in ((["--legacy", "missing.prisma", "--out", "o.prisma"], "no such file"),
                       (["--legacy", legacy, "--out", "taken.prisma"], "--force"),
                       (["--legacy", legacy, "--out", legacy], "input schema"),
                       (["--legacy", legacy, "--out", "no/such/dir/o.prisma"], "does not exist")):
        code, out, err = run(capsys, "prisma-schema", "--database-url", url, *args)
        assert code == 2 and says in err and len(err.strip().splitlines()) == 1, (args, err)
        assert "cannot connect" not in err and "secret" not in err
    assert (workdir / "taken.prisma").read_text() == "keep me\n"
    assert sorted(p.name for p in workdir.iterdir()) == ["taken.prisma"]


def test_prisma_schema_without_a_migration_is_refused(capsys, workdir, tracker):
    url, mapping, _ = tracker
    code, out, err = run(capsys, "prisma-schema", "--database-url", url, "--mapping", mapping,
                         "--legacy", corpus.folder("tracker") / "schema.prisma", "--out", workdir / "o.prisma")
    assert code == 2 and "runbook migrate" in err, err
    assert not (workdir / "o.prisma").exists()


_CRUD_JS = r"""
// node crud.cjs CLIENT_DIR URL: create, read, update and delete a chat session through the
// legacy models (User, AssistantChatSession), and read the row back from chat_sessions
const [clientDir, url] = process.argv.slice(2);
const { PrismaClient } = require(clientDir);
const { PrismaPg } = require("@prisma/adapter-pg");
const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
const out = {};
(async () => {
  const user = await db.user.findFirst({ orderBy: { email: "asc" } });
  const id = "legacy-client-" + Date.now();
  const made = await db.assistantChatSession.create({ data: { id, userId: user.id, sessionName: "from the legacy client" } });
  out.created = made.id === id && made.isActive === true;
  const read = await db.assistantChatSession.findUnique({ where: { id }, include: { User: true } });
  out.read = read.User.id === user.id && read.sessionName === "from the legacy client";
  await db.assistantChatSession.update({ where: { id }, data: { sessionName: "renamed" } });
  const raw = await db.$queryRawUnsafe("SELECT title FROM chat_sessions WHERE id = $1", id);
  out.updated = raw.length === 1 && raw[0].title === "renamed";
  await db.assistantChatSession.delete({ where: { id } });
  out.deleted = (await db.assistantChatSession.count({ where: { id } })) === 0;
  console.log(JSON.stringify(out));
  await db.$disconnect();
})().catch((e) => { console.error(String(e.message || e).trim().split("\n").slice(-2).join(" ")); process.exit(1); });
"""

_GENERATE_JS = """
const [tk, schema] = process.argv.slice(2);
const { prisma } = await import(tk + "/lib/common.mjs");
const r = prisma(["generate", "--schema", schema], { DATABASE_URL: undefined, PRZ_SCHEMA: undefined });
process.stdout.write(r.stdout); process.stderr.write(r.stderr); process.exit(r.status ?? 2);
"""


def client_crud(tk: Path, url: str, schema: Path, work: Path) -> subprocess.CompletedProcess:
    """Generate a Prisma Client from ``schema`` (the real CLI) into ``work``, then run
    :data:`_CRUD_JS` with it against ``url``."""
    work.mkdir()
    (work / "node_modules").symlink_to(tk / "node_modules")  # @prisma/client, the adapter
    gen = work / "schema.prisma"
    gen.write_text(f'generator client {{\n  provider = "prisma-client-js"\n  output   = "{work / "client"}"\n}}\n\n'
                   + schema.read_text())
    (work / "generate.mjs").write_text(_GENERATE_JS)
    (work / "crud.cjs").write_text(_CRUD_JS)
    p = subprocess.run(["node", str(work / "generate.mjs"), str(tk), str(gen)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr + p.stdout
    return subprocess.run(["node", str(work / "crud.cjs"), str(work / "client"), url], capture_output=True, text=True)


def test_a_legacy_client_works_on_the_renamed_tables_with_the_written_schema(capsys, workdir, ref_db):
    """The legacy service's schema (Prisma's own `db pull` of the reference database
    before the migration: models User, AssistantChatSession, no @@map): its client fails
    on the renamed tables; generated from the schema prisma-schema writes, the same code
    creates, reads, updates and deletes, and Prisma sees no drift."""
    tk = _toolkit()
    pulled = subprocess.run([str(tk / "pull.sh"), ref_db], capture_output=True, text=True)
    assert pulled.returncode == 0, pulled.stderr
    legacy = workdir / "legacy.prisma"
    legacy.write_text(pulled.stdout)
    assert "model AssistantChatSession {" in pulled.stdout and "@@map(" not in pulled.stdout
    migrate(capsys, ref_db)
    assert client_crud(tk, ref_db, legacy, workdir / "before").returncode == 1
    out = workdir / "mapped.prisma"
    code, text, err = run(capsys, "prisma-schema", "--database-url", ref_db, "--legacy", legacy, "--out", out)
    assert code == 0, err
    p = client_crud(tk, ref_db, out, workdir / "after")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"created": True, "read": True, "updated": True, "deleted": True}
    drift = subprocess.run([str(tk / "drift.sh"), ref_db, str(out)], capture_output=True, text=True)
    assert drift.returncode == 0 and not corpus.drift_statements(drift.stdout), drift.stdout + drift.stderr


# -- prisma-schema --reconcile ------------------------------------------------------------------

def _findings(capsys, url: str, schema: Path, *mapping: str) -> list[dict]:
    code, out, err = run(capsys, "check-schema", "--database-url", url, *mapping, "--target-schema", schema,
                         "--all", "--json")
    return json.loads(out)["findings"]


def test_the_reconciled_target_declares_what_the_tables_have(capsys, workdir, ref_db):
    """No Node needed: the AI Assistant's target leaves out users.passwordHash, the
    createdAt/updatedAt columns, legacy indexes and the foreign keys' ON DELETE CASCADE
    (runbook's own comparison lists them); reconciled, every one is declared with its
    exact name, and a second reconciliation adds nothing."""
    from runbook.mapping import load_mapping
    from runbook.prisma import parse

    target = load_mapping(None).service.target_schema
    migrate(capsys, ref_db)
    before = _findings(capsys, ref_db, target)
    assert {("User", "passwordHash"), ("ChatFolder", "createdAt")} <= {
        (f["model"], f["column"]) for f in before if f["check"] == "unknown column"}
    out = workdir / "reconciled.prisma"
    code, text, err = run(capsys, "prisma-schema", "--database-url", ref_db, "--reconcile", target, "--out", out)
    assert code == 0, err
    assert text.strip().splitlines()[-1].startswith("written: ")
    sch = parse(out.read_text())
    user = sch.model("User")
    assert user.field("passwordHash").type == "String" and not user.field("passwordHash").optional
    assert "chat_messages_sessionId_createdAt_idx" in {i.map for i in sch.model("ChatMessage").indexes}
    assert sch.model("ChatSession").field("user").relation.on_delete == "Cascade"
    assert _findings(capsys, ref_db, out) == []
    again = workdir / "again.prisma"
    code, text, err = run(capsys, "prisma-schema", "--database-url", ref_db, "--reconcile", out, "--out", again,
                          "--json")
    assert code == 0 and json.loads(text)["added"] == [] and again.read_text() == out.read_text()


def test_reconciled_schemas_have_no_prisma_drift(capsys, workdir, ref_db, tracker):
    """Prisma's own drift (migrate diff of the schema against the database) is empty for
    the reconciled AI Assistant target and for the reconciled corpus target."""
    from runbook.mapping import load_mapping

    tk = _toolkit()
    url, mapping, target = tracker
    migrate(capsys, ref_db)
    migrate(capsys, url, "--mapping", mapping)
    for db, schema, extra in ((ref_db, load_mapping(None).service.target_schema, ()),
                              (url, target, ("--mapping", mapping))):
        out = workdir / f"reconciled-{schema.stem}.prisma"
        code, text, err = run(capsys, "prisma-schema", "--database-url", db, *extra, "--reconcile", schema, "--out", out)
        assert code == 0, err
        drift = subprocess.run([str(tk / "drift.sh"), db, str(out)], capture_output=True, text=True)
        assert drift.returncode == 0 and not corpus.drift_statements(drift.stdout), drift.stdout + drift.stderr
    raw = subprocess.run([str(tk / "drift.sh"), ref_db, str(load_mapping(None).service.target_schema)],
                         capture_output=True, text=True)
    assert raw.returncode == 1 and "passwordHash" in raw.stdout  # what it fixes
