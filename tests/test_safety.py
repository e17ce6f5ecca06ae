"""Issue 10: the runner and the command line, tried the way someone breaking them would.

Each test is named after its item of the issue (test_item<N>_...). Every one runs
against a real PostgreSQL (the session's server: embedded 18, or Debian's 15 with
RUNBOOK_TEST_PG_BIN), talks only to it (127.0.0.1 / its Unix socket), and is bounded:
subprocesses have timeouts, threads stop by themselves.

"Unchanged" means ``pg_dump --schema-only`` (runbook's own schema left out) and every
table's row count and content checksum are equal (tests/snapshots.py), and runbook's own
bookkeeping schema was not even created.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from runbook.cli import main as cli_main
from runbook.naming import q
from snapshots import execute, rows, scalar, state

RUNBOOK = Path(sys.executable).with_name("runbook")


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli_main(list(args))
    return rc, out.getvalue(), err.getvalue()


def one_line(stderr: str) -> str:
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr[-3000:]}"
    assert "Traceback" not in stderr
    return lines[0]


def args(url: str, work: Path, *extra: str) -> list[str]:
    return ["--database-url", url, "--no-progress", "--backup-dir", str(work / "backups"),
            "--log-dir", str(work / "logs"), *extra]


def no_bookkeeping(url: str) -> bool:
    return scalar(url, "SELECT to_regnamespace('runbook') IS NULL")


DEAD_URL = "postgresql://nobody:secret@127.0.0.1:1/nowhere"  # nothing listens on port 1


# -- item 1: option values ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["--rehearse", "--dry-run", None])
@pytest.mark.parametrize("bad", [("--lock-timeout", "banana"), ("--batch-size", "0"), ("--attempts", "0"),
                                 ("--statement-timeout", "0"), ("--online-lock-timeout", "5 parsecs"),
                                 ("--lock-timeout", "99999999999s"), ("--backup-dir", ""),
                                 ("--checksums", "some")])
def test_item1_bad_option_value_is_refused_before_connecting(ref_db, workdir, mode, bad):
    before = state(ref_db)
    extra = [*bad, *([mode] if mode else [])]
    # against a server that does not exist: refused before any connection is tried
    rc, _, err = cli("migrate", *args(DEAD_URL, workdir, *extra))
    assert rc == 2, err
    line = one_line(err)
    assert "connect" not in line.lower() and "secret" not in line, line
    rc, _, err = cli("migrate", *args(ref_db, workdir, *extra))
    assert rc == 2, err
    one_line(err)
    assert state(ref_db) == before and no_bookkeeping(ref_db)


def test_item1_api_refuses_bad_values_too(ref_db, workdir):
    import runbook.api as api
    from runbook.errors import BadInput

    before = state(ref_db)
    for kw in ({"lock_timeout": "banana"}, {"batch_size": 0}, {"attempts": 0}, {"statement_timeout": "-1s"},
               {"checksums": "most"}, {"log_dir": "a\x00b"}, {"backoff_cap": float("nan")}):
        with pytest.raises(BadInput):
            api.migrate(ref_db, rehearse=True, progress=False, **kw)
    assert state(ref_db) == before and no_bookkeeping(ref_db)


@pytest.mark.parametrize("text,ms", [("500ms", 500), ("5s", 5000), ("1min", 60000), ("250", 250), ("1.5s", 1500),
                                     (" 2 s ", 2000), ("1h", 3600000)])
def test_item1_durations_in_postgresql_forms_are_accepted(pg, text, ms):
    from runbook.execute import Options
    from runbook.naming import literal

    o = Options(lock_timeout=text)
    c = psycopg2.connect(pg.admin_url)
    try:
        with c.cursor() as cur:  # the server reads the value given to it as the same duration
            cur.execute(f"SET lock_timeout = {literal(o.lock_timeout)}")
            cur.execute("SELECT setting::int FROM pg_settings WHERE name = 'lock_timeout'")
            assert cur.fetchone()[0] == ms
    finally:
        c.close()


@pytest.mark.parametrize("text", ["banana", "0", "0ms", "-5s", "5 sec", "1.2.3s", "5s5", "", "100us",
                                  "2147483648ms", "30d"])
def test_item1_other_durations_are_refused(text):
    from runbook.errors import BadInput
    from runbook.execute import Options

    with pytest.raises(BadInput):
        Options(lock_timeout=text)


def test_item1_dry_run_does_not_print_a_refused_value(ref_db, workdir):
    rc, out, err = cli("migrate", *args(ref_db, workdir, "--dry-run", "--lock-timeout", "banana"))
    assert rc == 2 and "banana" in one_line(err) and "SET LOCAL lock_timeout" not in out


def test_item1_rehearsal_leaves_no_trace(ref_db, workdir):
    """Even with batches of one row: the fill and the checks are rolled back with the
    rehearsal's transaction; no bookkeeping schema, no audit row."""
    before = state(ref_db)
    assert scalar(ref_db, 'SELECT count(*) FROM "AssistantChatSession" WHERE "sessionName" IS NULL') > 0
    rc, out, err = cli("migrate", *args(ref_db, workdir, "--rehearse", "--batch-size", "1", "--json"))
    assert rc == 0, err
    assert json.loads(out)["status"] == "rehearsed"
    assert state(ref_db) == before
    assert no_bookkeeping(ref_db)


