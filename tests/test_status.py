"""``runbook status`` (issue 14): where the database stands, read from the database itself
(the catalog and ``runbook.runs``), changing nothing.

Most tests use a small database of our own: two tables in schema ``ledger`` (not
``public``), with its own mapping; the finish-steps case uses the reference database,
whose plan has a finish step. Interruptions are real: ``runbook migrate`` killed by the
fault hooks of ``runbook/execute/faults.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

import runbook
from runbook.cli import main
from runbook.locks import ADVISORY_KEY
from runbook.pgbin import client_bin_dir

RUNBOOK = Path(sys.executable).with_name("runbook")

LEDGER_SQL = """
CREATE SCHEMA ledger;
CREATE TABLE ledger."Account" (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE ledger."Entry" (id bigserial PRIMARY KEY,
                             "accountId" int NOT NULL REFERENCES ledger."Account"(id), amount numeric NOT NULL);
INSERT INTO ledger."Account" (name) SELECT 'a' || g FROM generate_series(1, 5) g;
INSERT INTO ledger."Entry" ("accountId", amount) SELECT 1 + g % 5, g FROM generate_series(1, 50) g;
"""

LEDGER_MAPPING = """
schema = "ledger"
audit_table = false

[[tables]]
from = "Account"
to = "accounts"

[[tables]]
from = "Entry"
to = "entries"
"""


# -- helpers -------------------------------------------------------------------------------

def sql(url: str, statement: str, args=None):
    c = psycopg2.connect(url)
    c.autocommit = True
    try:
        with c.cursor() as cur:
            cur.execute(statement, args)
            return cur.fetchall() if cur.description else None
    finally:
        c.close()


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(args))
    return rc, out.getvalue(), err.getvalue()


def status_cli(url: str, mapping: str | None, *more: str) -> tuple[int, str, str]:
    return cli("status", "--database-url", url, *(("--mapping", mapping) if mapping else ()), *more)


def verdict(out: str) -> str:
    return out.strip().splitlines()[-1]


def run_args(url: str, mapping: str | None, work: Path) -> list[str]:
    return ["--database-url", url, *(["--mapping", mapping] if mapping else []), "--no-backup", "--no-progress",
            "--log-dir", str(work / "logs"), "--backup-dir", str(work / "backups")]


def migrate(url, mapping, work, *more) -> None:
    rc, out, err = cli("migrate", *run_args(url, mapping, work), *more)
    assert rc == 0, err + out


def rollback(url, mapping, work) -> None:
    rc, out, err = cli("rollback", *run_args(url, mapping, work))
    assert rc == 0, err + out


def lock_free(url: str, timeout: float = 20.0) -> bool:
    """No session holds runbook's advisory lock (a killed client's backend exits soon after)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = sql(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s",
                ((ADVISORY_KEY >> 32) & 0xFFFFFFFF, ADVISORY_KEY & 0xFFFFFFFF))[0][0]
        if n == 0:
            return True
        time.sleep(0.05)
    return False


