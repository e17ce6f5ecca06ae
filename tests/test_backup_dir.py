"""``migrate --backup-jobs N``: a directory-format backup (``pg_dump -Fd -j N``), fsynced
file by file and as a directory, verified with ``pg_restore --list`` before the first
change, and restorable with ``runbook restore``, as the custom-format file is."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg2
import pytest

import runbook
from runbook.cli import main
from runbook.errors import BadInput
from runbook.execute import backup as backup_mod
from runbook.execute.backup import BackupJob
from runbook.pgbin import client_bin_dir
from crm import DDL, MAPPING
from snapshots import execute, state
from test_dump_readiness import app, cli, one_line  # noqa: F401 (the fixture)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def migrate(capsys, url, mapping, tmp_path, *args):
    return run(capsys, "migrate", "--database-url", url, "--mapping", mapping, "--no-progress",
               "--log-dir", str(tmp_path / "logs"), "--backup-dir", str(tmp_path / "backups"), *args)


def rows(url: str) -> dict[str, int]:
    c = psycopg2.connect(url)
    with c.cursor() as cur:
        cur.execute("SELECT count(*) FROM crm.\"Account\"")
        a = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM crm.\"Contact\"")
        b = cur.fetchone()[0]
    c.close()
    return {"Account": a, "Contact": b}


def test_a_directory_backup_is_verified_before_the_first_change_and_restore_brings_the_rows_back(
        crm, tmp_path, capsys):
    url, mapping = crm
    original = state(url)
    code, out, err = migrate(capsys, url, mapping, tmp_path, "--json", "--backup-jobs", "2")
    assert code == 0, err
    b = json.loads(out)["backup"]
    path = Path(b["path"])
    assert path.is_dir() and path.suffix == ".dir" and path.parent == tmp_path / "backups"
    assert b["format"] == "directory" and b["jobs"] == 2 and b["verified"] is True
    files = [f for f in path.iterdir() if f.is_file()]
    assert "toc.dat" in {f.name for f in files} and b["bytes"] == sum(f.stat().st_size for f in files)
    toc = subprocess.run([str(client_bin_dir() / "pg_restore"), "--list", str(path)], capture_output=True,
                         text=True, check=True).stdout
    assert " TABLE DATA crm Account " in toc and " TABLE DATA crm Contact " in toc
    assert b["tables_in_toc"] == 2
    log = next((tmp_path / "logs").glob("*.txt")).read_text()
    assert "directory format, 2 jobs" in log
    assert log.index("verified with pg_restore --list") < log.index("step 1 ")

    # a disaster after the rollback: restore from the directory brings every row back
    code, out, err = run(capsys, "rollback", "--database-url", url, "--mapping", mapping, "--no-progress",
                         "--log-dir", str(tmp_path / "logs"), "--backup-dir", str(tmp_path / "backups"),
                         "--drop-added-columns")
    assert code == 0, err
    execute(url, 'DELETE FROM crm."Contact"; DELETE FROM crm."Account"')
    assert rows(url) == {"Account": 0, "Contact": 0}
    code, out, err = run(capsys, "restore", str(path), "--database-url", url, "--yes", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["restored"] and sorted(info["tables_in_backup"]) == ["Account", "Contact"]
    assert rows(url) == {"Account": 50, "Contact": 200}
    assert state(url) == original


def test_every_file_of_the_directory_the_directory_and_its_folder_are_fsynced(empty_db, tmp_path, monkeypatch):
    """What reaches the disk is checked by asking the kernel to write each piece: a spy
    on ``os.fsync`` (the real one still runs) records which paths it was called on."""
    execute(empty_db, DDL)
    synced: list[str] = []
    real = os.fsync

    def spy(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real(fd)

    monkeypatch.setattr(backup_mod.os, "fsync", spy)
    c = psycopg2.connect(empty_db)
    version = c.server_version
    c.close()
    info = BackupJob(empty_db, tmp_path / "b", "dir", version, jobs=2).wait()
    path = Path(info.path)
    files = {str(f.resolve()) for f in path.iterdir() if f.is_file()}
    assert len(files) >= 3  # toc.dat and one file per table's data
    assert files <= set(synced)
    assert str(path.resolve()) in synced and str(path.parent.resolve()) in synced
    # the directory is synced after its files (its entries name them)
    assert synced.index(str(path.resolve())) > max(synced.index(f) for f in files)


def test_a_stopped_directory_backup_leaves_no_partial_folder(empty_db, tmp_path):
    execute(empty_db, DDL)
    c = psycopg2.connect(empty_db)
    version = c.server_version
    c.close()
    job = BackupJob(empty_db, tmp_path, "stopped", version, jobs=2)
    job.cancel()
    assert not (tmp_path / "stopped.dir").exists() and not list(tmp_path.iterdir())


def test_the_dump_preflight_refuses_a_directory_backup_before_pg_dump_starts(app, tmp_path):  # noqa: F811
    admin, url, _, password = app
    before = state(admin)
    r = cli("migrate", "--database-url", url, "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"),
            "--no-progress", "--backup-jobs", "2", cwd=tmp_path)
    line = one_line(r.stderr)
    assert r.returncode == 2, line
    assert "preflight: pg_dump can read the whole database" in line and '"Payroll": no SELECT' in line
    assert password not in r.stdout + r.stderr
    assert not (tmp_path / "b").exists() or not list((tmp_path / "b").iterdir())  # pg_dump never started
    assert state(admin) == before


@pytest.mark.parametrize("args, says", [
    (["--backup-jobs", "-3"], "out of range"),
    (["--backup-jobs", "65"], "out of range"),
    (["--backup-jobs", "two"], "whole number"),
    (["--backup-jobs", "2", "--backup", "none"], "--backup-jobs is for a pg_dump backup"),
    (["--backup-jobs", "2", "--no-backup"], "--backup-jobs is for a pg_dump backup"),
    (["--backup-jobs", "2", "--backup", "snapshot-command=true"], "--backup-jobs is for a pg_dump backup"),
    (["--backup-jobs", "2", "--backup", "schema+changed"], "--backup-jobs is for a pg_dump backup"),
])
def test_bad_backup_jobs_are_one_line_and_exit_2_before_connecting(capsys, args, says):
    # nothing listens on port 1: a connection attempt would say "connect"
    code, out, err = run(capsys, "migrate", "--database-url", "postgresql://nobody@127.0.0.1:1/none",
                         "--no-progress", *args)
    assert code == 2 and says in err and "Traceback" not in err and "connect" not in err, err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("value", [-1, 65, "x", True, 2.5])
def test_the_api_refuses_bad_backup_jobs_before_connecting(value):
    with pytest.raises(BadInput, match="backup jobs"):
        runbook.migrate("postgresql://nobody@127.0.0.1:1/none", backup_jobs=value)


def test_a_directory_backup_needs_a_connection_for_each_job_and_is_refused_before_pg_dump_without(
        pg, crm, tmp_path, capsys):
    """pg_dump -j N opens N + 1 connections: a role whose connection limit leaves fewer is
    refused by the preflight (exit 2, nothing changed), not by pg_dump half way."""
    import secrets
    from urllib.parse import quote, urlsplit, urlunsplit

    from runbook.naming import q

    admin, mapping = crm
    role, password = f"rb_jobs_{secrets.token_hex(4)}", f"Pw-{secrets.token_hex(8)}"
    # runbook holds two connections (its advisory lock and its work): one left for pg_dump
    execute(admin, f"CREATE ROLE {q(role)} LOGIN CONNECTION LIMIT 3 PASSWORD '{password}'; "
            f"GRANT USAGE ON SCHEMA crm TO {q(role)}; "
            f'ALTER TABLE crm."Account" OWNER TO {q(role)}; ALTER TABLE crm."Contact" OWNER TO {q(role)}')
    p = urlsplit(admin)
    url = urlunsplit(p._replace(netloc=f"{role}:{quote(password, safe='')}@{p.hostname}:{p.port}"))
    try:
        before = state(admin)
        code, out, err = migrate(capsys, url, mapping, tmp_path, "--backup-jobs", "2")
        assert code == 2, err
        assert "preflight: connections for pg_dump -j: 1 more connections allowed, 3 needed" in err, err
        assert len(err.strip().splitlines()) == 1 and password not in out + err
        assert not (tmp_path / "backups").exists() or not list((tmp_path / "backups").iterdir())
        assert state(admin) == before
    finally:
        execute(admin, 'ALTER TABLE crm."Account" OWNER TO postgres; ALTER TABLE crm."Contact" OWNER TO postgres; '
                f"DROP OWNED BY {q(role)}")
        c = pg.admin()
        with c.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
            cur.execute(f"DROP ROLE {q(role)}")
        c.close()


def test_backup_jobs_0_is_the_custom_format_file(crm, tmp_path, capsys):
    url, mapping = crm
    code, out, err = migrate(capsys, url, mapping, tmp_path, "--json", "--backup-jobs", "0")
    assert code == 0, err
    b = json.loads(out)["backup"]
    assert b["format"] == "custom" and Path(b["path"]).is_file() and Path(b["path"]).suffix == ".dump"
    assert b["verified"] and b["bytes"] == Path(b["path"]).stat().st_size


def test_the_default_backup_is_a_directory_dumped_by_2_jobs(crm, tmp_path, capsys):
    url, mapping = crm
    code, out, err = migrate(capsys, url, mapping, tmp_path, "--json")
    assert code == 0, err
    b = json.loads(out)["backup"]
    assert b["format"] == "directory" and b["jobs"] == 2 and Path(b["path"]).is_dir() and b["verified"]
    log = next((tmp_path / "logs").glob("*.txt")).read_text()
    assert "directory format, 2 jobs (the default)" in log


def test_the_default_backup_is_one_file_when_the_connections_for_2_jobs_are_not_allowed(pg, crm, tmp_path, capsys):
    import secrets
    from urllib.parse import quote, urlsplit, urlunsplit

    from runbook.naming import q

    admin, mapping = crm
    role, password = f"rb_jobs_{secrets.token_hex(4)}", f"Pw-{secrets.token_hex(8)}"
    # runbook's two connections and two more: not the three pg_dump -j 2 needs, one is enough
    execute(admin, f"CREATE ROLE {q(role)} LOGIN CONNECTION LIMIT 4 PASSWORD '{password}'; "
            f"GRANT USAGE, CREATE ON SCHEMA crm TO {q(role)}; GRANT CREATE ON DATABASE "
            f"{q(urlsplit(admin).path.lstrip('/'))} TO {q(role)}; "
            f'ALTER TABLE crm."Account" OWNER TO {q(role)}; ALTER TABLE crm."Contact" OWNER TO {q(role)}')
    p = urlsplit(admin)
    url = urlunsplit(p._replace(netloc=f"{role}:{quote(password, safe='')}@{p.hostname}:{p.port}"))
    try:
        code, out, err = migrate(capsys, url, mapping, tmp_path, "--json")
        assert code == 0, err
        b = json.loads(out)["backup"]
        assert b["format"] == "custom" and Path(b["path"]).is_file() and b["verified"]
        log = next((tmp_path / "logs").glob("*.txt")).read_text()
        assert "custom format, one file (the default: the connections for 2 jobs are not allowed)" in log
    finally:
        c = pg.admin()
        with c.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
        c.close()
        execute(admin, f"REASSIGN OWNED BY {q(role)} TO postgres; DROP OWNED BY {q(role)}")
        c = pg.admin()
        with c.cursor() as cur:
            cur.execute(f"DROP ROLE {q(role)}")
        c.close()
