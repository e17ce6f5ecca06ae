"""The committed scripts under sql/ are the plan for the reference database, and they
do by hand (psql) exactly what `runbook migrate` / `runbook rollback` do."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import runbook
from runbook.execute.backup import _env_and_url, _tool
from runbook.plan import MIGRATION_FILE, ROLLBACK_FILE
from snapshots import scalar, state

SQL = Path(__file__).resolve().parent.parent / "sql"


def psql_file(url: str, path: Path) -> None:
    env, plain = _env_and_url(url)
    subprocess.run([str(_tool("psql")), "-X", "-q", "-v", "ON_ERROR_STOP=1", f"--dbname={plain}", "-f", str(path)],
                   check=True, capture_output=True, text=True, env=env)


def test_committed_scripts_are_in_sync_with_the_plan(ref_db, tmp_path):
    major = scalar(ref_db, "SELECT current_setting('server_version_num')::int") // 10000
    if major < 18:
        pytest.skip("the committed scripts are generated on PostgreSQL 18, which also names NOT NULL constraints")
    p = runbook.plan(ref_db)
    p.write_scripts(tmp_path)
    for name in (MIGRATION_FILE, ROLLBACK_FILE):
        assert (SQL / name).read_text() == (tmp_path / name).read_text(), f"sql/{name} is stale: run `runbook plan`"


def test_scripts_by_hand_do_what_the_runner_does(pg, reference_template, ref_db, tmp_path):
    original = state(ref_db)
    p = runbook.plan(ref_db)
    fwd, back = p.write_scripts(tmp_path, drop_added=True)
    psql_file(ref_db, fwd)
    other = pg.url(pg.create_db(template=reference_template))
    try:
        runbook.migrate(other, backup_dir=str(tmp_path / "b"), log_dir=str(tmp_path / "l"), progress=False)
        assert state(ref_db) == state(other)
    finally:
        pg.drop_db(other.rsplit("/", 1)[1])
    psql_file(ref_db, back)
    assert state(ref_db) == original