def test_item1_failed_rehearsal_leaves_no_trace(ref_db, workdir):
    from runbook.api import plan

    phases = [o.phase for o in plan(ref_db).ops]
    k = phases.index("lock") + 3  # a lock step, after the prepare steps ran
    before = state(ref_db)
    r = subprocess.run([str(RUNBOOK), "migrate", *args(ref_db, workdir, "--rehearse")], cwd=workdir,
                       capture_output=True, text=True, timeout=120, env={**os.environ, "RUNBOOK_FAULT": f"fail:{k}"})
    assert r.returncode == 1, r.stderr
    one_line(r.stderr)
    assert state(ref_db) == before and no_bookkeeping(ref_db)


_duration = st.one_of(st.sampled_from(["500ms", "5s", "1min", "250", "2s", "banana", "0", "-1s", "5 sec", ""]),
                      st.text(max_size=6))
_count = st.one_of(st.integers(-2, 3), st.sampled_from(["x", "1e3", "", "7"]))
_option = st.one_of(
    st.tuples(st.just("--lock-timeout"), _duration),
    st.tuples(st.just("--statement-timeout"), _duration),
    st.tuples(st.just("--online-lock-timeout"), _duration),
    st.tuples(st.just("--attempts"), _count),
    st.tuples(st.just("--batch-size"), st.one_of(_count, st.sampled_from(["100000", "20000000"]))),
    st.tuples(st.just("--checksums"), st.sampled_from(["auto", "all", "none", "most", ""])),
    st.tuples(st.just("--log-dir"), st.sampled_from(["logs2", "", " ", "a\x00b"])),
)


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(opts=st.lists(_option, min_size=1, max_size=3), mode=st.sampled_from(["--rehearse", "--dry-run", "real"]))
def test_item1_option_values_fuzzed(pg, reference_template, tmp_path, opts, mode):
    """Valid and invalid option values on rehearse / dry run / real migrate: exit 0, 1 or
    2 with one line on failure, and the database unchanged unless a real run succeeded."""
    name = pg.create_db(template=reference_template)
    url = pg.url(name)
    try:
        before = state(url)
        extra = [x for o in opts for x in (o[0], str(o[1]))] + ([] if mode == "real" else [mode])
        rc, out, err = cli("migrate", *args(url, tmp_path, "--no-backup", *extra))
        assert rc in (0, 1, 2), (rc, err)
        if rc:
            one_line(err)
        if rc or mode != "real":
            assert state(url) == before, (extra, rc, err)
        if rc == 2:
            assert no_bookkeeping(url), (extra, err)
    finally:
        pg.drop_db(name)


# -- item 2: approval by fingerprint -----------------------------------------------------------------


def test_item2_fingerprint_needs_12_hex_of_this_plan(ref_db, workdir):
    from runbook.api import plan

    fp = plan(ref_db).fingerprint
    before = state(ref_db)
    for bad in (fp[0], fp[:11], "sha256:" + fp[:5], fp[:12] + "zz", "sha256:", "  "):
        rc, _, err = cli("migrate", *args(DEAD_URL, workdir, "--dry-run", "--approved-fingerprint", bad))
        assert rc == 2 and "fingerprint" in one_line(err), (bad, err)  # refused before connecting
        rc, _, err = cli("migrate", *args(ref_db, workdir, "--approved-fingerprint", bad))
        assert rc == 2, (bad, err)
    other = ("0" if fp[0] != "0" else "1") + fp[1:12]
    rc, _, err = cli("migrate", *args(ref_db, workdir, "--dry-run", "--approved-fingerprint", other))
    assert rc == 2 and "not the approved one" in one_line(err)
    assert state(ref_db) == before and no_bookkeeping(ref_db)
    for good in (fp[:12], "sha256:" + fp[:20], fp.upper(), fp):
        rc, _, err = cli("migrate", *args(ref_db, workdir, "--dry-run", "--approved-fingerprint", good))
        assert rc == 0, (good, err)


