"""The embedded demo server: a real PostgreSQL in a project-local folder, seeded with
the reference legacy database (``runbook demo-db``), and where that folder is."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg2

from ..connection import redact
from ..naming import q
from .server import LocalServer

DEMO_DB = "personalAI"


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) holding
    runbook's ``pyproject.toml``; the working directory when there is none. Notebooks
    run with their own folder as working directory (JupyterLab, nbval)."""
    here = (start or Path.cwd()).absolute()
    for d in (here, *here.parents):
        p = d / "pyproject.toml"
        if p.is_file() and 'name = "runbook"' in p.read_text(errors="replace"):
            return d
    return here


def demo_dir() -> Path:
    """Where the embedded demo server lives: ``$RUNBOOK_DEMO_DIR`` or ``<project>/.runbook/demo``."""
    env = os.environ.get("RUNBOOK_DEMO_DIR")
    return Path(env) if env else project_root() / ".runbook" / "demo"


def demo_server(base: Path, *, messages: int = 10000, reseed: bool = False, dbname: str = DEMO_DB) -> dict:
    """Start (or reuse) the embedded server in ``base`` and make sure ``dbname`` holds
    the reference legacy database. Returns facts, with a password-less socket URL."""
    from . import fixture

    srv = LocalServer.create(Path(base)).start()
    admin = srv.socket_url("postgres")
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    seeded = False
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
        exists = cur.fetchone() is not None
        if exists and reseed:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (dbname,))
            cur.execute(f"DROP DATABASE {q(dbname)}")
            exists = False
        if not exists:
            cur.execute(f"CREATE DATABASE {q(dbname)}")
    conn.close()
    url = srv.socket_url(dbname)
    if not exists:
        fixture.build(url, messages=messages)
        seeded = True
    return {"dir": str(Path(base).absolute()), "url": url, "redacted": redact(url), "version": srv.version().split()[-1],
            "seeded": seeded, "messages": messages, "port": srv.port}


def demo_url(base: Path, dbname: str = DEMO_DB) -> str:
    return LocalServer.create(Path(base)).start().socket_url(dbname)
