"""report: the tables and charts the notebooks show, from real API results."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest
from IPython.display import HTML, Markdown
from IPython.lib.pretty import pretty

import runbook
from runbook import report
from runbook.connection import password_of, redact
from runbook.errors import BadInput, RollbackFailed, VerificationFailed
from runbook.execute import RunResult, StepResult
from runbook.plan import Plan
from runbook.verify import Check, Kind, TableCount, Verification

PNG = b"\x89PNG\r\n\x1a\n"


def _shown(obj) -> str:
    """What a notebook would store for this output: its HTML, or its text."""
    if hasattr(obj, "_repr_html_"):
        return obj._repr_html_()
    if isinstance(obj, (HTML, Markdown)):
        return obj.data
    return repr(obj)


def test_database_url_shows_itself_redacted():
    url = report.DatabaseURL("postgresql://app:s3cr3t-pw@db.example.com:5432/prod")
    assert "s3cr3t-pw" not in repr(url)
    assert "s3cr3t-pw" not in pretty(url)
    assert "app:***@db.example.com" in repr(url)
    assert url == "postgresql://app:s3cr3t-pw@db.example.com:5432/prod"  # the value is intact


def test_database_url_comes_from_the_named_variable(monkeypatch):
    monkeypatch.setenv("RB_TEST_URL", "postgresql://u:p@localhost/x")
    assert report.database_url("RB_TEST_URL") == "postgresql://u:p@localhost/x"
    monkeypatch.delenv("RB_TEST_URL")
    with pytest.raises(BadInput, match="RB_TEST_URL is not set"):
        report.database_url("RB_TEST_URL", allow_demo=False)


def test_output_folder_defaults_to_the_project_outputs(workdir):
    (workdir / "pyproject.toml").write_text('[project]\nname = "runbook"\n')
    (workdir / "notebooks").mkdir()
    import os

    os.chdir(workdir / "notebooks")  # notebooks run in their own folder
    assert report.project_root() == workdir
    assert report.output_folder("") == workdir / "outputs" / "notebooks"
    assert report.output_folder(str(workdir / "x")) == workdir / "x"


def test_save_writes_the_api_result_as_json(tmp_path):
    v = Verification((Check("a", True, "fine", kind=Kind.RUN),), (TableCount("User", "users", 3, 3, None, None, "catalog"),))
    p = report.save(v, tmp_path, "verify")
    d = json.loads(p.read_text())
    assert d["ok"] is True and d["counts"][0]["rows_after"] == 3


def test_failed_verification_raises_so_papermill_marks_the_notebook():
    ok = Verification((Check("table users exists", True, kind=Kind.TABLE),))
    assert isinstance(report.raise_for_failed(ok), HTML)
    bad = Verification((Check("table users exists", True, kind=Kind.TABLE), Check("no function names an old table", False, "f()", kind=Kind.FUNCTION)))
    with pytest.raises(VerificationFailed, match="1 of 2 checks.*no function names an old table"):
        report.raise_for_failed(bad)
    failed_rollback = RunResult("r1", "rollback", "failed", "0" * 64, Plan("public", (), ()), verification=bad)
    with pytest.raises(RollbackFailed, match="rollback r1 failed"):
        report.raise_for_failed(failed_rollback)


def test_nothing_to_show_is_said_in_words():
    dry = RunResult("r", "dry-run", "planned", "0" * 64, Plan("public", (), ()))
    for fn in (report.step_chart, report.lock_waits, report.audit_rows, report.backup,
               report.row_counts, report.row_count_chart, report.checks):
        assert isinstance(fn(dry), Markdown), fn.__name__
    assert "dry run" in report.backup(dry).data


def test_charts_are_png_with_alt_text():
    steps = tuple(StepResult(i, "lock" if i > 1 else "prepare", "rename table", f"rename table T{i} -> t{i}",
                             0.0001 * i, 0.00005 if i == 2 else 0.0) for i in range(1, 6))
    r = RunResult("r", "migrate", "migrated", "0" * 64, Plan("public", (), ()), steps, lock_window_s=0.002,
                  lock_wait_s=0.00005, attempts=1)
    for chart in (report.step_chart(r), report.lock_waits(r)):
        data, meta = chart._repr_png_()
        assert data.startswith(PNG) and meta["alt"]


def test_every_view_of_a_real_migration(ref_db, workdir):
    """analyze -> migrate -> verify -> rollback on the reference database: every table
    and chart renders, agrees with the API's numbers, and never shows the password."""
    pw = password_of(ref_db)
    shown: list[str] = []

    a = runbook.analyze(ref_db, backup_dir=str(workdir))
    views = [report.overview(a), report.tables_to_rename(a), report.table_sizes_chart(a), report.conflicts(a),
             report.references_chart(a, "User"), report.references(a, "User"), report.at_risk(a),
             report.blockers(a), report.plan_chart(a), report.plan_steps(a), report.plan_sql(a), report.estimate(a),
             report.fingerprint(a), report.context("development", report.DatabaseURL(ref_db))]
    t = report.tables_to_rename(a)
    assert list(t.df["from"]) == [x.old for x in a.tables] and list(t.df["rows"]) == [x.rows for x in a.tables]
    refs = report.references(a, "User")
    direct = [f for f in a.foreign_keys if f.references == "User"]
    assert len(refs.df[refs.df["references"] == "User"]) == len(direct) > 10
    assert a.fingerprint in report.fingerprint(a).data
    assert len(report.plan_steps(a)) == len(a.plan.ops)

    r = runbook.migrate(ref_db, backup_dir=str(workdir), log_dir=str(workdir), progress=False)
    views += [report.run_overview(r), report.preflight(r), report.backup(r), report.steps(r), report.step_chart(r),
              report.lock_waits(r), report.audit_rows(r), report.verdict(r)]
    assert len(report.steps(r)) == len(r.steps) == len(a.plan.ops)
    assert list(report.audit_rows(r).df["event"]) == [x["event"] for x in r.audit_rows]
    assert "backup-" in _shown(report.backup(r))

    v = runbook.verify(ref_db)
    views += [report.verdict(v), report.row_counts(v), report.row_count_chart(v), report.checksums(v),
              report.checks(v), report.checks_chart(v), report.raise_for_failed(v)]
    counts = report.row_counts(v).df
    assert list(counts["rows after"]) == [c.rows_after for c in v.counts] == [c.rows_before for c in v.counts]
    assert set(counts["result"]) == {"pass"}
    assert len(report.checks(v)) == len(v.checks)

    back = runbook.rollback(ref_db, drop_added_columns=True, log_dir=str(workdir), progress=False)
    views += [report.run_overview(back), report.steps(back), report.step_chart(back), report.row_counts(back),
              report.row_count_chart(back), report.checks(back), report.raise_for_failed(back)]
    assert list(report.row_counts(back).df["table after"]) == [t.old for t in a.tables]

    charts = [x for x in views if isinstance(x, report.Chart)]
    assert len(charts) == 9
    for c in charts:
        assert c.png().startswith(PNG)
    shown += [_shown(x) for x in views]
    assert all(shown)
    if pw:
        assert not [s for s in shown if pw in s]
    host = urlsplit(ref_db).hostname
    assert any(host in s for s in shown)  # the redacted URL is shown


