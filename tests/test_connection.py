"""URLs and connection strings: parsing, redaction, default sslmode and connect timeout,
and the pg_dump version rule."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
from psycopg2.extensions import make_dsn, parse_dsn

from runbook.execute.backup import _env_and_url
from runbook.cli import main
from runbook.connection import (DEFAULT_CONNECT_TIMEOUT, connect, connection, password_of, redact, resolve_url, scrub,
                                with_default_sslmode)
from runbook.errors import ConnectionFailed
from snapshots import execute, scalar


def test_redact_hides_passwords_everywhere():
    assert redact("postgresql://doadmin:s3cr3t@db.example:25060/personalAI") == "postgresql://doadmin:***@db.example:25060/personalAI"
    assert "s3cr3t" not in redact("postgresql://u@h/db?password=s3cr3t&sslmode=require")
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert "p%40ss" not in redact("postgresql://u:p%40ss@h/db")
    assert scrub("failed for postgresql://u:pw123@h/db (pw123)", "postgresql://u:pw123@h/db") == \
        "failed for postgresql://u:***@h/db (***)"


def test_remote_hosts_default_to_sslmode_require(monkeypatch):
    monkeypatch.delenv("PGSSLMODE", raising=False)
    assert with_default_sslmode("postgresql://u@db.example:25060/x").endswith("?sslmode=require")
    assert with_default_sslmode("postgresql://u@db.example/x?sslmode=verify-full").endswith("sslmode=verify-full")
    for local in ("postgresql://u@localhost/x", "postgresql://u@127.0.0.1:5432/x", "postgresql://u@/x?host=/tmp"):
        assert "sslmode" not in with_default_sslmode(local)
    monkeypatch.setenv("PGSSLMODE", "disable")
    assert "sslmode" not in with_default_sslmode("postgresql://u@db.example/x")


def test_pg_dump_older_than_the_server_is_refused_clearly(ref_db, tmp_path, capsys, monkeypatch):
    pg15 = Path("/usr/lib/postgresql/15/bin")
    if not (pg15 / "pg_dump").exists():
        pytest.skip("Debian's PostgreSQL 15 client is not installed")
    monkeypatch.setenv("RUNBOOK_PG_BIN", str(pg15))
    server_major = scalar(ref_db, "SELECT current_setting('server_version_num')::int") // 10000
    code = main(["migrate", "--database-url", ref_db, "--backup-dir", str(tmp_path), "--no-progress"])
    err = capsys.readouterr().err
    if server_major > 15:
        assert code == 2 and "pg_dump (PostgreSQL) 15" in err and f"PostgreSQL {server_major}" in err
        assert scalar(ref_db, "SELECT to_regclass('public.users')") is None
    else:
        assert code == 0 and scalar(ref_db, "SELECT to_regclass('public.users')") is not None


# -- keyword/value connection strings, redaction by field, malformed URLs (issue 10, 5-7) --------

RUNBOOK = str(Path(sys.executable).parent / "runbook")


def cli(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    """The installed ``runbook`` command, in a subprocess."""
    return subprocess.run([RUNBOOK, *args], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**os.environ, **(env or {})})


def one_line(err: str) -> str:
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def conninfo(url: str, **override) -> str:
    """The keyword/value form of a test URL (password included)."""
    p = urlsplit(url)
    params = {"host": p.hostname, "port": str(p.port), "dbname": unquote(p.path.lstrip("/")),
              "user": unquote(p.username), "password": unquote(p.password)}
    return make_dsn(**{**params, **override})


def test_keyword_value_conninfo_is_accepted_and_shown_redacted(ref_db):
    kv = conninfo(ref_db)
    pw = password_of(ref_db)
    assert resolve_url(kv) == kv  # a local host: nothing added
    shown = redact(kv)
    p = urlsplit(ref_db)
    for part in (f"host={p.hostname}", f"port={p.port}", f"dbname={p.path.lstrip('/')}", "user=postgres",
                 "password=***"):
        assert part in shown
    assert pw not in shown
    with connection(kv) as c, c.cursor() as cur:
        cur.execute("SELECT current_database()")
        assert cur.fetchone()[0] == p.path.lstrip("/")
    # a remote host gets the default sslmode in either form
    assert parse_dsn(with_default_sslmode("host=db.example user=u dbname=x"))["sslmode"] == "require"
    assert "sslmode" not in parse_dsn(with_default_sslmode("host=/tmp user=u dbname=x"))


def test_keyword_value_conninfo_runs_the_whole_cycle_without_showing_the_password(ref_db, tmp_path):
    """analyze, migrate (pg_dump), verify and rollback (pg_dump, psql) all take it."""
    kv = conninfo(ref_db)
    pw = password_of(ref_db)
    common = ["--database-url", kv, "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"),
              "--no-progress"]
    outputs = []
    for args in (["analyze", "--database-url", kv], ["migrate", *common], ["verify", "--database-url", kv],
                 ["rollback", *common]):
        r = cli(*args)
        outputs += [r.stdout, r.stderr]
        assert r.returncode == 0, (args, r.stderr[-2000:])
    assert any(f.suffix in (".dump", ".dir") for f in (tmp_path / "b").iterdir())  # a file, or the default's folder
    assert scalar(ref_db, "SELECT to_regclass('public.\"User\"') IS NOT NULL")  # rolled back
    leaks = [o for o in outputs if pw in o]
    leaks += [f.name for f in tmp_path.rglob("*") if f.is_file() and pw.encode() in f.read_bytes()]
    assert not leaks


def test_tools_get_the_password_through_the_environment_only(ref_db):
    pw = password_of(ref_db)
    p = urlsplit(ref_db)
    in_query = f"postgresql://postgres@{p.hostname}:{p.port}{p.path}?password={pw}"
    for url in (ref_db, conninfo(ref_db), in_query):
        env, dsn = _env_and_url(url)
        assert env["PGPASSWORD"] == pw and pw not in dsn, dsn
        assert parse_dsn(dsn)["dbname"] == p.path.lstrip("/")


def test_bad_keyword_value_string_is_one_line_without_the_password():
    secret = "Zq9-leak-me"
    for bad in (f"host=db.example password={secret} dbnme=x", f"host=db.example password={secret} oops",
                f"host=db.example password='{secret}"):
        r = cli("analyze", "--database-url", bad)
        line = one_line(r.stderr)
        assert r.returncode == 2 and secret not in line and "connection string" in line, line


def test_malformed_url_is_one_line_exit_2_without_the_password():
    r = cli("analyze", "--database-url", "postgresql://u:Zq9pw@[::1/x")
    line = one_line(r.stderr)
    assert r.returncode == 2 and "Zq9pw" not in line and "IPv6" in line, line
    r = cli("plan", env={"DATABASE_URL": "postgresql://u:Zq9pw@h/db?sslmod=require"})
    line = one_line(r.stderr)
    assert r.returncode == 2 and "Zq9pw" not in line and '"sslmod"' in line, line


def test_redaction_replaces_the_password_field_not_its_letters():
    url = "postgresql://app:o@db.example/x"
    msg = 'permission denied for table "User" (role owner o)'
    assert scrub(msg, url) == 'permission denied for table "User" (role owner ***)'
    assert scrub(f"could not use {url}: bad", url) == "could not use postgresql://app:***@db.example/x: bad"
    kv = "host=db.example user=app password=o dbname=x"
    assert scrub(f"echo: {kv}", kv) == "echo: host=db.example dbname=x user=app password=***"  # by field
    assert redact("host=h password='a b' user=u") == "host=h user=u password=***"
    # percent-encoded in the URI, plain in the message
    assert scrub("pw was p@ss!", "postgresql://u:p%40ss%21@h/db") == "pw was ***"


def test_a_one_letter_password_leaves_messages_readable(pg, ref_db):
    role = f"rb_o_{secrets.token_hex(4)}"
    execute(ref_db, f"CREATE ROLE {role} LOGIN PASSWORD 'o'")
    try:
        p = urlsplit(ref_db)
        url = urlunsplit(p._replace(netloc=f"{role}:o@{p.hostname}:{p.port}"))
        r = cli("migrate", "--database-url", url, "--no-progress")
        line = one_line(r.stderr)
        assert r.returncode == 2 and "does not own" in line and "permission" not in line.replace("***", "")
        assert "***" not in line.replace(":***@", ""), line  # no letter of a word was replaced
    finally:
        execute(ref_db, f"DROP OWNED BY {role}")
        execute(pg.url("postgres"), f"DROP ROLE {role}")


def test_the_pipeline_takes_a_keyword_value_string_from_its_variable(ref_db, workdir):
    kv = conninfo(ref_db)
    pw = password_of(ref_db)
    r = cli("run", "--env", "development", "--database-url-env", "RB_TEST_CONNINFO", cwd=workdir,
            env={"RB_TEST_CONNINFO": kv, "DATABASE_URL": ""})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    folder = sorted((workdir / "outputs" / "development").iterdir())[-1]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["verdict"] == "planned" and "password=***" in summary["database"]
    assert pw not in r.stdout + r.stderr
    assert not [f.name for f in folder.rglob("*") if f.is_file() and pw.encode() in f.read_bytes()]


# -- the connect timeout (issue 10, 9) -------------------------------------------------------------


@pytest.fixture
def silent_port():
    """A TCP port on 127.0.0.1 whose listener never accepts nor answers: the kernel
    completes the handshake, then libpq waits for the server's first byte."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s.getsockname()[1]
    s.close()


