"""report: the tables and charts the notebooks show, from real API results."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from IPython.display import HTML, Markdown
from IPython.lib.pretty import pretty

import runbook
from runbook import report
from runbook.connection import password_of
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