# -- the verdict box and the archived scripts ---------------------------------------------------------

NOTES = Path(__file__).parent / "data" / "notes"


def box_verdict(markup: str) -> str | None:
    """The verdict word of the first verdict box in ``markup``."""
    m = re.search(r"""class=['"]runbook-verdict['"] data-verdict=['"]([^'"]+)['"]""", markup)
    return m.group(1) if m else None


@pytest.fixture
def notes(empty_db, tmp_path):
    """The notes database (tests/data/notes, not the demo's) and its mapping."""
    with psycopg2.connect(empty_db) as c, c.cursor() as cur:
        cur.execute((NOTES / "schema.sql").read_text())
    for f in ("mapping.toml", "target.prisma"):
        shutil.copy(NOTES / f, tmp_path / f)
    return empty_db, str(tmp_path / "mapping.toml")


def test_the_verdict_box_of_an_analysis_says_ready_then_blocked(notes, tmp_path):
    url, mapping = notes
    a = runbook.analyze(url, mapping, backup_dir=str(tmp_path))
    box = report.verdict_box(a, environment="staging", url=url).data
    assert box_verdict(box) == "ready" and report.TONES["green"][0] in box
    assert "staging" in box and f"sha256:{a.fingerprint}" in box and html.escape(redact(url)) in box
    assert password_of(url) and password_of(url) not in box
    assert f">{len(a.tables)}/{len(a.tables)}<" in box  # tables to rename
    # a function that EXECUTEs a string naming an old table blocks the plan
    with psycopg2.connect(url) as c, c.cursor() as cur:
        cur.execute("""CREATE FUNCTION public.count_notes() RETURNS bigint LANGUAGE plpgsql AS $$
                       DECLARE n bigint; BEGIN EXECUTE 'SELECT count(*) FROM "Note"' INTO n; RETURN n; END $$""")
    b = runbook.analyze(url, mapping, backup_dir=str(tmp_path))
    assert b.plan.blockers
    box = report.verdict_box(b, environment="staging", url=url).data
    assert box_verdict(box) == "blocked" and report.TONES["red"][0] in box and "count_notes" in box