def test_item2_pipeline_applies_the_same_rule():
    from runbook.errors import BadInput
    from runbook.pipeline import Pipeline, load_profile

    fp = secrets.token_hex(32)
    prof = load_profile("production")
    for bad in (fp[0], fp[:11], "not-hex-at-all", "sha256:"):
        with pytest.raises(BadInput):
            Pipeline("production", prof, approved_fingerprint=bad)
    assert Pipeline("production", prof, approved_fingerprint=fp[:12]).approval(fp) is None or \
        "staging" in Pipeline("production", prof, approved_fingerprint=fp[:12]).approval(fp)
    assert "is not the plan's" in Pipeline("production", prof, approved_fingerprint=fp[::-1][:12]).approval(fp)


# -- item 4: the rollback trusts only a plan that matches its fingerprint ---------------------------


def test_item4_rollback_refuses_a_tampered_plan(ref_db, workdir):
    rc, _, err = cli("migrate", *args(ref_db, workdir, "--no-backup"))
    assert rc == 0, err
    plan = scalar(ref_db, "SELECT plan FROM runbook.runs WHERE status = 'migrated'")
    i = next(n for n, o in enumerate(plan) if o["op"] == "RenameTable")
    execute(ref_db, "UPDATE runbook.runs SET plan = jsonb_set(plan, %s, %s) WHERE status = 'migrated'",
            ([str(i), "old"], json.dumps("Hijacked")))
    after_migrate = state(ref_db)
    for extra in ((), ("--dry-run",), ("--drop-added-columns",)):
        rc, _, err = cli("rollback", *args(ref_db, workdir, *extra))
        assert rc == 2, err
        assert "fingerprint" in one_line(err)
    assert state(ref_db) == after_migrate
    assert scalar(ref_db, "SELECT status FROM runbook.runs") == "migrated"


def _unchecked_ops(plan: list) -> tuple:
    """The stored operations as they are, without the validation op_from_dict applies."""
    from runbook.ops import OPERATIONS

    def build(d):
        kw = {k: build(v) if isinstance(v, dict) else tuple(v) if isinstance(v, list) else v
              for k, v in d.items() if k != "op"}
        return OPERATIONS[d["op"]](**kw)

    return tuple(build(d) for d in plan)


def test_item4_rollback_refuses_a_stored_plan_whose_operations_do_not_validate(ref_db, workdir):
    """A stored rename to a 64-byte name, with a fingerprint recomputed to match: PostgreSQL
    would truncate the name and rename the table to something nobody reviewed. The
    operation validates itself when the plan is rebuilt, so nothing runs."""
    from runbook.plan import Plan

    rc, _, err = cli("migrate", *args(ref_db, workdir, "--no-backup"))
    assert rc == 0, err
    plan, lock_tables = rows(ref_db, "SELECT plan, lock_tables FROM runbook.runs WHERE status = 'migrated'")[0]
    i = next(n for n, o in enumerate(plan) if o["op"] == "RenameTable")
    plan[i]["old"] = "U" * 64
    fingerprint = Plan("public", _unchecked_ops(plan), (), lock_tables=tuple(lock_tables)).fingerprint
    execute(ref_db, "UPDATE runbook.runs SET plan = %s, fingerprint = %s WHERE status = 'migrated'",
            (json.dumps(plan), fingerprint))
    after_migrate = state(ref_db)
    for extra in ((), ("--dry-run",)):
        rc, _, err = cli("rollback", *args(ref_db, workdir, *extra))
        assert rc == 2, err
        assert "cannot be read" in one_line(err) and "64 bytes" in one_line(err)
    assert state(ref_db) == after_migrate
    assert scalar(ref_db, "SELECT status FROM runbook.runs") == "migrated"


