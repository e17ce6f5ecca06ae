"""backup.dump_problems: what would make pg_dump of the whole database fail for the
role, found by ``analyze`` and by the migrate preflight before the backup starts; and
pg_dump's own ``error:`` line when it fails anyway.

Every case is checked against pg_dump itself: the detector reports a problem exactly
when pg_dump (run as the role) fails, and reports none once the problem is fixed.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
import pytest

import runbook
from runbook.execute.backup import BackupJob, dump_problems
from runbook.errors import BackupFailed
from runbook.naming import q, qq
from snapshots import state

RUNBOOK = str(Path(sys.executable).parent / "runbook")


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([RUNBOOK, *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=dict(os.environ))


def one_line(err: str) -> str:
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def sql(url: str, *statements: str) -> None:
    c = psycopg2.connect(url)
    c.autocommit = True
    with c.cursor() as cur:
        for s in statements:
            cur.execute(s)
    c.close()


@pytest.fixture
def app(pg, reference_template):
    """A copy of the reference database and a login role (not superuser, not BYPASSRLS)
    that owns the tables the plan renames (and the functions it rewrites) and may read every other table and sequence,
    but not ``public."Payroll"`` (owned by postgres, no grant). (admin url, role url,
    role, password)."""
    name = pg.create_db(template=reference_template)
    admin = pg.url(name)
    role = f"rb_app_{secrets.token_hex(4)}"
    password = f"Pw-{secrets.token_hex(8)}"
    plan = runbook.plan(admin)
    renamed = [t.old for t in plan.tables]
    # and the functions the plan rewrites (the preflight refuses first when it cannot replace them)
    rewritten = [o.regprocedure for o in plan.ops if o.kind == "replace function"]
    sql(admin, f"CREATE ROLE {q(role)} LOGIN PASSWORD '{password}'",
        *[f"ALTER TABLE {qq('public', t)} OWNER TO {q(role)}" for t in renamed],
        *[f"ALTER FUNCTION {f} OWNER TO {q(role)}" for f in rewritten],
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {q(role)}",
        f"GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {q(role)}",
        'CREATE TABLE public."Payroll" (id int PRIMARY KEY, amount numeric)',
        'INSERT INTO public."Payroll" VALUES (1, 100)')
    p = urlsplit(admin)
    url = urlunsplit(p._replace(netloc=f"{role}:{quote(password, safe='')}@{p.hostname}:{p.port}"))
    yield admin, url, role, password
    c = pg.admin()
    with c.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
    c.close()
    pg.drop_db(name)
    sql(pg.url("postgres"), f"DROP ROLE IF EXISTS {q(role)}")


def problems(url: str) -> list[str]:
    c = psycopg2.connect(url)
    try:
        return dump_problems(c)
    finally:
        c.close()


def pg_dump(url: str, folder: Path) -> str | None:
    """None when pg_dump of the whole database works as the role, else runbook's message."""
    c = psycopg2.connect(url)
    version = c.server_version
    c.close()
    try:
        info = BackupJob(url, folder, f"probe-{secrets.token_hex(3)}", version).wait()
    except BackupFailed as exc:
        return str(exc)
    Path(info.path).unlink()
    return None


def test_a_table_the_role_cannot_read_is_found(app, tmp_path):
    admin, url, role, _ = app
    assert problems(url) == [f'role {role} cannot dump table public."Payroll": no SELECT']
    assert pg_dump(url, tmp_path) is not None
    sql(admin, f'GRANT SELECT ON public."Payroll" TO {q(role)}')
    assert problems(url) == [] and pg_dump(url, tmp_path) is None
    assert problems(admin) == []  # a superuser reads everything


def test_pg_dump_failure_shows_its_error_line_not_the_query(app, tmp_path):
    _, url, _, password = app
    msg = pg_dump(url, tmp_path)
    assert msg == "pg_dump failed, nothing was changed: query failed: ERROR: permission denied for table Payroll", msg
    assert "Query was" not in msg and "detail" not in msg and password not in msg
    assert not list(tmp_path.glob("*.dump"))


def test_analyze_reports_it_and_exits_2(app, tmp_path):
    _, url, role, password = app
    r = cli("analyze", "--database-url", url, cwd=tmp_path)
    assert r.returncode == 2, r.stderr[-2000:]
    assert f'role {role} cannot dump table public."Payroll": no SELECT' in r.stdout
    line = one_line(r.stderr)
    assert "backup cannot be taken" in line and "Payroll" in line and password not in r.stdout + r.stderr
    r = cli("analyze", "--json", "--database-url", url, cwd=tmp_path)
    assert r.returncode == 2 and '"dump_problems"' in r.stdout and "Payroll" in r.stdout


