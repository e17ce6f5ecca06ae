"""The corpus end to end: databases runbook was not designed for (tests/data/corpus/).

Per schema: ``mapping init`` (snake_case_plural) -> ``migrate`` -> ``verify`` -> Prisma's
own drift check against the target schema mapping init wrote -> ``rollback
--drop-added-columns`` -> ``pg_dump --schema-only`` and every table's rows as before.

The drift check needs the Prisma toolkit (``RUNBOOK_PRISMA_TOOLKIT`` pointing at an
installed copy of ../shared/prisma-toolkit). Without it the test fails in CI (``CI=true``)
and is skipped locally once every other step has passed, with the reason: it never
passes without that check.

The figures of every run (tables renamed, operations, lock window, drift statements,
seconds per command, the first failing step) are written to ``corpus-report.json`` and
``corpus-report.md`` in pytest's base temporary folder (and to ``$RUNBOOK_CORPUS_REPORT``
and the ``.md`` beside it, when set) and printed at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import corpus

NAMES = corpus.names()
_RECORDS: list[dict] = []


def _no_toolkit_reason() -> str:
    return ("Prisma drift not checked: RUNBOOK_PRISMA_TOOLKIT is not set (an installed copy of "
            "../shared/prisma-toolkit; see .ci/run)")


def _toolkit_or_fail():
    tk = corpus.toolkit()
    if tk is None and os.environ.get("CI", "").lower() == "true":
        pytest.fail(_no_toolkit_reason())
    return tk


@pytest.fixture(scope="module", autouse=True)
def _report(request, tmp_path_factory):
    yield
    if not _RECORDS:
        return
    base = tmp_path_factory.getbasetemp()
    table = corpus.report_table(_RECORDS)
    # pytest prunes old base folders (other sessions too): RUNBOOK_CORPUS_REPORT keeps a copy
    keep = os.environ.get("RUNBOOK_CORPUS_REPORT")
    for path in [base / "corpus-report.json"] + ([Path(keep)] if keep else []):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_RECORDS, indent=2, default=str))
        path.with_suffix(".md").write_text(table + "\n")
    tr = request.config.pluginmanager.getplugin("terminalreporter")

    def show():  # after the run, outside output capture
        if tr is not None:
            tr.write_line("")
            tr.write_line(f"corpus figures ({base / 'corpus-report.md'}):")
            for line in table.splitlines():
                tr.write_line(line)

    request.config.add_cleanup(show)


def test_corpus_is_large_and_varied():
    """The corpus holds at least 8 schemas, three of them with 40 or more models, and
    between them the features the issue names."""
    assert len(NAMES) >= 8, NAMES
    models = {n: (corpus.folder(n) / "schema.prisma").read_text().count("\nmodel ") for n in NAMES}
    assert sum(v >= 40 for v in models.values()) >= 3, models
    prisma = "\n".join((corpus.folder(n) / "schema.prisma").read_text() for n in NAMES)
    extras = "\n".join((corpus.folder(n) / "extras.sql").read_text() for n in NAMES)
    for needle in ("@@id(", "@@map(", "@map(", "@@schema(", "enum ", "multiSchema"):
        assert needle in prisma, needle
    for needle in ("PARTITION BY", "CREATE POLICY", "ENABLE ROW LEVEL SECURITY", "CREATE VIEW", "CREATE TRIGGER",
                   "RAISE EXCEPTION", "GRANT ", "-- reads"):
        assert needle in extras, needle


@pytest.mark.parametrize("name", NAMES)
def test_corpus_builds(pg, name):
    """Prisma's DDL, the extras and the seed load; every table has rows; and, with the
    toolkit, prisma.sql is what Prisma generates today and the built database has no
    drift against schema.prisma (so any drift after the migration is runbook's)."""
    db = pg.create_db()
    url = pg.url(db)
    try:
        corpus.build(url, name)
        empty = [t for t, n in corpus.row_counts(url).items() if n == 0]
        assert not empty, f"tables without rows: {empty}"
        tk = _toolkit_or_fail()
        if tk is None:
            pytest.skip(_no_toolkit_reason())
        d = corpus.folder(name)
        ddl = subprocess.run([str(tk / "ddl.sh"), str(d / "schema.prisma")], capture_output=True, text=True)
        assert ddl.returncode == 0, ddl.stderr
        assert ddl.stdout == (d / "prisma.sql").read_text(), "prisma.sql is stale: run tests/data/corpus/regenerate.sh"
        p = subprocess.run([str(tk / "drift.sh"), url, str(d / "schema.prisma")], capture_output=True, text=True)
        stmts = corpus.drift_statements(p.stdout)
        assert p.returncode == 0 and not stmts, f"the corpus database drifts from its own schema: {stmts[:3]} {p.stderr[-300:]}"
    finally:
        pg.drop_db(db)


@pytest.mark.parametrize("name", NAMES)
def test_corpus_end_to_end(pg, tmp_path, name):
    """mapping init -> migrate -> verify -> no Prisma drift -> rollback -> as before."""
    tk = _toolkit_or_fail()
    db = pg.create_db()
    url = pg.url(db)
    record: dict = {"schema": name}
    _RECORDS.append(record)
    try:
        corpus.build(url, name)
        record["tables"] = corpus.table_count(url)
        try:
            corpus.run_sequence(url, name, tmp_path, tk, record)
        except corpus.StepFailed as e:
            record["failed_step"], record["message"] = e.step, e.message
        if record["failed_step"]:
            pytest.fail(f"{name}: first failing step {record['failed_step']}: {record['message']}", pytrace=False)
        if tk is None:
            record["skipped"] = "drift not checked"
            pytest.skip("every other step passed; " + _no_toolkit_reason())
    finally:
        (tmp_path / "record.json").write_text(json.dumps(record, indent=2, default=str))
        pg.drop_db(db)