def test_item4_rollback_online_tolerates_writers(ref_db, workdir):
    """A writer keeps inserting sessions through the renamed tables while `runbook rollback
    --online` runs (then through the old names): the rollback succeeds."""
    rc, _, err = cli("migrate", *args(ref_db, workdir, "--no-backup"))
    assert rc == 0, err
    user = scalar(ref_db, 'SELECT id FROM users ORDER BY id LIMIT 1')
    stop = threading.Event()
    written, errors = [], []

    def writer():
        c = psycopg2.connect(ref_db, application_name="chat-writer")
        c.autocommit = True
        names = ("chat_sessions", "title")
        try:
            with c.cursor() as cur:
                for n in range(5000):  # bounded; stops at the event or after 5000 rows
                    if stop.is_set():
                        break
                    try:
                        cur.execute(f'INSERT INTO {q(names[0])} (id, "userId", {q(names[1])}, "updatedAt") '
                                    "VALUES (%s, %s, %s, now())", (f"w-{n}", user, f"chat {n}"))
                        written.append(n)
                    except (psycopg2.errors.UndefinedTable, psycopg2.errors.UndefinedColumn):
                        names = ("AssistantChatSession", "sessionName")
                    time.sleep(0.002)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            c.close()

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        while len(written) < 20 and t.is_alive():
            time.sleep(0.01)
        r = subprocess.run([str(RUNBOOK), "rollback", *args(ref_db, workdir, "--online", "--drop-added-columns",
                                                           "--no-backup")],
                           cwd=workdir, capture_output=True, text=True, timeout=120)
        n_during = len(written)
        time.sleep(0.1)
    finally:
        stop.set()
        t.join(timeout=30)
    assert not t.is_alive() and not errors, errors
    assert len(written) > n_during >= 20
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert scalar(ref_db, 'SELECT count(*) FROM "AssistantChatSession" WHERE id LIKE %s', ("w-%",)) == len(written)


# -- items 8 and 11: a role that is not a superuser -------------------------------------------------


@pytest.fixture
def role_db(pg, reference_template):
    """A copy of the reference database whose tables (and, unless told, functions) belong
    to a fresh login role; another role can read "User". Yields a dict of urls and names."""
    tag = secrets.token_hex(3)
    owner, other = f"rb_migrator_{tag}", f"rb_reporter_{tag}"
    pw = f"pw-{secrets.token_hex(6)}"
    name = pg.create_db(template=reference_template)
    admin = pg.admin()
    base = urlsplit(pg.url(name))

    def url_of(role):
        return urlunsplit(base._replace(netloc=f"{role}:{quote(pw, safe='')}@{base.hostname}:{base.port}"))

    info = {"name": name, "owner": owner, "other": other, "url": url_of(owner), "other_url": url_of(other),
            "admin_url": pg.url(name)}
    try:
        with admin.cursor() as cur:
            for r in (owner, other):
                cur.execute(f"CREATE ROLE {q(r)} LOGIN PASSWORD %s", (pw,))
            cur.execute(f"ALTER DATABASE {q(name)} OWNER TO {q(owner)}")
        c = psycopg2.connect(pg.url(name))
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute(f"ALTER SCHEMA public OWNER TO {q(owner)}")
            cur.execute("SELECT c.oid::regclass::text, c.relkind FROM pg_class c WHERE c.relnamespace = "
                        "'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1")
            for rel, kind in cur.fetchall():
                cur.execute(f"ALTER {'VIEW' if kind == 'v' else 'TABLE'} {rel} OWNER TO {q(owner)}")
            cur.execute(f'GRANT USAGE ON SCHEMA public TO {q(other)}; GRANT SELECT ON "User" TO {q(other)}')
        info["conn"] = c

        def own_functions():
            with c.cursor() as cur:
                cur.execute("SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace")
                for fn in [r[0] for r in cur.fetchall()]:
                    cur.execute(f"ALTER FUNCTION {fn} OWNER TO {q(owner)}")

        info["own_functions"] = own_functions
        yield info
    finally:
        with contextlib.suppress(Exception):
            info["conn"].close()
        admin.close()
        pg.drop_db(name)
        a = pg.admin()
        with a.cursor() as cur:
            for r in (owner, other):
                cur.execute(f"DROP ROLE IF EXISTS {q(r)}")
        a.close()


def test_item8_blocker_of_another_role_is_named_with_what_is_known(role_db, workdir):
    role_db["own_functions"]()
    blocker = psycopg2.connect(role_db["other_url"], application_name="nightly-report")
    try:
        with blocker.cursor() as cur:
            cur.execute('SELECT count(*) FROM "User"')  # ACCESS SHARE held, transaction open
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        rc, _, err = cli("migrate", *args(role_db["url"], workdir, "--no-backup", "--lock-timeout", "200ms",
                                          "--attempts", "1"))
    finally:
        blocker.rollback()
        blocker.close()
    assert rc == 1, err
    line = one_line(err)
    assert f"pid {pid}" in line and f"role {role_db['other']}" in line and "hidden" in line, line
    assert "None" not in line, line


