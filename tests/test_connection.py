"""URLs: redaction, default sslmode, and the pg_dump version rule."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runbook.cli import main
from runbook.connection import redact, resolve_url, scrub, with_default_sslmode
from snapshots import scalar


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