def test_the_verdict_box_of_each_result_has_its_word_and_colour():
    plan = Plan("app", (), ())
    v_ok = Verification((Check("table users exists", True, kind=Kind.TABLE),),
                        (TableCount("User", "users", 7, 7, None, None, "catalog"),))
    v_bad = Verification((Check("table users exists", True, kind=Kind.TABLE),
                          Check("no function names an old table", False, "f()", kind=Kind.FUNCTION)))
    cases = [
        (RunResult("r", "migrate", "migrated", "a" * 64, plan, lock_window_s=0.0042, verification=v_ok), "migrated",
         "green", ["4.2 ms", "1/1", ">7<"]),
        (RunResult("r", "dry-run", "planned", "b" * 64, plan), "dry run", "grey", ["Nothing was changed"]),
        (RunResult("r", "migrate", "failed", "c" * 64, plan, message="lock timeout on users"), "failed", "red",
         ["lock timeout on users"]),
        (RunResult("r", "rollback", "rolled back", "d" * 64, plan, verification=v_ok), "rolled back", "amber", ["1/1"]),
        (v_ok, "verified", "green", ["1/1"]),
        (v_bad, "failed", "red", ["no function names an old table: f()", "1/2"]),
    ]
    for obj, word, tone, shown in cases:
        box = report.verdict_box(obj, environment="production", url="postgresql://app:s3cr3t@db.example/x",
                                 fingerprint="e" * 64 if isinstance(obj, Verification) else None).data
        assert box_verdict(box) == word and report.TONES[tone][0] in box, (word, box)
        assert "s3cr3t" not in box and "app:***@db.example" in box
        assert f"sha256:{getattr(obj, 'fingerprint', 'e' * 64)}" in box
        for s in shown:
            assert s in box, (word, s)


def test_the_archived_scripts_are_the_plans_own_with_what_ran_in_the_header(notes, tmp_path):
    url, mapping = notes
    a = runbook.analyze(url, mapping, backup_dir=str(tmp_path))
    fwd, back = a.plan.write_scripts(tmp_path / "expected", drop_added=True)
    out = tmp_path / "archive"
    out.mkdir()
    m, r = report.save_scripts(a, out, drop_added_columns=True)
    assert (m.name, r.name) == ("migration.sql", "rollback.sql")
    head, _, rest = r.read_text().partition("\n")
    assert rest == back.read_text() and m.read_text().partition("\n")[2] == fwd.read_text()
    assert "NOT run" in head and f"Plan fingerprint: sha256:{a.fingerprint}" in rest.split("\n\n")[0]
    dry = runbook.migrate(url, mapping, dry_run=True, backup=False, log_dir=str(tmp_path), progress=False)
    _, r = report.save_scripts(dry, out, drop_added_columns=True)
    head, _, rest = r.read_text().partition("\n")
    assert "DRY RUN" in head and rest == back.read_text()
    done = runbook.migrate(url, mapping, backup=False, log_dir=str(tmp_path), progress=False)
    assert done.status == "migrated"
    _, r = report.save_scripts(done, out, drop_added_columns=True)
    head, _, rest = r.read_text().partition("\n")
    assert f"run {done.run_id} executed" in head and rest == back.read_text()