def test_item11_function_owned_by_another_role_is_refused_in_preflight(role_db, workdir):
    from runbook.api import plan
    from runbook.ops import ReplaceFunction

    url = role_db["url"]
    assert any(isinstance(o, ReplaceFunction) for o in plan(url).ops), "the plan rewrites a function"
    before = state(role_db["admin_url"])
    rc, _, err = cli("migrate", *args(url, workdir))  # with its backup
    assert rc == 2, err
    line = one_line(err)
    assert "function" in line and "does not own" in line and "nothing was changed" in line, line
    assert not (workdir / "backups").exists() or not list((workdir / "backups").iterdir()), "a backup was taken"
    assert state(role_db["admin_url"]) == before
    assert no_bookkeeping(role_db["admin_url"])


# -- item 12: Ctrl-C ------------------------------------------------------------------------------


def _interrupt_at(url: str, work: Path, point: str, *extra: str) -> subprocess.CompletedProcess:
    """`runbook migrate` paused by its fault hook at `point`, then sent SIGINT."""
    flag = work / f"paused-{secrets.token_hex(3)}"
    proc = subprocess.Popen([str(RUNBOOK), "migrate", *args(url, work, "--no-backup", *extra)], cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "RUNBOOK_FAULT": f"pause:{point}", "RUNBOOK_PAUSE_FILE": str(flag)})
    try:
        deadline = time.monotonic() + 90
        while not flag.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"migrate never paused at {point}"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _run_status(url: str) -> list[tuple]:
    return rows(url, "SELECT status, summary FROM runbook.runs ORDER BY started_at")


@pytest.mark.parametrize("where", ["prepare", "lock"])
def test_item12_ctrl_c_before_commit_is_named_and_undone(ref_db, workdir, where):
    from runbook.api import plan

    phases = [o.phase for o in plan(ref_db).ops]
    k = phases.index("prepare") + 1 if where == "prepare" else phases.index("lock") + 4
    before = state(ref_db)
    r = _interrupt_at(ref_db, workdir, str(k))
    assert r.returncode == 1, r.stderr
    line = one_line(r.stderr)
    assert "interrupted (SIGINT" in line and "before the migration committed" in line and "as it was" in line, line
    assert "set_session" not in line
    assert state(ref_db) == before
    assert [s for s, _ in _run_status(ref_db)] == ["failed"]


@pytest.mark.parametrize("then", ["migrate", "verify"])
def test_item12_ctrl_c_after_commit_is_recorded_and_verified_next_time(ref_db, workdir, then):
    r = _interrupt_at(ref_db, workdir, "verify")
    assert r.returncode == 1, r.stderr
    line = one_line(r.stderr)
    assert "interrupted (SIGINT" in line and "after the migration committed" in line, line
    assert "committed, not verified" in line and "runbook migrate" in line, line
    (status, summary), = _run_status(ref_db)
    assert status == "committed" and summary["verified"] is False, (status, summary)
    assert scalar(ref_db, "SELECT to_regclass('public.chat_sessions') IS NOT NULL")
    if then == "verify":
        rc, out, err = cli("verify", "--database-url", ref_db, "--json")
        assert rc == 0 and json.loads(out)["ok"], err
    else:
        rc, out, err = cli("migrate", *args(ref_db, workdir, "--no-backup", "--json"))
        assert rc == 0, err
        res = json.loads(out)
        assert res["status"] == "migrated" and res["verification"]["ok"], res
        assert "verified migration" in res["message"]
    (status, summary), = _run_status(ref_db)
    assert status == "migrated" and summary["verified"] is True
    rc, out, _ = cli("migrate", *args(ref_db, workdir, "--no-backup"))
    assert rc == 0 and "nothing to do" in out


# -- item 13: exit codes do not depend on --json ----------------------------------------------------------


def test_item13_exit_codes_do_not_depend_on_json(ref_db, workdir):
    def both(*a):
        rc_text, _, err_text = cli(*a)
        rc_json, out_json, err_json = cli(*a, "--json")
        assert rc_text == rc_json, (a, rc_text, rc_json, err_text, err_json)
        return rc_text

    w = ["--database-url", ref_db]
    run = args(ref_db, workdir, "--no-backup")
    assert both("verify", *w) == 2  # nothing migrated yet
    assert both("rollback", *run) == 2
    assert both("check-schema", *w) in (0, 1)
    assert both("merge-legacy", *w, "--status") == 0
    execute(ref_db, "CREATE TABLE public.chat_sessions (id int)")  # a conflict: the plan is blocked
    assert both("analyze", *w) == 2
    assert both("plan", *w, "--out", str(workdir / "sql")) == 2
    assert both("migrate", *run, "--dry-run") == 2
    assert both("migrate", *run) == 2
    execute(ref_db, "DROP TABLE public.chat_sessions")
    assert both("analyze", *w) == 0
    assert both("migrate", *run, "--dry-run") == 0
