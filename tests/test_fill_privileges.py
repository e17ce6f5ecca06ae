"""While the online fill runs, the service keeps writing the table through its own role,
which has no business with runbook's bookkeeping schema: its writes must still work (and
its NULLs be filled and recorded, so that the rollback puts them back)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg2
from psycopg2 import sql as pgsql

from snapshots import scalar

RUNBOOK = Path(sys.executable).with_name("runbook")
TABLE = "AssistantChatSession"  # the reference plan's step 1 fills its "sessionName"


def _as_role(url: str, role: str, password: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    p = urlsplit(url)
    return urlunsplit(p._replace(netloc=f"{role}:{password}@{p.hostname}:{p.port}"))


def test_a_service_role_without_access_to_schema_runbook_writes_while_the_fill_runs(ref_db, tmp_path):
    role, password = f"svc_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    admin = psycopg2.connect(ref_db)
    admin.autocommit = True
    cur = admin.cursor()
    cur.execute(pgsql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(pgsql.Identifier(role)), (password,))
    cur.execute(pgsql.SQL("GRANT USAGE ON SCHEMA public TO {r}; GRANT SELECT, INSERT ON public.{t} TO {r}")
                .format(r=pgsql.Identifier(role), t=pgsql.Identifier(TABLE)))
    flag = tmp_path / "paused"
    env = {**os.environ, "RUNBOOK_FAULT": "pause:1", "RUNBOOK_PAUSE_FILE": str(flag)}
    p = subprocess.Popen([str(RUNBOOK), "migrate", "--database-url", ref_db, "--no-backup", "--no-progress",
                          "--log-dir", str(tmp_path / "logs")], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():  # paused after step 1: the fill ran, its trigger is in place
            assert p.poll() is None, p.communicate()
            assert time.monotonic() < deadline, "the run never paused"
            time.sleep(0.05)
        assert scalar(ref_db, "SELECT has_schema_privilege(%s, 'runbook', 'USAGE')", (role,)) is False
        svc = psycopg2.connect(_as_role(ref_db, role, password))
        svc.autocommit = True
        try:
            with svc.cursor() as c:  # a copy of a row under a new id, its "sessionName" NULL
                c.execute(pgsql.SQL("INSERT INTO public.{t} SELECT (jsonb_populate_record(NULL::public.{t}, "
                                    "to_jsonb(s) || jsonb_build_object('id', %s, 'sessionName', NULL))).* "
                                    "FROM public.{t} s LIMIT 1").format(t=pgsql.Identifier(TABLE)), ("svc-row",))
        finally:
            svc.close()
        assert scalar(ref_db, f'SELECT "sessionName" FROM public."{TABLE}" WHERE id = %s', ("svc-row",)) == \
            "Untitled chat"
        assert scalar(ref_db, "SELECT count(*) FROM runbook.filled WHERE pk = %s", ("svc-row",)) == 1
    finally:
        p.send_signal(signal.SIGKILL)  # the process this test started, by its pid
        p.communicate(timeout=30)
        cur.execute(pgsql.SQL("REASSIGN OWNED BY {r} TO CURRENT_USER; DROP OWNED BY {r}; DROP ROLE {r}")
                    .format(r=pgsql.Identifier(role)))
        admin.close()
