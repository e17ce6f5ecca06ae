"""pipeline: the notebooks run with papermill per environment, and the evidence archive.

Every run is a real ``runbook run`` (in-process, through the CLI) against a real copy of
the reference database, whose URL carries the test server's password: every test also
searches every archived file for that password.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import psycopg2
import pytest

from runbook import cli, pipeline
from runbook.connection import password_of
from runbook.errors import BadInput
from runbook.execute.backup import backup_bytes
from runbook.naming import qq
from snapshots import state

CHARTS = {"01-analysis": 3, "02-execute": 2, "03-verify": 2, "04-rollback": 2}
LEGACY = ["User", "AssistantFolder", "AssistantChatSession", "AssistantChatMessage"]
TARGET = ["users", "chat_folders", "chat_sessions", "chat_messages"]


# -- helpers -----------------------------------------------------------------------------------

def run(args: list[str], env: dict[str, str | None], cwd: Path) -> tuple[int, str]:
    """``runbook <args>`` in-process with ``env`` set (the kernels inherit it), in ``cwd``."""
    saved = {k: os.environ.get(k) for k in env}
    old_cwd = os.getcwd()
    out = io.StringIO()
    try:
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = cli.main(args)
    finally:
        os.chdir(old_cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue()


def charts(html: Path) -> int:
    """Images embedded in an HTML file as data:image/png."""
    return len(re.findall(r'<img [^>]*src="data:image/png;base64,', html.read_text()))


def archive(cwd: Path, env: str) -> Path:
    runs = sorted((cwd / "outputs" / env).iterdir())
    return runs[-1]


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def tables(url: str) -> set[str]:
    with psycopg2.connect(url) as c, c.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r[0] for r in cur.fetchall()}


def count(url: str, table: str) -> int:
    with psycopg2.connect(url) as c, c.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {qq('public', table)}")
        return cur.fetchone()[0]


def assert_no_secret(folder: Path, url: str) -> None:
    pw = password_of(url)
    assert pw, "the test URL must carry a password"
    leaks = [p.name for p in folder.rglob("*") if p.is_file() and pw.encode() in p.read_bytes()]
    assert leaks == []


def first_code_cell(html: Path) -> str:
    """The HTML of the first code cell of a report (only Markdown may come before it)."""
    cells = html.read_text().split('<div class="jp-Cell ')[1:]
    return next(c for c in cells if c.startswith("jp-CodeCell"))


def box_verdict(text: str) -> str | None:
    m = re.search(r"""class=['"]runbook-verdict['"] data-verdict=['"]([^'"]+)['"]""", text)
    return m.group(1) if m else None


def assert_error_on_top(html: Path, words: str) -> None:
    """The first cell of the HTML says that the notebook failed, and why."""
    text = html.read_text()
    cells = text.split('<div class="jp-Cell ')[1:]
    assert cells and ("An Exception was encountered" in cells[0] or "did not finish" in cells[0]), cells[:1]
    assert words in cells[0]


class _Hooks(BaseHTTPRequestHandler):
    """A local Slack webhook (POST) and health endpoint (GET)."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def do_GET(self):
        self.server.gets += 1
        code = 200 if self.server.healthy else 503
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *a):
        pass


@pytest.fixture
def hooks():
    srv = HTTPServer(("127.0.0.1", 0), _Hooks)
    srv.posts, srv.gets, srv.healthy = [], 0, True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()


@pytest.fixture
def fresh_db(pg, reference_template):
    """Another copy of the reference database (tests that need two)."""
    made = []

    def make() -> str:
        name = pg.create_db(template=reference_template)
        made.append(name)
        return pg.url(name)

    yield make
    for name in made:
        pg.drop_db(name)


# -- profiles --------------------------------------------------------------------------------------

def test_profiles_ship_the_spec_values():
    dev, stg, prod = (pipeline.load_profile(e) for e in pipeline.ENVIRONMENTS)
    assert (dev.auto_backup, dev.dry_run_default, dev.verbose_logging) == (False, True, True)
    assert (stg.auto_backup, stg.dry_run_default, stg.verbose_logging, stg.notify_slack) == (True, False, True, True)
    assert (prod.auto_backup, prod.dry_run_default, prod.verbose_logging, prod.notify_slack, prod.require_approval,
            prod.maintenance_mode) == (True, False, False, True, True, True)
    assert prod.require_staging_evidence and prod.health_url == "http://localhost:4130/health"
    assert prod.maintenance_after == ("pm2 restart ai-assistant",)


def test_profile_file_overrides_top_level_then_its_environment_table(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('cellTimeout = 9\nhealthUrl = "http://x"\n[production]\nhealthUrl = "http://y"\n'
                 'maintenanceBefore = ["true"]\n[staging]\ncellTimeout = 1\n')
    p = pipeline.load_profile("production", f)
    assert (p.cell_timeout, p.health_url, p.maintenance_before) == (9, "http://y", ("true",))
    assert p.require_approval  # untouched keys keep the shipped value
    assert pipeline.load_profile("development", f, {"autoBackup": True}).auto_backup


@pytest.mark.parametrize("text, error", [("autoBackupp = true", "unknown profile key 'autoBackupp'"),
                                         ("cellTimeout = '9'", "cellTimeout must be int"),
                                         ("maintenanceAfter = 'pm2 restart'", "must be a list of strings")])
def test_profile_file_is_validated(tmp_path, text, error):
    f = tmp_path / "p.toml"
    f.write_text(text)
    with pytest.raises(BadInput, match=error):
        pipeline.load_profile("staging", f)


# -- the manifest ---------------------------------------------------------------------------------

def test_manifest_detects_a_changed_byte_a_missing_and_an_added_file(tmp_path):
    d = tmp_path / "run"
    (d / "sub").mkdir(parents=True)
    (d / "summary.json").write_text('{"environment": "staging", "fingerprint": "ab", "verdict": "migrated"}')
    (d / "a.html").write_text("<html>charts</html>")
    (d / "sub" / "b.txt").write_bytes(b"\x00\x01 log")
    pipeline.write_manifest(d)
    assert (d / "MANIFEST.sha256").read_text().count("\n") == 3
    ok, msg = pipeline.check_evidence(d)
    assert ok and "3 files" in msg and "verdict migrated" in msg

    data = bytearray((d / "a.html").read_bytes())
    data[3] ^= 1
    (d / "a.html").write_bytes(bytes(data))
    ok, msg = pipeline.check_evidence(d)
    assert not ok and "a.html does not match" in msg
    data[3] ^= 1
    (d / "a.html").write_bytes(bytes(data))
    assert pipeline.check_evidence(d)[0]

    (d / "extra.txt").write_text("x")
    assert "extra.txt is not in the manifest" in pipeline.check_evidence(d)[1]
    (d / "extra.txt").unlink()
    (d / "sub" / "b.txt").unlink()
    assert "sub/b.txt is missing" in pipeline.check_evidence(d)[1]
    assert "not an evidence archive" in pipeline.check_evidence(tmp_path)[1]


def test_evidence_check_command_is_one_line_and_an_exit_code(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    pipeline.write_manifest(tmp_path)
    assert cli.main(["evidence", "check", str(tmp_path)]) == 0
    (tmp_path / "f").write_text("y")
    assert cli.main(["evidence", "check", str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert out.out.count("\n") == 1 and out.err.count("\n") == 1 and "TAMPERED" in out.err


# -- development -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dev_run(pg, reference_template, tmp_path_factory):
    """One executed development run on its own database, shared by the checks below."""
    import runbook

    name = pg.create_db(template=reference_template)
    url = pg.url(name)
    cwd = tmp_path_factory.mktemp("dev")
    # the scripts of the plan the run will execute, as `runbook plan` writes them (the profile's rollback)
    runbook.plan(url).write_scripts(cwd / "expected", pipeline.load_profile("development").rollback_drop_added_columns)
    code, out = run(["run", "--env", "development", "--execute"], {"DATABASE_URL": url}, cwd)
    yield code, out, archive(cwd, "development"), url
    pg.drop_db(name)


def test_development_run_archives_every_file(dev_run):
    code, out, folder, url = dev_run
    assert code == 0, out
    s = summary(folder)
    assert s["verdict"] == "migrated" and s["problems"] == []
    assert folder.name.endswith("-" + s["fingerprint"][:12])
    names = {p.name for p in folder.iterdir()}
    for nb in ("01-analysis", "02-execute", "03-verify"):
        assert {f"{nb}.ipynb", f"{nb}.html"} <= names
    assert "04-rollback.ipynb" not in names  # the verification passed
    assert {"analysis.json", "execute.json", "verify.json", "summary.json", "MANIFEST.sha256"} <= names
    assert [n for n in names if n.startswith("migration-log-") and n.endswith(".txt")] == s["logs"] != []
    assert s["backup"] is None and not [n for n in names if n.startswith("backup")]  # development: autoBackup off
    assert [n["status"] for n in s["notebooks"]] == ["ok", "ok", "ok", "not run"]
    assert s["versions"]["postgresql"].startswith("PostgreSQL") and s["versions"]["runbook"]
    assert {"papermill", "pandas", "matplotlib"} <= set(s["versions"]["dependencies"])
    assert len(s["steps"]) == s["operations"] and all(st["seconds"] >= 0 for st in s["steps"])
    assert s["verification"]["ok"] and s["reverification"]["ok"]
    # the terminal saw the cells' output as they ran (verbose profile) and the tqdm bar
    assert "▶ 02-execute" in out and "committed: exclusive locks held" in out and "migrate: 100%" in out


def test_a_profile_chooses_the_backup_mode_schema_and_changed_rows(ref_db, workdir):
    """The profile's backupMode is the run's ``--backup``: a development run with
    schema+changed archives the schema dump and the keys of the rows the plan fills, no
    dump of the rows, and its summary says what a restore from it cannot bring back."""
    (workdir / "p.toml").write_text('autoBackup = true\nbackupMode = "schema+changed"\n')
    code, out = run(["run", "--env", "development", "--execute", "--profile", "p.toml"], {"DATABASE_URL": ref_db},
                    workdir)
    assert code == 0, out
    folder = archive(workdir, "development")
    s = summary(folder)
    assert s["verdict"] == "migrated" and s["backup"]["kind"] == "schema+changed", s["backup"]
    assert "rows" in s["backup"]["holds"]
    names = {p.name for p in folder.iterdir()}
    assert any(n.endswith(".changed.json") for n in names), names
    backups = sorted(n for n in names if n.startswith("backup-"))
    assert [n.split(".", 1)[1] for n in backups] == ["changed-1.csv", "changed.json", "schema.dump"], backups
    assert summary(folder)["profile"]["backupMode"] == "schema+changed"


def test_development_manifest_verifies_and_catches_one_changed_byte(dev_run, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(dev_run[2], folder)
    code, out = run(["evidence", "check", str(folder)], {}, tmp_path)
    assert code == 0 and "ok:" in out
    html = folder / "02-execute.html"
    data = bytearray(html.read_bytes())
    data[len(data) // 2] ^= 0x20
    html.write_bytes(bytes(data))
    code, out = run(["evidence", "check", str(folder)], {}, tmp_path)
    assert code == 1 and "02-execute.html does not match" in out


def test_development_row_counts_are_the_databases(dev_run):
    _, _, folder, url = dev_run
    rows = summary(folder)["row_counts"]
    assert [r["name_now"] for r in rows][:4] == TARGET
    for r in rows:
        assert r["rows_after"] == count(url, r["name_now"]) == r["rows_before"]


def test_development_html_has_its_charts_and_opens_offline(dev_run):
    folder = dev_run[2]
    for nb in ("01-analysis", "02-execute", "03-verify"):
        text = (folder / f"{nb}.html").read_text()
        assert charts(folder / f"{nb}.html") >= CHARTS[nb], nb
        assert "cdnjs.cloudflare.com/ajax/libs/require.js" not in text and "mathjax" not in text.lower()
        assert 'alt="chart"' not in text  # every chart has its own alt text
        assert "Traceback" not in text and "papermill-error-cell" not in text


def test_development_reports_show_no_code_and_open_with_their_verdict(dev_run):
    folder = dev_run[2]
    for nb, word in (("01-analysis", "ready"), ("02-execute", "migrated"), ("03-verify", "verified")):
        text = (folder / f"{nb}.html").read_text()
        assert "import runbook" not in text and "report.setup(" not in text, nb  # no code cell's input
        assert "import runbook" in (folder / f"{nb}.ipynb").read_text(), nb  # the audit copy keeps it
        assert box_verdict(first_code_cell(folder / f"{nb}.html")) == word, nb
        params = json.loads((folder / f"{nb}.ipynb").read_text())["metadata"]["papermill"]["parameters"]
        # the parameters once: neither parameters cell, one table with one row per parameter that took effect
        assert "celltag_parameters" not in text and "celltag_injected-parameters" not in text, nb
        assert text.count("Parameters that took effect") == 1, nb
        table = text.split("Parameters that took effect")[1].split("</table>")[0]
        for name, value in params.items():
            shown = json.dumps(value) if isinstance(value, str) else repr(value)  # as the parameters cell writes it
            assert table.count(f">{name}<") == 1 and f">{html.escape(shown, quote=False)}<" in table, (nb, name)
    # the engine's log comes after the verdict, folded at the end
    text = (folder / "02-execute.html").read_text()
    assert text.index("runbook-verdict") < text.index("<details") < text.index("committed: exclusive locks held")


def test_development_index_links_every_file_and_says_the_verdict(dev_run):
    from urllib.parse import unquote

    folder = dev_run[2]
    page = (folder / "index.html").read_text()
    hrefs = {unquote(h) for h in re.findall(r"href='([^']+)'", page)}
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert hrefs <= files  # links only to files of the archive
    assert files <= hrefs  # and to every one: reports, notebooks, log, summary, manifest, rollback.sql
    assert {"rollback.sql", "MANIFEST.sha256", "summary.json", *summary(folder)["logs"]} <= hrefs
    assert box_verdict(page) == summary(folder)["verdict"] == "migrated"
    assert len(re.findall(r"<rect ", page)) == 3  # the timeline: one bar per notebook that ran
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", page)  # self-contained
    assert "  index.html" in (folder / "MANIFEST.sha256").read_text() and pipeline.check_evidence(folder)[0]


def test_development_archive_holds_the_rollback_of_the_plan_that_ran(dev_run):
    folder = dev_run[2]
    expected = folder.parents[2] / "expected"
    fp = summary(folder)["fingerprint"]
    for archived, written in (("rollback.sql", "rollback-table-rename.sql"),
                              ("migration.sql", "rename-tables-to-snake-case.sql")):
        head, _, rest = (folder / archived).read_text().partition("\n")
        assert rest == (expected / written).read_text(), archived
        assert "executed (migrate: migrated)" in head and f"Plan fingerprint: sha256:{fp}" in rest.split("\n\n")[0]


def test_development_archive_holds_no_password(dev_run):
    _, _, folder, url = dev_run
    assert_no_secret(folder, url)
    nb = json.loads((folder / "02-execute.ipynb").read_text())
    assert nb["metadata"]["papermill"]["parameters"]["database_url_env"] == "DATABASE_URL"
    assert summary(folder)["database"].count("***") == 1


def test_development_plans_only_by_default(ref_db, workdir):
    code, out = run(["run", "--env", "development"], {"DATABASE_URL": ref_db}, workdir)
    folder = archive(workdir, "development")
    s = summary(folder)
    assert code == 0 and s["verdict"] == "planned" and s["dry_run"] is True, out
    assert [n["status"] for n in s["notebooks"]] == ["ok", "ok", "not run", "not run"]
    assert set(LEGACY) <= tables(ref_db)  # nothing changed
    assert (folder / "02-execute.html").read_text().count("Dry run") >= 1
    assert box_verdict(first_code_cell(folder / "02-execute.html")) == "dry run"
    assert box_verdict((folder / "index.html").read_text()) == "dry run"
    assert "DRY RUN" in (folder / "rollback.sql").read_text().splitlines()[0]
    assert pipeline.check_evidence(folder)[0]
    assert_no_secret(folder, ref_db)


# -- failures --------------------------------------------------------------------------------------

def test_a_blocked_analysis_stops_the_run_before_anything_executes(ref_db, workdir):
    """A function that EXECUTEs a string naming an old table cannot be rewritten (RB101):
    the run says blocked (exit 2, as analyze does), runs no other notebook, changes nothing."""
    with psycopg2.connect(ref_db) as c, c.cursor() as cur:
        cur.execute("""CREATE FUNCTION public.user_count() RETURNS bigint LANGUAGE plpgsql AS $$
                       DECLARE n bigint; BEGIN EXECUTE 'SELECT count(*) FROM "User"' INTO n; RETURN n; END $$""")
    before = state(ref_db)
    code, out = run(["run", "--env", "development", "--execute"], {"DATABASE_URL": ref_db}, workdir)
    folder = archive(workdir, "development")
    s = summary(folder)
    assert code == 2 and s["verdict"] == "blocked", out
    assert "RB101" in s["message"] and "user_count" in s["message"]
    assert [n["status"] for n in s["notebooks"]] == ["ok", "not run", "not run", "not run"]
    assert box_verdict(first_code_cell(folder / "01-analysis.html")) == "blocked"
    assert box_verdict((folder / "index.html").read_text()) == "blocked"
    assert "BLOCKED" in (folder / "rollback.sql").read_text()
    assert state(ref_db) == before
    assert pipeline.check_evidence(folder)[0]
    assert_no_secret(folder, ref_db)



def test_a_failed_step_stops_the_run_and_its_html_shows_the_error_on_top(ref_db, workdir):
    code, out = run(["run", "--env", "development", "--execute"], {"DATABASE_URL": ref_db, "RUNBOOK_FAULT": "fail:4"},
                    workdir)
    folder = archive(workdir, "development")
    s = summary(folder)
    assert code == 1 and s["verdict"] == "failed", out
    assert [n["status"] for n in s["notebooks"]] == ["ok", "failed", "not run", "not run"]
    assert "injected failure at step 4" in s["message"]
    assert_error_on_top(folder / "02-execute.html", "injected failure at step 4")
    top = (folder / "02-execute.html").read_text().split('<div class="jp-Cell ')[1]
    assert box_verdict(top) == "failed" and s["fingerprint"] in top  # the error on top is a verdict box
    assert box_verdict((folder / "index.html").read_text()) == "failed"
    header = (folder / "rollback.sql").read_text().split("-- Rollback (spec 2.3)")[0]
    assert "failed" in header and "injected failure at step 4" in header and "NOT run" in header
    assert set(LEGACY) <= tables(ref_db) and not set(TARGET) & tables(ref_db)  # left as it was
    assert pipeline.check_evidence(folder)[0]
    assert_no_secret(folder, ref_db)


def test_a_failed_verification_runs_the_rollback_notebook(ref_db, workdir):
    env = {"DATABASE_URL": ref_db}
    assert run(["run", "--env", "development", "--execute"], env, workdir)[0] == 0
    # after the migration, writes to chat_folders fail: the re-verification's create/read/
    # update/delete through the target models fails (the plan has nothing left to do)
    with psycopg2.connect(ref_db) as c, c.cursor() as cur:
        cur.execute("CREATE FUNCTION public.reject_writes() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$BEGIN RAISE EXCEPTION 'chat_folders is read-only'; END$$; "
                    "CREATE TRIGGER reject_writes BEFORE INSERT ON public.chat_folders "
                    "FOR EACH ROW EXECUTE FUNCTION public.reject_writes()")
    code, out = run(["run", "--env", "development", "--execute"], env, workdir)
    folder = archive(workdir, "development")
    s = summary(folder)
    assert code == 1 and s["verdict"] == "rolled back", out
    assert [n["status"] for n in s["notebooks"]] == ["ok", "ok", "failed", "ok"]
    assert_error_on_top(folder / "03-verify.html", "chat_folders is read-only")
    assert charts(folder / "04-rollback.html") >= CHARTS["04-rollback"]
    assert box_verdict(first_code_cell(folder / "04-rollback.html")) == "rolled back"
    assert box_verdict((folder / "index.html").read_text()) == "rolled back"
    assert s["rollback"]["status"] == "rolled back" and s["final_verification_ok"] is True
    assert set(LEGACY) <= tables(ref_db) and not set(TARGET) & tables(ref_db)
    for r in s["row_counts"]:
        assert r["name_now"] == r["table"] and r["rows_after"] == count(ref_db, r["table"])
    assert pipeline.check_evidence(folder)[0]
    assert_no_secret(folder, ref_db)


def test_a_hung_cell_times_out_and_the_run_stops(ref_db, workdir):
    """A session holds a lock on "User": the LOCK TABLE waits (lockTimeout 10min), the cell
    exceeds cellTimeout, papermill interrupts the kernel, which cancels the query; the
    engine rolls back and the run fails, saved, long before the lock timeout.

    The cell timeout (30 s) has room for every cell that does not wait (imports, the
    analysis) on a busy machine, and the lock wait is far longer than it: what decides the
    outcome is the cause (the execute cell, interrupted at its cell timeout), never how
    fast the machine is. (With cellTimeout = 4 the import cells themselves could time out
    on a loaded 2-core machine, and the test failed for the wrong reason.)"""
    (workdir / "p.toml").write_text('cellTimeout = 30\nlockTimeout = "10min"\nattempts = 1\n')
    blocker = psycopg2.connect(ref_db)
    with blocker.cursor() as cur:
        cur.execute('LOCK TABLE "User" IN ACCESS SHARE MODE')
    try:
        code, out = run(["run", "--env", "development", "--execute", "--profile", "p.toml"],
                        {"DATABASE_URL": ref_db}, workdir)
    finally:
        blocker.rollback()
        blocker.close()
    folder = archive(workdir, "development")
    s = summary(folder)
    assert code == 1 and s["verdict"] == "failed", out
    # the cause: the analysis ran to the end, the execute notebook was interrupted at its cell timeout
    assert [n["status"] for n in s["notebooks"]][:2] == ["ok", "failed"], s["notebooks"]
    assert "cellTimeout = 30s" in s["message"] and "the database was left as it was" in s["message"]
    assert_error_on_top(folder / "02-execute.html", "cellTimeout = 30s")
    assert set(LEGACY) <= tables(ref_db)
    with psycopg2.connect(ref_db) as c, c.cursor() as cur:  # the interrupted run left no session behind
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name LIKE 'runbook%'")
        assert cur.fetchone()[0] == 0
    assert pipeline.check_evidence(folder)[0]


# -- staging and production ----------------------------------------------------------------------------

def test_production_needs_approval_and_a_verified_staging_run(fresh_db, workdir, hooks):
    prod, staging = fresh_db(), fresh_db()
    (workdir / "profile.toml").write_text(
        f'[production]\nmaintenanceBefore = ["touch before.flag"]\nmaintenanceAfter = ["touch after.flag"]\n'
        f'healthUrl = "{hooks.url}/health"\nhealthTimeout = 10\nbackupDir = "kept-backups"\n')
    slack = {"SLACK_WEBHOOK_URL": hooks.url + "/hook"}

    def production(*extra):
        code, out = run(["run", "--env", "production", "--profile", "profile.toml", *extra],
                        {"DATABASE_URL": prod, **slack}, workdir)
        folder = archive(workdir, "production")
        assert pipeline.check_evidence(folder)[0]
        assert_no_secret(folder, prod)
        return code, out, folder, summary(folder)

    # 1. no approval: the analysis runs (for the review), nothing executes
    code, out, folder, s = production()
    assert code == 2 and s["verdict"] == "refused" and "--approved-fingerprint" in s["message"], out
    fp = s["fingerprint"]
    assert [n["status"] for n in s["notebooks"]] == ["ok", "not run", "not run", "not run"]
    assert charts(folder / "01-analysis.html") >= CHARTS["01-analysis"]
    assert box_verdict(first_code_cell(folder / "01-analysis.html")) == "ready"
    assert box_verdict((folder / "index.html").read_text()) == "refused"
    header = (folder / "rollback.sql").read_text().split("-- Rollback (spec 2.3)")[0]
    assert "NOT run" in header and "refused" in header  # what would run, said so
    assert not (workdir / "before.flag").exists()
    # 2. another plan approved
    code, out, folder, s = production("--approved-fingerprint", "0" * 64)
    assert code == 2 and "is not the plan's" in s["message"]
    # 3. this plan approved, but no staging run of it
    code, out, folder, s = production("--approved-fingerprint", "sha256:" + fp)
    assert code == 2 and "staging" in s["message"] and s["approval"]["fingerprint_matches"] is True
    assert set(LEGACY) <= tables(prod)

    # staging: executes with a backup in the archive, and tells Slack
    code, out = run(["run", "--env", "staging"], {"DATABASE_URL": staging, **slack}, workdir)
    st = archive(workdir, "staging")
    s = summary(st)
    assert code == 0 and s["verdict"] == "migrated" and s["fingerprint"] == fp, out
    assert s["backup"]["in_archive"] and backup_bytes(st / s["backup"]["file"]) == s["backup"]["bytes"] > 0
    assert s["notification"]["sent"] and "staging" in hooks.posts[-1]["text"] and "migrated" in hooks.posts[-1]["text"]
    assert hooks.url not in json.dumps(s)  # the webhook URL is a secret too
    assert_no_secret(st, staging)

    # 4. a staging archive that fails its manifest is no evidence
    victim = st / "03-verify.html"
    data = victim.read_bytes()
    victim.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    code, out, folder, s = production("--approved-fingerprint", fp)
    assert code == 2 and "does not match its sha256" in s["message"], out
    victim.write_bytes(data)

    # 5. approved, with staging evidence: maintenance commands, health, backup kept elsewhere
    code, out, folder, s = production("--approved-fingerprint", fp)
    assert code == 0 and s["verdict"] == "migrated" and s["problems"] == [], out
    assert s["approval"]["staging_evidence"] == str(st)
    assert (workdir / "before.flag").exists() and (workdir / "after.flag").exists()
    assert s["maintenance"]["health"]["ok"] and hooks.gets >= 1
    assert s["backup"]["in_archive"] is False and (folder / "backup-pointer.txt").exists()
    assert Path(s["backup"]["file"]).parent == (workdir / "kept-backups").absolute()
    assert s["backup"]["sha256"] in (folder / "backup-pointer.txt").read_text()
    assert "production" in hooks.posts[-1]["text"] and folder.name in hooks.posts[-1]["text"]
    assert set(TARGET) <= tables(prod)
    for r in s["row_counts"]:
        assert r["rows_after"] == count(prod, r["name_now"]) == r["rows_before"]
    for nb in ("01-analysis", "02-execute", "03-verify"):
        assert charts(folder / f"{nb}.html") >= CHARTS[nb]
    # production is not verbose: no engine log lines in its notebooks
    assert "preflight ok" not in (folder / "02-execute.ipynb").read_text()


def test_health_check_failure_is_reported_and_fails_the_run(ref_db, workdir, hooks):
    hooks.healthy = False
    (workdir / "p.toml").write_text(f'maintenanceMode = true\nhealthUrl = "{hooks.url}/health"\nhealthTimeout = 2\n')
    code, out = run(["run", "--env", "development", "--execute", "--profile", "p.toml"], {"DATABASE_URL": ref_db},
                    workdir)
    s = summary(archive(workdir, "development"))
    assert code == 1 and s["verdict"] == "migrated", out
    assert not s["maintenance"]["health"]["ok"] and "HTTP 503" in s["problems"][0]


def test_demo_command_runs_the_development_pipeline_on_the_embedded_server(workdir):
    """`runbook demo` (the README's main command): a complete, verified archive."""
    from runbook.demo.server import LocalServer

    base = workdir / ".runbook" / "demo"
    try:
        code, out = run(["demo", "--dir", str(base), "--messages", "200"], {"DATABASE_URL": None}, workdir)
    finally:
        LocalServer.create(base).stop()
    folder = archive(workdir, "development")
    s = summary(folder)
    assert code == 0 and s["verdict"] == "migrated" and "demo migrated" in out, out
    # it says which server it leaves running, and the command that stops it
    assert "is still running" in out and f"runbook demo-db --stop --dir {base.absolute()}" in out, out
    assert s["backup"]["in_archive"] and (folder / s["backup"]["file"]).exists()  # the demo keeps a backup
    assert pipeline.check_evidence(folder)[0]
    for nb in ("01-analysis", "02-execute", "03-verify"):
        assert charts(folder / f"{nb}.html") >= CHARTS[nb]