def test_migrate_refuses_before_the_backup_and_changes_nothing(app, tmp_path):
    admin, url, _, password = app
    before = state(admin)
    r = cli("migrate", "--database-url", url, "--backup-dir", str(tmp_path / "b"), "--log-dir", str(tmp_path / "l"),
            "--no-progress", cwd=tmp_path)
    line = one_line(r.stderr)
    assert r.returncode == 2, line
    assert "preflight: pg_dump can read the whole database" in line and '"Payroll": no SELECT' in line
    assert password not in r.stdout + r.stderr
    assert not list(tmp_path.rglob("backup-*"))  # pg_dump never started (no file, no directory)
    assert state(admin) == before


CASES = {
    # name: (make the problem, the detector's words, fix it)
    "forced RLS on an owned table": (
        'ALTER TABLE public."User" ENABLE ROW LEVEL SECURITY; ALTER TABLE public."User" FORCE ROW LEVEL SECURITY',
        'table public."User": FORCE ROW LEVEL SECURITY',
        'ALTER TABLE public."User" NO FORCE ROW LEVEL SECURITY'),
    "RLS on a readable table the role does not own": (
        'CREATE TABLE public."Ledger" (id int); CREATE POLICY everyone ON public."Ledger" USING (true); '
        'ALTER TABLE public."Ledger" ENABLE ROW LEVEL SECURITY; GRANT SELECT ON public."Ledger" TO {role}',
        'table public."Ledger": row-level security applies to the role',
        "ALTER ROLE {role} BYPASSRLS"),
    "a sequence with USAGE but no SELECT": (
        "CREATE SEQUENCE public.invoice_no; GRANT USAGE, UPDATE ON SEQUENCE public.invoice_no TO {role}",
        "sequence public.invoice_no: no SELECT",
        "GRANT SELECT ON SEQUENCE public.invoice_no TO {role}"),
    "a schema without USAGE": (
        "CREATE SCHEMA billing; CREATE TABLE billing.charges (id int); GRANT SELECT ON billing.charges TO {role}",
        "schema billing (1 relations): no USAGE on the schema",
        "GRANT USAGE ON SCHEMA billing TO {role}"),
    "a partition without SELECT": (
        "CREATE TABLE public.events (id int) PARTITION BY RANGE (id); "
        "CREATE TABLE public.events_1 PARTITION OF public.events FOR VALUES FROM (0) TO (10); "
        "GRANT SELECT ON public.events TO {role}",
        "table public.events_1: no SELECT",
        "GRANT SELECT ON public.events_1 TO {role}"),
    "a large object the role cannot read": (
        "SELECT lo_create(424242)",
        "1 large object (first 424242): no SELECT",
        "GRANT SELECT ON LARGE OBJECT 424242 TO {role}"),
}


@pytest.mark.parametrize("case", CASES)
def test_each_cause_of_a_failing_pg_dump_is_found(app, tmp_path, case):
    admin, url, role, _ = app
    make, words, fix = (s.replace("{role}", q(role)) for s in CASES[case])
    sql(admin, f'GRANT SELECT ON public."Payroll" TO {q(role)}', make)
    found = problems(url)
    assert found == [f"role {role} cannot dump {words}"]
    assert pg_dump(url, tmp_path) is not None  # pg_dump agrees
    sql(admin, fix)
    assert problems(url) == [] and pg_dump(url, tmp_path) is None


def test_rls_on_an_owned_table_without_force_is_not_a_problem(app, tmp_path):
    """The owner (or a member of the owning role) is exempt unless FORCE: pg_dump works."""
    admin, url, role, _ = app
    sql(admin, f'GRANT SELECT ON public."Payroll" TO {q(role)}', 'ALTER TABLE public."User" ENABLE ROW LEVEL SECURITY',
        f"CREATE ROLE {q(role + '_grp')} NOLOGIN", f"GRANT {q(role + '_grp')} TO {q(role)}",
        f'CREATE TABLE public."Team" (id int); ALTER TABLE public."Team" OWNER TO {q(role + "_grp")}',
        'ALTER TABLE public."Team" ENABLE ROW LEVEL SECURITY')
    try:
        assert problems(url) == [] and pg_dump(url, tmp_path) is None
    finally:
        sql(admin, 'DROP TABLE public."Team"', f"DROP ROLE {q(role + '_grp')}")