def migrate_process(url, mapping, work, fault: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "RUNBOOK_FAULT": fault, **kw}
    return subprocess.Popen([str(RUNBOOK), "migrate", *run_args(url, mapping, work)], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def paused_migrate(url, mapping, work, fault: str) -> subprocess.Popen:
    """``runbook migrate`` paused by ``pause:<step>`` (it touches the pause file there)."""
    flag = work / "paused"
    p = migrate_process(url, mapping, work, fault, RUNBOOK_PAUSE_FILE=str(flag))
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, "the run never paused"
        time.sleep(0.05)
    return p


def kill(p: subprocess.Popen) -> None:
    p.send_signal(signal.SIGKILL)  # the process this test started, by its pid
    p.communicate(timeout=30)


def dump(url: str) -> str:
    """The whole schema, the runbook schema included, and runbook.runs' rows."""
    r = subprocess.run([str(client_bin_dir() / "pg_dump"), "--schema-only", f"--dbname={url}"], capture_output=True,
                       text=True, timeout=60, check=True)
    keep = "\n".join(l for l in r.stdout.splitlines() if l and not l.startswith(("--", "\\restrict", "\\unrestrict")))
    has_runs = sql(url, "SELECT to_regclass('runbook.runs') IS NOT NULL")[0][0]
    runs = sql(url, "SELECT to_jsonb(r)::text FROM runbook.runs r ORDER BY id") if has_runs else []
    return keep + "\n" + repr(runs)


# -- fixtures ------------------------------------------------------------------------------

@pytest.fixture
def ledger(empty_db):
    sql(empty_db, LEDGER_SQL)
    return empty_db


@pytest.fixture
def ledger_mapping(tmp_path):
    p = tmp_path / "ledger.toml"
    p.write_text(LEDGER_MAPPING)
    return str(p)


# -- the states ----------------------------------------------------------------------------

def test_a_fresh_database_is_not_migrated(ledger, ledger_mapping):
    rc, out, err = status_cli(ledger, ledger_mapping)
    assert rc == 0, err
    st = runbook.status(ledger, ledger_mapping)
    assert st.state == "not migrated" and st.history == () and st.last_run is None
    assert [(t.old, t.new, t.where) for t in st.tables] == [("Account", "accounts", "old"), ("Entry", "entries", "old")]
    assert verdict(out).startswith("not migrated: 2 tables under their old names")
    assert "runbook migrate" in st.next_step


def test_a_migrated_database_says_when_by_whom_which_plan_and_verified(ledger, ledger_mapping, workdir):
    migrate(ledger, ledger_mapping, workdir)
    role = sql(ledger, "SELECT session_user::text")[0][0]
    fp = sql(ledger, "SELECT fingerprint FROM runbook.runs")[0][0]
    st = runbook.status(ledger, ledger_mapping)
    assert st.state == "migrated"
    assert {t.where for t in st.tables} == {"new"}
    assert st.last_run.by == role and st.last_run.status == "migrated"
    rc, out, _ = status_cli(ledger, ledger_mapping)
    assert rc == 0
    assert verdict(out) == f"migrated {st.last_run.when} by {role}, plan {fp[:12]}, verified"


def test_a_committed_run_not_yet_verified_says_to_run_verify(ledger, ledger_mapping, workdir):
    """Killed after its COMMIT, before its verification (a real interruption)."""
    kill(paused_migrate(ledger, ledger_mapping, workdir, "pause:verify"))
    assert lock_free(ledger)
    st = runbook.status(ledger, ledger_mapping)
    assert st.state == "migrated" and st.last_run.status == "committed"
    assert verdict(status_cli(ledger, ledger_mapping)[1]).endswith("not verified yet: run runbook verify")
    assert st.next_step == "run `runbook verify`"
    # what it suggests works
    rc, out, err = cli("verify", "--database-url", ledger, "--mapping", ledger_mapping)
    assert rc == 0, err + out
    assert verdict(status_cli(ledger, ledger_mapping)[1]).endswith(", verified")


def test_a_rolled_back_database_says_when(ledger, ledger_mapping, workdir):
    migrate(ledger, ledger_mapping, workdir)
    rollback(ledger, ledger_mapping, workdir)
    finished = sql(ledger, "SELECT finished_at FROM runbook.runs")[0][0]
    st = runbook.status(ledger, ledger_mapping)
    assert st.state == "rolled back"
    assert {t.where for t in st.tables} == {"old"}
    assert st.last_run.status == "rolled back" and st.last_run.finished_at == finished
    assert verdict(status_cli(ledger, ledger_mapping)[1]).startswith(f"rolled back {st.last_run.when}")


def test_a_table_renamed_by_hand_is_half_migrated(ledger, ledger_mapping):
    sql(ledger, 'ALTER TABLE ledger."Entry" RENAME TO entries')
    st = runbook.status(ledger, ledger_mapping)
    assert st.state == "half-migrated"
    assert {t.old: t.where for t in st.tables} == {"Account": "old", "Entry": "new"}
    rc, out, _ = status_cli(ledger, ledger_mapping)
    assert rc == 0
    assert verdict(out).startswith("half-migrated: 1 of 2 tables renamed; run runbook migrate")
    assert "Entry -> entries: new" in out and "Account -> accounts: old" in out


def test_a_committed_run_whose_finish_steps_did_not_run_is_half_migrated(ref_db, workdir, monkeypatch):
    """The reference plan validates a foreign key after its COMMIT; that step fails (a
    real failure of the runner), so the run stays committed with its finish pending."""
    p = runbook.plan(ref_db)
    k = next(i + 1 for i, o in enumerate(p.ops) if o.phase == "finish")
    monkeypatch.setenv("RUNBOOK_FAULT", f"fail:{k}")
    rc, out, err = cli("migrate", *run_args(ref_db, None, workdir))
    monkeypatch.delenv("RUNBOOK_FAULT")
    assert rc == 1 and "committed" in err, err + out
    st = runbook.status(ref_db)
    assert st.state == "half-migrated" and st.last_run.status == "committed"
    assert {t.where for t in st.tables} == {"new"}
    assert "finish steps" in st.detail and "runbook migrate" in st.next_step
    assert "finish steps pending" in verdict(status_cli(ref_db, None)[1])
    migrate(ref_db, None, workdir)  # what it suggests: migrate finishes and verifies it
    assert runbook.status(ref_db).verdict.endswith(", verified")


def test_a_run_killed_in_its_lock_window_is_interrupted(ledger, ledger_mapping, workdir):
    p = migrate_process(ledger, ledger_mapping, workdir, "kill:1")
    p.communicate(timeout=120)
    assert p.returncode == -signal.SIGKILL
    assert lock_free(ledger)
    st = runbook.status(ledger, ledger_mapping)
    assert st.state == "interrupted" and st.last_run.status == "running"
    assert {t.where for t in st.tables} == {"old"}  # its transaction died with it
    assert "runbook migrate" in st.next_step
    assert verdict(status_cli(ledger, ledger_mapping)[1]).startswith("interrupted: migration")
    migrate(ledger, ledger_mapping, workdir)  # what it suggests: migrate recovers it first
    st = runbook.status(ledger, ledger_mapping)
    assert st.state == "migrated" and [r.status for r in st.history] == ["migrated", "abandoned"]


def test_a_run_in_progress_is_running_not_interrupted(ledger, ledger_mapping, workdir):
    p = paused_migrate(ledger, ledger_mapping, workdir, "pause:1")  # its lock transaction open
    try:
        st = runbook.status(ledger, ledger_mapping)
        assert st.state == "running" and st.last_run.status == "running"
        assert st.session and st.session.startswith("pid ")
    finally:
        kill(p)
    assert lock_free(ledger)
    assert runbook.status(ledger, ledger_mapping).state == "interrupted"



def test_a_rollback_that_died_while_restoring_is_interrupted(ledger, ledger_mapping, workdir):
    """The row as the rollback leaves it when it dies after its lock transaction, during
    its online NULL restore (``restore_online`` marks it ``restoring`` first): no fault
    hook stops the runner there, so the row is set as the runner sets it."""
    migrate(ledger, ledger_mapping, workdir)
    rollback(ledger, ledger_mapping, workdir)
    sql(ledger, "UPDATE runbook.runs SET status = 'restoring'")
    st = runbook.status(ledger, ledger_mapping)
    assert st.state == "interrupted" and st.last_run.status == "restoring"
    assert st.next_step.startswith("run `runbook rollback`")
    assert verdict(status_cli(ledger, ledger_mapping)[1]).endswith("; run runbook rollback")
    rollback(ledger, ledger_mapping, workdir)  # what it suggests: it finishes the rollback
    assert runbook.status(ledger, ledger_mapping).state == "rolled back"


def test_a_record_the_catalog_contradicts_is_inconsistent(ledger, ledger_mapping, workdir, tmp_path):
    migrate(ledger, ledger_mapping, workdir)
    sql(ledger, 'ALTER TABLE ledger.accounts RENAME TO "Account"; ALTER TABLE ledger.entries RENAME TO "Entry"')
    st = runbook.status(ledger, ledger_mapping)
    assert st.state == "inconsistent" and "recorded as migrated" in st.verdict
    # a mapping naming tables the database does not have: neither name exists
    other = tmp_path / "other.toml"
    other.write_text('schema = "ledger"\naudit_table = false\n[[tables]]\nfrom = "Ghost"\nto = "ghosts"\n')
    st = runbook.status(ledger, str(other))
    assert st.state == "inconsistent" and [t.where for t in st.tables] == ["missing"]

# -- history, JSON, read-only, older records, bad input -----------------------------------

def test_the_history_is_newest_first(ledger, ledger_mapping, workdir):
    migrate(ledger, ledger_mapping, workdir)
    rollback(ledger, ledger_mapping, workdir)
    migrate(ledger, ledger_mapping, workdir)
    ids = [r[0] for r in sql(ledger, "SELECT id FROM runbook.runs ORDER BY started_at DESC")]
    st = runbook.status(ledger, ledger_mapping)
    assert [r.id for r in st.history] == ids and len(ids) == 2
    assert [r.status for r in st.history] == ["migrated", "rolled back"]
    rc, out, _ = status_cli(ledger, ledger_mapping)
    assert out.index(ids[0]) < out.index(ids[1])


def test_json_has_the_same_facts_and_exit_code(ledger, ledger_mapping, workdir):
    migrate(ledger, ledger_mapping, workdir)
    rc, out, _ = status_cli(ledger, ledger_mapping, "--json")
    d = json.loads(out)
    assert rc == 0
    assert d["state"] == "migrated" and d["history"][0]["status"] == "migrated"
    assert d["tables"] == [{"old": "Account", "new": "accounts", "where": "new"},
                           {"old": "Entry", "new": "entries", "where": "new"}]
    assert d["last_run"]["by"] and d["verdict"].endswith(", verified")
    # --expect: 1 unless in that state, in either format
    assert status_cli(ledger, ledger_mapping, "--expect", "not migrated")[0] == 1
    assert status_cli(ledger, ledger_mapping, "--expect", "not migrated", "--json")[0] == 1
    assert status_cli(ledger, ledger_mapping, "--expect", "migrated", "--json")[0] == 0
    assert status_cli(ledger, ledger_mapping, "--expect", "rolled back", "--expect", "migrated")[0] == 0


def test_status_changes_nothing(ledger, ledger_mapping, workdir):
    before = dump(ledger)
    assert status_cli(ledger, ledger_mapping)[0] == 0
    assert status_cli(ledger, ledger_mapping, "--json")[0] == 0
    assert sql(ledger, "SELECT to_regnamespace('runbook')")[0][0] is None  # not even the schema
    assert dump(ledger) == before
    migrate(ledger, ledger_mapping, workdir)
    before = dump(ledger)
    assert status_cli(ledger, ledger_mapping)[0] == 0
    assert dump(ledger) == before


def test_status_reads_in_a_read_only_transaction(ledger, ledger_mapping, monkeypatch):
    """A write in its transaction is refused by the server (so none can slip in)."""
    status_module = sys.modules["runbook.status"]  # (runbook.status is the API function)

    def write(conn, m):
        with conn.cursor() as cur:
            cur.execute("CREATE SCHEMA runbook")

    monkeypatch.setattr(status_module, "_tables", write)
    with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
        runbook.status(ledger, ledger_mapping)


def test_runs_recorded_without_the_role_show_unknown(ledger, ledger_mapping, workdir):
    migrate(ledger, ledger_mapping, workdir)
    sql(ledger, "ALTER TABLE runbook.runs DROP COLUMN run_by")  # as an older runbook left it
    rc, out, err = status_cli(ledger, ledger_mapping)
    assert rc == 0, err
    assert " by unknown, plan " in verdict(out)
    # the next run adds the column (state.ensure) and records its role; the older row stays unknown
    rollback(ledger, ledger_mapping, workdir)
    migrate(ledger, ledger_mapping, workdir)
    role = sql(ledger, "SELECT session_user::text")[0][0]
    assert [r.by for r in runbook.status(ledger, ledger_mapping).history] == [role, None]


@pytest.mark.parametrize("fmt", [(), ("--json",)])
def test_bad_input_is_one_line_and_exit_2(tmp_path, fmt):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[tables]]\nfrom = "A"\nto = "a; DROP TABLE x"\n')
    # a mapping refused before connecting: the URL names no server
    nowhere = "postgresql://someone:s3cretpw@127.0.0.1:1/nowhere"
    for args, why in ((["--database-url", nowhere, "--mapping", str(bad)], "contains ';'"),
                      (["--database-url", "postgresql://someone:s3cretpw@host/db?badopt=1"], "not a valid"),
                      (["--database-url", nowhere, "--mapping", str(tmp_path / "missing.toml")], "cannot read")):
        rc, out, err = cli("status", *args, *fmt)
        assert rc == 2 and why in err, (args, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert "s3cretpw" not in err + out and out == ""


def test_make_lab_opens_only_while_the_tables_have_their_old_names(ledger, ledger_mapping, workdir):
    """``make lab`` runs ``runbook status`` with the Makefile's ``--expect`` states before it
    opens 01-analysis: fresh and rolled back pass; migrated or half-migrated do not."""
    import re
    import shlex

    recipe = (Path(__file__).parents[1] / "Makefile").read_text().split("\nlab:")[1].split("\n\n")[0]
    expect = shlex.split(re.search(r"runbook status ((?:--expect '[^']+' ?)+)", recipe).group(1))
    assert "--allow-root" in recipe

    def lab_opens() -> bool:
        rc = status_cli(ledger, ledger_mapping, *expect)[0]
        assert rc in (0, 1)
        return rc == 0

    assert lab_opens()
    sql(ledger, 'ALTER TABLE ledger."Entry" RENAME TO entries')
    assert not lab_opens()
    sql(ledger, 'ALTER TABLE ledger.entries RENAME TO "Entry"')
    migrate(ledger, ledger_mapping, workdir)
    assert not lab_opens()
    rollback(ledger, ledger_mapping, workdir)
    assert lab_opens()