def test_connect_timeout_in_the_url_is_honoured(silent_port, monkeypatch):
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    url = f"postgresql://u:Zq9pw@127.0.0.1:{silent_port}/db?connect_timeout=2"
    with pytest.raises(ConnectionFailed) as e:
        connect(url)
    assert e.value.connect_timeout == 2 and e.value.connect_timeout_from == "the URL's connect_timeout"
    assert "timeout expired (connect_timeout 2 s" in str(e.value) and "Zq9pw" not in str(e.value)


def test_pgconnect_timeout_is_honoured(silent_port, monkeypatch):
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "2")
    with pytest.raises(ConnectionFailed) as e:
        connect(f"host=127.0.0.1 port={silent_port} dbname=db user=u password=Zq9pw")
    assert e.value.connect_timeout == 2 and e.value.connect_timeout_from == "PGCONNECT_TIMEOUT"
    assert "timeout expired" in str(e.value) and "Zq9pw" not in str(e.value)


def test_the_cli_names_the_timeout_it_waited(silent_port):
    r = cli("analyze", "--database-url", f"postgresql://u:Zq9pw@127.0.0.1:{silent_port}/db",
            env={"PGCONNECT_TIMEOUT": "2"})
    line = one_line(r.stderr)
    assert r.returncode == 2 and "timeout expired (connect_timeout 2 s, from PGCONNECT_TIMEOUT)" in line, line
    assert "Zq9pw" not in line


def test_the_default_timeout_applies_only_when_none_is_given(ref_db, monkeypatch):
    """What libpq used, as the live connection reports it (PQconninfo)."""
    def used(url: str) -> str:
        with connection(url) as c:
            return c.get_dsn_parameters().get("connect_timeout")

    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    assert used(ref_db) == str(DEFAULT_CONNECT_TIMEOUT)
    assert used(ref_db + "?connect_timeout=7") == "7"
    assert used(conninfo(ref_db, connect_timeout="6")) == "6"
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "5")
    assert used(ref_db) == "5"
    assert used(ref_db + "?connect_timeout=7") == "7"  # the URL wins over the variable, as in libpq
