"""Reliability (issue 5): nothing is lost under load, lock contention, a crash at every
step, backup faults, bad input and leaked secrets, against a real PostgreSQL server.

Every test is bounded in time (subprocess timeouts, thread joins with timeouts) and
talks only to the test server on 127.0.0.1 / its Unix socket. ``.ci/run`` runs this
module on the embedded PostgreSQL 18 and on Debian's PostgreSQL 15.

"The database equals the original" means: ``pg_dump --schema-only
--exclude-schema=runbook`` is identical, and every table of schema ``public`` has the
same row count and content checksum (``sum(hashtextextended(row::text, 0))``), the
audit table's own runbook rows excepted (those are the evidence of the run).
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

from runbook.cli import main as cli_main
from runbook.execute import ADVISORY_KEY
from runbook.naming import literal, q
from runbook.pgbin import client_bin_dir

RUNBOOK = Path(sys.executable).with_name("runbook")
PG_DUMP = client_bin_dir() / "pg_dump"
AUDIT = "AuditLog"


# -- helpers -------------------------------------------------------------------------------


def connect(url: str, app: str = "reliability-test", autocommit: bool = True):
    c = psycopg2.connect(url, application_name=app, connect_timeout=10)
    c.autocommit = autocommit
    return c


def scalar(url: str, sql: str, args=None):
    c = connect(url)
    try:
        with c.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchone()[0]
    finally:
        c.close()


def run_cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``runbook ARGS`` as a separate process (what an operator runs)."""
    return subprocess.run([str(RUNBOOK), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def cli(*args: str) -> tuple[int, str, str]:
    """``runbook ARGS`` in this process (fast); an uncaught exception fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli_main(list(args))
    return rc, out.getvalue(), err.getvalue()


def catalog(url: str) -> str:
    """``pg_dump --schema-only --exclude-schema=runbook``, without its comments and the
    random ``\\restrict`` key of recent pg_dump versions."""
    r = subprocess.run([str(PG_DUMP), "--schema-only", "--exclude-schema=runbook", f"--dbname={url}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    keep = [l for l in r.stdout.splitlines() if l and not l.startswith(("--", "\\restrict", "\\unrestrict"))]
    return "\n".join(keep)


def checksums(url: str) -> dict[str, tuple[int, str]]:
    """Row count and content checksum of every table of schema public, in one query."""
    c = connect(url)
    try:
        with c.cursor() as cur:
            cur.execute("SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
                        "AND c.relkind IN ('r', 'p') ORDER BY 1")
            names = [r[0] for r in cur.fetchall()]
            parts = []
            for n in names:
                where = " WHERE t.entity IS DISTINCT FROM 'runbook'" if n == AUDIT else ""
                parts.append(f"SELECT {literal(n)}::text, count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text "
                             f"FROM public.{q(n)} t{where}")
            cur.execute(" UNION ALL ".join(parts))
            return {name: (n, s) for name, n, s in cur.fetchall()}
    finally:
        c.close()


def db_state(url: str) -> dict:
    return {"catalog": catalog(url), "tables": checksums(url)}


def state_diff(a: dict, b: dict, limit: int = 40) -> str:
    """A short human-readable difference between two db_state() results ('' if equal)."""
    out = []
    if a["catalog"] != b["catalog"]:
        d = difflib.unified_diff(a["catalog"].splitlines(), b["catalog"].splitlines(), "before", "after", lineterm="", n=1)
        out.extend(list(d)[:limit])
    for t in sorted(set(a["tables"]) | set(b["tables"])):
        if a["tables"].get(t) != b["tables"].get(t):
            out.append(f"table {t}: {a['tables'].get(t)} -> {b['tables'].get(t)}")
    return "\n".join(out[:limit])


def advisory_lock_free(url: str, timeout: float = 10.0) -> bool:
    """No session holds runbook's advisory lock (waits for killed clients' backends to exit)."""
    deadline = time.monotonic() + timeout
    while True:
        held = scalar(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s "
                           "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                      ((ADVISORY_KEY >> 32) & 0xFFFFFFFF, ADVISORY_KEY & 0xFFFFFFFF))
        if held == 0:
            return scalar(url, "SELECT pg_try_advisory_lock(%s) AND pg_advisory_unlock(%s)", (ADVISORY_KEY, ADVISORY_KEY))
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def wait_runbook_gone(url: str, timeout: float = 10.0) -> None:
    """Wait until no backend of a (killed) runbook process is left on the database."""
    deadline = time.monotonic() + timeout
    while scalar(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND application_name LIKE 'runbook%%'"):
        assert time.monotonic() < deadline, "a killed runbook process left a backend behind"
        time.sleep(0.05)


def plan_phases(url: str) -> list[str]:
    """The phase of each step of the plan runbook would run now (step k = index k-1)."""
    from runbook.api import plan

    return [op.phase for op in plan(url).ops]


def one_line(stderr: str) -> str:
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected exactly one line on stderr, got {len(lines)}:\n{stderr[-3000:]}"
    assert "Traceback" not in stderr
    return lines[0]


def audit_events(url: str) -> list[tuple[str, dict]]:
    c = connect(url)
    try:
        with c.cursor() as cur:
            cur.execute(f'SELECT action, details FROM public."{AUDIT}" WHERE entity = %s ORDER BY id', ("runbook",))
            return cur.fetchall()
    finally:
        c.close()


def log_lines(log_dir: Path) -> list[tuple[datetime, str]]:
    out = []
    for f in sorted(Path(log_dir).glob("migration-log-*.txt")):
        for line in f.read_text().splitlines():
            stamp, _, msg = line.partition(" ")
            out.append((datetime.fromisoformat(stamp), msg))
    return out


@pytest.fixture
def db(pg, reference_template):
    """A fresh copy of the reference legacy database (1k messages): (name, url)."""
    name = pg.create_db(template=reference_template)
    yield name, pg.url(name)
    pg.drop_db(name)


@pytest.fixture(scope="module")
def original(pg, reference_template) -> dict:
    """db_state() of the reference legacy database as the tests receive it."""
    name = pg.create_db(template=reference_template)
    try:
        return db_state(pg.url(name))
    finally:
        pg.drop_db(name)


def _args(url: str, work: Path, *extra: str) -> list[str]:
    return ["--database-url", url, "--no-progress", "--backup-dir", str(work / "backups"),
            "--log-dir", str(work / "logs"), *extra]


# -- 1. concurrent load ------------------------------------------------------------------------

OLD = {"sessions": "AssistantChatSession", "messages": "AssistantChatMessage", "title": "sessionName",
       "last": "lastActiveAt"}
NEW = {"sessions": "chat_sessions", "messages": "chat_messages", "title": "title", "last": "lastMessageAt"}


class Client(threading.Thread):
    """A service that writes or reads chat sessions and messages, and switches to the new
    names when the old ones stop existing (as a restarted service would)."""

    def __init__(self, url: str, name: str, users: list[str], stop: threading.Event, writer: bool):
        super().__init__(name=name, daemon=True)
        self.url, self.users, self.stop, self.writer = url, users, stop, writer
        self.names = OLD
        self.acked_sessions: list[str] = []
        self.acked_messages: list[str] = []
        self.null_titles: list[str] = []  # sessions written with a NULL name (old era)
        self.eras = {"old": 0, "new": 0}
        self.max_latency = 0.0
        self.errors: list[str] = []
        self.ops = 0

    def _do(self, cur, fn) -> None:
        """Run one operation until it succeeds; its latency counts from the first try."""
        t0 = time.perf_counter()
        for _ in range(5):
            try:
                fn(cur, self.names)
                cur.connection.commit()
                break
            except (psycopg2.errors.UndefinedTable, psycopg2.errors.UndefinedColumn):
                cur.connection.rollback()
                if self.names is NEW:
                    raise
                self.names = NEW
        else:
            raise AssertionError("could not complete an operation in 5 tries")
        self.eras["new" if self.names is NEW else "old"] += 1
        self.max_latency = max(self.max_latency, time.perf_counter() - t0)
        self.ops += 1

    def run(self) -> None:
        try:
            conn = connect(self.url, app=self.name, autocommit=False)
            n = 0
            with conn.cursor() as cur:
                while not self.stop.is_set():
                    n += 1
                    user = self.users[n % len(self.users)]
                    if self.writer:
                        sid, mid = f"{self.name}-s{n}", f"{self.name}-m{n}"
                        null = False

                        def ins_session(cur, nm):
                            # a legacy client leaves some session names NULL; a new one must give a title
                            nonlocal null
                            null = nm is OLD and n % 3 == 0
                            cur.execute(f'INSERT INTO {q(nm["sessions"])} (id, "userId", {q(nm["title"])}, "updatedAt") '
                                        "VALUES (%s, %s, %s, now())", (sid, user, None if null else f"chat {n}"))

                        def ins_message(cur, nm):
                            cur.execute(f'INSERT INTO {q(nm["messages"])} (id, "sessionId", role, content) '
                                        "VALUES (%s, %s, 'user', %s)", (mid, sid, f"hello {n}"))

                        self._do(cur, ins_session)
                        self.acked_sessions.append(sid)
                        if null:
                            self.null_titles.append(sid)
                        self._do(cur, ins_message)
                        self.acked_messages.append(mid)
                    else:
                        def read(cur, nm):
                            cur.execute(f'SELECT s.id, {q(nm["title"])}, count(m.id) FROM {q(nm["sessions"])} s '
                                        f'LEFT JOIN {q(nm["messages"])} m ON m."sessionId" = s.id '
                                        'WHERE s."userId" = %s GROUP BY s.id LIMIT 20', (user,))
                            cur.fetchall()

                        self._do(cur, read)
                    time.sleep(0.002)
            conn.close()
        except Exception as exc:  # reported by the test
            self.errors.append(f"{type(exc).__name__}: {exc}".strip())


def test_concurrent_load_loses_no_acknowledged_write(db, workdir):
    """4 writers and 4 readers keep working while `runbook migrate --online` runs; every
    acknowledged write is present exactly once, and no client waited longer than
    lock_timeout."""
    _, url = db
    # below deadlock_timeout (1s): a service transaction that locks a child table, then its
    # parent, while LOCK TABLE holds the parent and waits for the child, must end by our
    # lock timeout and a retry (see test_deadlock_with_a_service_transaction_is_retried)
    lock_timeout = 0.5
    slack = 0.25  # the blocked statement's own work and a loaded 2-core CI machine
    c = connect(url)
    with c.cursor() as cur:
        cur.execute('SELECT id FROM "User" ORDER BY id LIMIT 8')
        users = [r[0] for r in cur.fetchall()]
    c.close()
    stop = threading.Event()
    clients = [Client(url, f"writer-{i}", users, stop, True) for i in range(4)]
    clients += [Client(url, f"reader-{i}", users, stop, False) for i in range(4)]
    for t in clients:
        t.start()
    try:
        time.sleep(0.5)
        r = run_cli("migrate", *_args(url, workdir, "--online", "--json", "--lock-timeout", f"{int(lock_timeout * 1000)}ms",
                                      "--attempts", "10"), cwd=workdir, timeout=180)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in clients:
            t.join(timeout=30)
    assert not any(t.is_alive() for t in clients), "a client thread did not stop"
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout)
    assert summary["status"] == "migrated"
    for t in clients:
        assert not t.errors, f"{t.name}: {t.errors}"
        assert t.eras["old"] > 0 and t.eras["new"] > 0, f"{t.name} did not work on both sides: {t.eras}"
        assert t.max_latency < lock_timeout + slack, \
            f"{t.name} waited {t.max_latency:.3f}s > lock_timeout {lock_timeout}s"
    writers = [t for t in clients if t.writer]
    sessions = [s for t in writers for s in t.acked_sessions]
    messages = [m for t in writers for m in t.acked_messages]
    nulls = [s for t in writers for s in t.null_titles]
    assert len(sessions) > 100 and nulls
    c = connect(url)
    with c.cursor() as cur:
        cur.execute("SELECT id, count(*) FROM chat_sessions WHERE id = ANY(%s) GROUP BY id", (sessions,))
        got = dict(cur.fetchall())
        cur.execute("SELECT id, count(*) FROM chat_messages WHERE id = ANY(%s) GROUP BY id", (messages,))
        got_m = dict(cur.fetchall())
        cur.execute("SELECT count(*) FROM chat_sessions WHERE id = ANY(%s) AND title IS DISTINCT FROM 'Untitled chat'",
                    (nulls,))
        unfilled = cur.fetchone()[0]
        cur.execute('SELECT count(*) FROM chat_sessions WHERE title IS NULL')
        null_now = cur.fetchone()[0]
    c.close()
    assert set(got) == set(sessions) and set(got.values()) == {1}, \
        f"{len(set(sessions) - set(got))} acknowledged sessions missing"
    assert set(got_m) == set(messages) and set(got_m.values()) == {1}, \
        f"{len(set(messages) - set(got_m))} acknowledged messages missing"
    assert unfilled == 0, "sessions written with a NULL name during the run were not given the placeholder title"
    assert null_now == 0
    print(f"\nconcurrent load: {len(sessions)} sessions, {len(messages)} messages acknowledged; longest wait "
          f"{max(t.max_latency for t in clients) * 1000:.1f} ms; lock window {summary['lock_window_s'] * 1000:.1f} ms, "
          f"attempt {summary['attempts']}")


# -- 2. lock contention ----------------------------------------------------------------------


class Blocker:
    """A session idle in transaction holding ACCESS SHARE on "User"."""

    def __init__(self, url: str):
        self.conn = connect(url, app="blocking-report-job", autocommit=False)
        with self.conn.cursor() as cur:
            cur.execute('SELECT count(*) FROM "User"')
            cur.execute("SELECT pg_backend_pid()")
            self.pid = cur.fetchone()[0]

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


def test_lock_contention_fails_cleanly_after_the_attempts(db, workdir, original):
    _, url = db
    blocker = Blocker(url)
    try:
        time.sleep(1.1)  # so that its age reads at least 1s
        t0 = time.monotonic()
        r = run_cli("migrate", *_args(url, workdir, "--lock-timeout", "300ms", "--attempts", "3"), cwd=workdir, timeout=120)
        elapsed = time.monotonic() - t0
    finally:
        blocker.release()
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    line = one_line(r.stderr)
    assert f"pid {blocker.pid}" in line, line
    assert "blocking-report-job" in line, line
    assert re.search(r"open [1-9]\d*s", line), f"no age in: {line}"
    assert "3 attempts" in line, line
    # each attempt waited at most lock_timeout (plus scheduling slack); the waits between
    # attempts are the capped exponential backoff with jitter
    lines = log_lines(workdir / "logs")
    retries = [(t, m) for t, m in lines if m.startswith("lock not available")]
    assert len(retries) == 2, [m for _, m in lines]
    last_prepare = max(t for t, m in lines if m.startswith("step "))
    failed_at = next(t for t, m in lines if m.startswith("FAILED"))
    delays = [float(re.search(r"retrying in ([\d.]+)s", m).group(1)) for _, m in retries]
    for i, d in enumerate(delays, start=1):
        assert 0 <= d <= min(5.0, 0.2 * 2 ** (i - 1)) + 1e-9, (i, d)
    starts = [last_prepare] + [t for t, _ in retries]
    ends = [t for t, _ in retries] + [failed_at]
    for i, (s, e) in enumerate(zip(starts, ends)):
        waited = (e - s).total_seconds() - (delays[i - 1] if i else 0.0)
        assert 0.25 <= waited <= 0.3 + 0.25, f"attempt {i + 1} waited {waited:.3f}s for lock_timeout 300ms"
    assert elapsed < 30
    # nothing changed, and the failure is on record
    assert advisory_lock_free(url)
    diff = state_diff(original, db_state(url))
    assert not diff, diff
    events = audit_events(url)
    assert [e for e, _ in events].count("migration_failed") == 1, events
    fail = next(d for e, d in events if e == "migration_failed")
    assert f"pid {blocker.pid}" in fail["error"]


def test_lock_contention_succeeds_when_the_blocker_leaves_half_way(db, workdir):
    _, url = db
    blocker = Blocker(url)
    proc = subprocess.Popen([str(RUNBOOK), "migrate", *_args(url, workdir, "--lock-timeout", "300ms", "--attempts", "6",
                                                             "--json")],
                            cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not any("attempt 3/6" in m for _, m in log_lines(workdir / "logs")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "migrate never reached its third attempt"
            time.sleep(0.01)
        blocker.release()
        out, err = proc.communicate(timeout=120)
    finally:
        blocker.release()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    summary = json.loads(out)
    assert summary["status"] == "migrated"
    assert summary["attempts"] == 4, summary["attempts"]
    assert summary["verification"]["ok"]
    assert advisory_lock_free(url)


def test_deadlock_with_a_service_transaction_is_retried(db, workdir):
    """A service transaction holds the messages table, migrate takes the parents and waits
    for it, then the service touches a session: migrate must retry, not fail."""
    _, url = db
    app = connect(url, app="chat-service", autocommit=False)
    try:
        with app.cursor() as cur:
            cur.execute('DELETE FROM "AssistantChatMessage" WHERE false')  # ROW EXCLUSIVE on the child
        # --online: the service writes a row during the run, so exact equality is not expected
        proc = subprocess.Popen([str(RUNBOOK), "migrate", *_args(url, workdir, "--json", "--online")], cwd=workdir,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not scalar(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                              "AND application_name = 'runbook-migrate' AND wait_event_type = 'Lock'"):
            assert proc.poll() is None and time.monotonic() < deadline, "migrate never waited for the lock"
            time.sleep(0.01)
        with app.cursor() as cur:  # now the parent: waits for migrate, which waits for us
            cur.execute('UPDATE "AssistantChatSession" SET "updatedAt" = now() '
                        'WHERE id = (SELECT id FROM "AssistantChatSession" ORDER BY id LIMIT 1)')
        app.commit()
        out, err = proc.communicate(timeout=120)
    finally:
        app.close()
    assert proc.returncode == 0, err.strip()
    assert json.loads(out)["status"] == "migrated"


# -- nothing that scans or rewrites a table while services are locked out ----------------------


def test_not_null_check_is_validated_in_its_own_transaction(db, workdir):
    """The CHECK behind SET NOT NULL is added NOT VALID and validated in a later
    transaction (VALIDATE takes only SHARE UPDATE EXCLUSIVE). Evidence: ADD updates the
    table's pg_class row, VALIDATE only the constraint's row, so their xmin differ."""
    from runbook.api import plan

    _, url = db
    kinds = [op.kind for op in plan(url).ops]
    k = kinds.index("add check") + 1
    r = run_cli("migrate", *_args(url, workdir, "--no-backup"), cwd=workdir, env={"RUNBOOK_FAULT": f"kill:{k}"})
    assert r.returncode == -9, r.stderr[-2000:]
    wait_runbook_gone(url)
    rows = scalar(url, "SELECT array_agg(c.xmin::text = k.xmin::text) FROM pg_class c JOIN pg_constraint k "
                       "ON k.conrelid = c.oid WHERE k.contype = 'c' AND k.convalidated "
                       "AND c.relname = 'AssistantChatSession'")
    assert rows == [False], "ADD CONSTRAINT and VALIDATE CONSTRAINT committed in the same transaction"


def test_rollback_lock_transaction_is_catalog_only(db, workdir):
    _, url = db
    rc, _, err = cli("migrate", *_args(url, workdir, "--no-backup"))
    assert rc == 0, err
    r = run_cli("rollback", *_args(url, workdir, "--drop-added-columns", "--json"), cwd=workdir)
    assert r.returncode == 0, r.stderr[-2000:]
    steps = json.loads(r.stdout)["steps"]
    in_lock = [s["description"] for s in steps if s["phase"] == "lock" and s["kind"] in ("restore nulls", "fill nulls")]
    assert not in_lock, f"row updates under the exclusive locks: {in_lock}"


def test_online_ddl_does_not_hold_writers_in_the_lock_queue(db, workdir):
    """While something holds SHARE UPDATE EXCLUSIVE on the sessions table (autovacuum, an
    index built CONCURRENTLY), migrate's online DDL on it must give way quickly instead of
    queueing every writer behind itself."""
    _, url = db
    c = connect(url)
    with c.cursor() as cur:
        cur.execute('SELECT id FROM "User" ORDER BY id LIMIT 4')
        users = [r[0] for r in cur.fetchall()]
    c.close()
    holder = connect(url, app="autovacuum-like", autocommit=False)
    with holder.cursor() as cur:
        cur.execute('LOCK TABLE "AssistantChatSession" IN SHARE UPDATE EXCLUSIVE MODE')
    release = threading.Timer(2.0, lambda: (holder.rollback(), holder.close()))
    stop = threading.Event()
    writer = Client(url, "writer-0", users, stop, True)
    writer.start()
    try:
        time.sleep(0.2)
        release.start()
        r = run_cli("migrate", *_args(url, workdir, "--online", "--json"), cwd=workdir, timeout=120)
        time.sleep(0.2)
    finally:
        stop.set()
        writer.join(timeout=30)
        release.join(timeout=10)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not writer.errors, writer.errors
    assert writer.max_latency < 0.5, f"a writer waited {writer.max_latency:.2f}s behind runbook's online DDL"


# -- 3. a crash at every step ----------------------------------------------------------------


@pytest.fixture(scope="module")
def crash_setup(pg, reference_template, tmp_path_factory) -> dict:
    """The plan's phases, and db_state() after a run killed right after its last prepare
    step (what a kill anywhere in the lock phase must leave, since that phase is one
    transaction)."""
    work = tmp_path_factory.mktemp("crash")
    name = pg.create_db(template=reference_template)
    try:
        url = pg.url(name)
        phases = plan_phases(url)
        n_prep = phases.count("prepare")
        prepared = None
        if n_prep:
            r = run_cli("migrate", *_args(url, work), cwd=work, env={"RUNBOOK_FAULT": f"kill:{n_prep}"})
            assert r.returncode == -9, r.stderr[-2000:]
            wait_runbook_gone(url)
            prepared = db_state(url)
        return {"phases": phases, "prepared": prepared, "work": work}
    finally:
        pg.drop_db(name)


def _crash_once(pg, reference_template, original, setup, k: int, rerun_first: bool = False,
                via_cli: bool = False) -> list[str]:
    """Kill `runbook migrate` right after step k, then roll back and re-run (or re-run
    and roll back); return what went wrong (empty: fine). Thread-safe unless via_cli."""
    problems = []
    work = Path(tempfile.mkdtemp(dir=setup["work"]))
    name = pg.create_db(template=reference_template)
    url = pg.url(name)
    phase = setup["phases"][k - 1]
    try:
        # no pg_dump in these runs: the backup comes before step 1 and is tested elsewhere
        r = run_cli("migrate", *_args(url, work, "--no-backup"), cwd=work, env={"RUNBOOK_FAULT": f"kill:{k}"})
        if r.returncode != -9:
            return [f"step {k} ({phase}): not killed (exit {r.returncode}): {r.stderr.strip()[-300:]}"]
        wait_runbook_gone(url)
        if not advisory_lock_free(url):
            problems.append(f"step {k}: the advisory lock is still held after the kill")
        if phase == "lock" and setup["prepared"] is not None:
            d = state_diff(setup["prepared"], db_state(url))
            if d:
                problems.append(f"step {k} (lock): the killed lock transaction left changes:\n{d}")
        for cmd in (["migrate", "rollback"] if rerun_first else ["rollback", "migrate"]):
            err = _run_after_crash(cmd, url, work, via_cli)
            if err:
                problems.append(f"step {k} ({phase}): `runbook {cmd}` after the kill failed: {err}")
                break
            if cmd == "rollback":
                d = state_diff(original, db_state(url))
                if d:
                    problems.append(f"step {k} ({phase}): after `runbook rollback` the database differs:\n{d}")
        if not advisory_lock_free(url):
            problems.append(f"step {k}: the advisory lock is held after the re-run")
    finally:
        pg.drop_db(name)
    return problems


def _run_after_crash(cmd: str, url: str, work: Path, via_cli: bool) -> str | None:
    """`runbook migrate` or `runbook rollback --drop-added-columns`; an error text or None."""
    from runbook import api
    from runbook.errors import RunbookError

    if via_cli:
        r = run_cli(cmd, *_args(url, work, *(["--drop-added-columns"] if cmd == "rollback" else ["--no-backup"])),
                    cwd=work)
        return None if r.returncode == 0 else f"exit {r.returncode}: {r.stderr.strip()[-500:]}"
    opts = dict(progress=False, backup_dir=str(work / "backups"), log_dir=str(work / "logs"))
    try:
        if cmd == "rollback":
            res = api.rollback(url, None, drop_added_columns=True, **opts)
        else:
            res = api.migrate(url, None, backup=False, **opts)
    except RunbookError as exc:
        return str(exc)
    return None if res.ok else f"status {res.status}: {res.message}"


def _crash_all(pg, reference_template, original, setup, ks: list[int], **kw) -> list[str]:
    """_crash_once for every k, two at a time (each on its own database)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda k: _crash_once(pg, reference_template, original, setup, k, **kw), ks)
        return [p for r in results for p in r]


def _steps_of(setup, phase: str) -> list[int]:
    return [i + 1 for i, p in enumerate(setup["phases"]) if p == phase]


def test_crash_after_each_prepare_step(pg, reference_template, original, crash_setup):
    """SIGKILL right after each online prepare step: `runbook rollback` recovers the
    interrupted run to the original database; a re-run then succeeds."""
    ks = _steps_of(crash_setup, "prepare")
    assert ks, "the reference plan has prepare steps"
    problems = [p for k in ks for p in _crash_once(pg, reference_template, original, crash_setup, k, via_cli=True)]
    assert not problems, "\n".join(problems)


def test_crash_after_each_lock_step(pg, reference_template, original, crash_setup):
    """SIGKILL right after each step of the lock transaction: nothing of that
    transaction remains (the database is as the prepare phase left it), the advisory
    lock is free, `runbook rollback` gives back the original, and a re-run succeeds."""
    ks = _steps_of(crash_setup, "lock")
    assert len(ks) > 10
    problems = _crash_all(pg, reference_template, original, crash_setup, ks)
    assert not problems, "\n".join(problems)


def test_crash_then_rerun_recovers_by_itself(pg, reference_template, original, crash_setup):
    """The operator simply re-runs `runbook migrate` after a crash: it recovers and
    succeeds; its rollback then gives back the original."""
    prep, lock = _steps_of(crash_setup, "prepare"), _steps_of(crash_setup, "lock")
    ks = sorted({prep[0], prep[-1], lock[0], lock[len(lock) // 2], lock[-1]})
    problems = _crash_all(pg, reference_template, original, crash_setup, ks, rerun_first=True)
    assert not problems, "\n".join(problems)


def test_crash_after_the_finish_step(pg, reference_template, original, crash_setup):
    """SIGKILL after a finish step (after COMMIT): `runbook rollback` still gives back the
    original, and a re-run succeeds."""
    ks = _steps_of(crash_setup, "finish")
    assert ks
    problems = _crash_all(pg, reference_template, original, crash_setup, ks)
    assert not problems, "\n".join(problems)


def test_migration_connection_terminated_mid_transaction(db, workdir, original):
    """pg_terminate_backend on the lock transaction after most of its steps ran: the run
    fails with one line, the database is exactly the original, a re-run succeeds."""
    from runbook.api import plan
    from runbook.ops import ReplaceFunction

    _, url = db
    fn = next((o for o in plan(url).ops if isinstance(o, ReplaceFunction)), None)
    assert fn is not None, "the reference plan rewrites a function"
    # Hold the function's catalog row: the lock transaction will wait on it at that step,
    # after it has taken its locks and run every step before it.
    holder = connect(url, app="function-holder", autocommit=False)
    with holder.cursor() as cur:
        cur.execute(fn.old_definition)  # an uncommitted CREATE OR REPLACE of the same body
    killed: list[int] = []
    w = threading.Thread(target=_watch_and_terminate, args=(url, killed), daemon=True)
    w.start()
    try:
        r = run_cli("migrate", *_args(url, workdir, "--lock-timeout", "20s"), cwd=workdir, timeout=120)
    finally:
        w.join(timeout=70)
        holder.rollback()
        holder.close()
    assert killed, "the migration's connection was never seen waiting"
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    line = one_line(r.stderr)
    assert "terminat" in line.lower() or "connection" in line.lower(), line
    assert advisory_lock_free(url)
    diff = state_diff(original, db_state(url))
    assert not diff, diff
    assert "migration_failed" in [e for e, _ in audit_events(url)]
    rc, out, err = cli("migrate", *_args(url, workdir))
    assert rc == 0, err


def _watch_and_terminate(url: str, killed: list[int]) -> None:
    c = connect(url, app="terminator")
    try:
        deadline = time.monotonic() + 60
        with c.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                            "AND application_name = 'runbook-migrate' AND wait_event_type = 'Lock'")
                row = cur.fetchone()
                if row:
                    cur.execute("SELECT pg_terminate_backend(%s)", (row[0],))
                    killed.append(row[0])
                    return
                time.sleep(0.01)
    finally:
        c.close()


# -- 4. backup faults -----------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(path: Path, options: str):
    """A tmpfs mounted at ``path`` for the test (root only), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def _assert_stopped_before_ddl(url: str, before: dict, r: subprocess.CompletedProcess, *words: str) -> str:
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    line = one_line(r.stderr)
    for w in words:
        assert w.lower() in line.lower(), f"{w!r} not in: {line}"
    assert "nothing was changed" in line, line
    diff = state_diff(before, db_state(url))
    assert not diff, diff
    # not even runbook's own bookkeeping: the run stopped before anything was written
    assert scalar(url, "SELECT to_regclass('runbook.runs') IS NULL")
    assert audit_events(url) == []
    assert advisory_lock_free(url)
    return line


def test_backup_folder_is_not_a_directory(db, workdir, original):
    """The backup folder cannot exist (its parent is a file): stops before any DDL."""
    _, url = db
    (workdir / "a-file").write_text("not a folder")
    r = run_cli("migrate", "--database-url", url, "--no-progress", "--backup-dir", str(workdir / "a-file" / "backups"),
                "--log-dir", str(workdir / "logs"), cwd=workdir)
    _assert_stopped_before_ddl(url, original, r, "a-file/backups")


def test_backup_folder_read_only(db, workdir, original):
    """A read-only file system (root ignores permission bits, not a read-only mount)."""
    _, url = db
    with tmpfs(workdir / "ro", "size=256m,ro") as ro:
        r = run_cli("migrate", "--database-url", url, "--no-progress", "--backup-dir", str(ro),
                    "--log-dir", str(workdir / "logs"), cwd=workdir)
        assert list(ro.iterdir()) == []
    _assert_stopped_before_ddl(url, original, r, str(ro), "writable")


def test_backup_disk_full(db, workdir, original):
    """A 1 MB file system: the preflight sees it cannot hold the backup."""
    _, url = db
    with tmpfs(workdir / "full", "size=1m") as full:
        r = run_cli("migrate", "--database-url", url, "--no-progress", "--backup-dir", str(full),
                    "--log-dir", str(workdir / "logs"), cwd=workdir)
        assert list(full.iterdir()) == []
    _assert_stopped_before_ddl(url, original, r, "disk space")


def test_rollback_stops_when_its_backup_cannot_be_written(db, workdir):
    """`rollback --drop-added-columns` dumps the tables it drops columns from first; with
    a read-only backup folder it stops with one line and changes nothing."""
    _, url = db
    rc, _, err = cli("migrate", *_args(url, workdir, "--no-backup"))
    assert rc == 0, err
    before = db_state(url)
    with tmpfs(workdir / "ro", "size=16m,ro") as ro:
        r = run_cli("rollback", "--database-url", url, "--no-progress", "--drop-added-columns", "--backup-dir", str(ro),
                    "--log-dir", str(workdir / "logs"), cwd=workdir)
        assert list(ro.iterdir()) == []
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    line = one_line(r.stderr)
    assert "writable" in line and "nothing was changed" in line, line
    assert not state_diff(before, db_state(url))
    assert advisory_lock_free(url)


def test_a_backup_stopped_before_it_is_needed_leaves_no_process_and_no_file(db, workdir):
    """What migrate does when it stops after pg_dump started (an interrupt, a failed baseline)."""
    from runbook.execute.backup import BackupJob

    _, url = db
    job = BackupJob(url, workdir / "backups", "stopped", int(scalar(url, "SHOW server_version_num")))
    job.cancel()
    assert job._proc.poll() is not None, "pg_dump still running"
    assert not job.path.exists()
    assert not job._flusher.is_alive()


def test_backup_disk_fills_during_the_dump(db, workdir):
    """The disk fills while pg_dump writes (the preflight's estimate passed: the data is
    stored compressed, the dump is not): pg_dump fails, the partial file is removed, and
    migrate stops before any DDL."""
    _, url = db
    c = connect(url)
    with c.cursor() as cur:
        # about 2 MB per row in the dump, a few kB stored (TOAST compresses it)
        cur.execute("CREATE TABLE public.big_notes (id int PRIMARY KEY, body text NOT NULL)")
        cur.execute("INSERT INTO public.big_notes SELECT i, repeat('runbook ' || i, 200000) FROM generate_series(1, 40) i")
        cur.execute("SELECT pg_database_size(current_database())")
        db_bytes = cur.fetchone()[0]
    c.close()
    before = db_state(url)
    size_mb = int(db_bytes * 1.3 / 2**20) + 2  # passes the preflight (1.2x the database) ...
    with tmpfs(workdir / "small", f"size={size_mb}m") as small:  # ... but not the 80 MB dump
        r = run_cli("migrate", "--database-url", url, "--no-progress", "--backup-dir", str(small),
                    "--log-dir", str(workdir / "logs"), cwd=workdir)
        assert list(small.iterdir()) == [], "the partial backup was left behind"
    _assert_stopped_before_ddl(url, before, r, "pg_dump failed", "No space left on device")


# -- 5. bad input, fuzzed ---------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

TABLES = ["User", "AssistantFolder", "AssistantChatSession", "AssistantChatMessage", "AssistantConversation",
          "AssistantMessage", "AuditLog", "UserProfile", "_prisma_migrations"]
COLUMNS = ["sessionName", "lastActiveAt", "id", "email", "userId", "createdAt", "updatedAt", "title"]
TRICKY = ["", " ", "users", "chat_x", "new_table", 'a"b', "a'b", "a;b", 'x"; DROP TABLE "User"; --', "a\\b",
          "pg_class", "pg_catalog", "pg_toast", "information_schema", "runbook", "ActiveUser", "User_pkey",
          "UserRole", "xmin", "ctid", "oid", "tableoid", "ñame", "表", "é" * 32, "a" * 63, "a" * 64, "User ",
          "\tUser", "a\x00b", "a\nb", "\u200bUser", "USER", "user"]
TYPES = ["text", "integer", "boolean", "varchar(10)", "varchar(0)", "jsonb", "timestamp", "UserRole", "serial",
         "text; DROP TABLE x", "", "int[]"]

_junk = st.one_of(st.integers(-3, 3), st.booleans(), st.lists(st.integers(0, 2), max_size=2))
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=70)
_name = st.one_of(st.sampled_from(TABLES), st.sampled_from(TRICKY), _text)
_col = st.one_of(st.sampled_from(COLUMNS), st.sampled_from(TRICKY), _text)
_value = st.one_of(_text, st.sampled_from(["USER", "ADMIN", "now()", "1", "true", "'; DROP TABLE x; --"]),
                   st.integers(-2**40, 2**40), st.booleans())
_rename = st.fixed_dictionaries({"from": _col, "to": _col},
                                optional={"not_null": st.booleans(), "fill_nulls": _value})
_ref = st.fixed_dictionaries({"table": _name, "column": _col},
                             optional={"on_delete": st.sampled_from(["CASCADE", "SET NULL", "bogus", "RESTRICT; x"])})
_add = st.fixed_dictionaries({"name": _col, "type": st.one_of(st.sampled_from(TYPES), _text)},
                             optional={"not_null": st.booleans(), "default": _value, "references": _ref})
_default = st.fixed_dictionaries({"column": _col, "default": _value})
_table = st.one_of(
    st.fixed_dictionaries({"from": _name, "to": _name},
                          optional={"rename_columns": st.lists(_rename, max_size=2),
                                    "add_columns": st.lists(_add, max_size=2),
                                    "set_defaults": st.lists(_default, max_size=1)}),
    st.fixed_dictionaries({"from": st.one_of(_name, _junk)}, optional={"to": st.one_of(_name, _junk), "x": _text}),
)
_enum = st.fixed_dictionaries({"name": _name, "values": st.lists(_text, max_size=3)})
_doc = st.fixed_dictionaries(
    {"tables": st.one_of(st.lists(_table, max_size=3), _junk)},
    optional={"schema": st.one_of(st.sampled_from(["public", "pg_catalog", "information_schema", "runbook", "nope"]),
                                  _name),
              "enums": st.lists(_enum, max_size=1), "audit_table": _name})
# near-valid documents: real tables to plausible names, with column changes whose names,
# types, defaults and fills may or may not fit (those fail at plan or run time)
_snake = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
_near_add = st.fixed_dictionaries({"name": st.one_of(_snake, st.sampled_from(TRICKY + COLUMNS)),
                                   "type": st.sampled_from(TYPES)},
                                  optional={"not_null": st.booleans(), "default": _value})
_near_rename = st.fixed_dictionaries({"from": st.sampled_from(COLUMNS), "to": st.one_of(_snake, st.sampled_from(TRICKY))},
                                     optional={"not_null": st.booleans(), "fill_nulls": _value})
_near_table = st.fixed_dictionaries({"from": st.sampled_from(TABLES), "to": st.one_of(_snake, _snake, st.sampled_from(TRICKY))},
                                    optional={"rename_columns": st.lists(_near_rename, max_size=2),
                                              "add_columns": st.lists(_near_add, max_size=2)})
_near_doc = st.fixed_dictionaries({"tables": st.lists(_near_table, min_size=1, max_size=3,
                                                      unique_by=lambda t: t["from"])},
                                  optional={"enums": st.just([{"name": "UserRole", "values": ["USER", "ADMIN"]}])})
# the session table with its two real column renames: fills, NOT NULL, defaults of any type
_session_doc = st.fixed_dictionaries({"tables": st.tuples(st.fixed_dictionaries({
    "from": st.just("AssistantChatSession"), "to": _snake,
    "rename_columns": st.lists(st.fixed_dictionaries(
        {"from": st.sampled_from(["sessionName", "lastActiveAt"]), "to": _snake},
        optional={"not_null": st.booleans(), "fill_nulls": _value}), max_size=2, unique_by=lambda r: r["from"]),
    "add_columns": st.lists(_near_add, max_size=2)})).map(list)})
_file = st.one_of(
    st.tuples(st.just("toml"), _session_doc),
    st.tuples(st.just("toml"), _near_doc),
    st.tuples(st.just("yaml"), _near_doc),
    st.tuples(st.just("toml"), _near_doc),
    st.tuples(st.just("toml"), _doc),
    st.tuples(st.just("yaml"), _doc),
    st.tuples(st.just("raw"), st.binary(max_size=200)),
)


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        out = []
        for ch in v:
            if ch in '"\\':
                out.append("\\" + ch)
            elif ord(ch) < 0x20 or ord(ch) == 0x7F:
                out.append(f"\\u{ord(ch):04x}")
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml(str(k))} = {_toml(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def _write_mapping(folder: Path, kind: str, content) -> Path:
    import yaml

    path = folder / f"mapping-{secrets.token_hex(4)}.{'yaml' if kind == 'yaml' else 'toml'}"
    if kind == "raw":
        path.write_bytes(content)
    elif kind == "yaml":
        path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    else:
        path.write_text("".join(f"{_toml(k)} = {_toml(v)}\n" for k, v in content.items()), encoding="utf-8")
    return path


CATALOG_SQL = """
SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM (
  SELECT format('ns %s', nspname) FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'runbook'
  UNION ALL
  SELECT format('class %s.%s %s %s', n.nspname, c.relname, c.relkind, c.relfilenode)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'runbook')
  UNION ALL
  SELECT format('att %s %s %s %s %s %s', a.attrelid::regclass, a.attnum, a.attname, a.atttypid::regtype,
                a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('con %s %s %s %s', conrelid::regclass, conname, convalidated, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT format('type %s %s', typname, typtype) FROM pg_type WHERE typnamespace = 'public'::regnamespace
  UNION ALL
  SELECT format('trigger %s %s', tgrelid::regclass, tgname) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT format('function %s %s', p.oid::regprocedure, md5(p.prosrc)) FROM pg_proc p
   WHERE p.pronamespace IN ('public'::regnamespace, coalesce(to_regnamespace('runbook'), 0))
) s(x)
"""


def _fingerprint(url: str):
    return scalar(url, CATALOG_SQL), checksums(url)


@pytest.fixture(scope="module")
def fuzz_env(pg, reference_template, tmp_path_factory):
    work = tmp_path_factory.mktemp("fuzz")
    env = {"pg": pg, "template": reference_template, "work": work, "name": None, "runs": [],
           "baseline": None}
    env["name"] = pg.create_db(template=reference_template)
    env["baseline"] = _fingerprint(pg.url(env["name"]))
    yield env
    pg.drop_db(env["name"])
    print(f"\nfuzzed mapping runs by exit code: { {rc: env['runs'].count(rc) for rc in sorted(set(env['runs']))} }")


@settings(max_examples=80, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(case=_file)
def test_fuzzed_mapping_files(fuzz_env, case):
    """Arbitrary mapping files: `runbook migrate` exits 0, 1 or 2, with exactly one
    line on stderr when it fails and no traceback; the database is unchanged unless the
    run succeeded (then it is rebuilt for the next example)."""
    kind, content = case
    env = fuzz_env
    url = env["pg"].url(env["name"])
    path = _write_mapping(env["work"], kind, content)
    w = env["work"]
    try:
        rc, out, err = cli("migrate", "--database-url", url, "--mapping", str(path), "--no-progress",
                           "--backup-dir", str(w / "backups"), "--log-dir", str(w / "logs"))
    except BaseException as exc:  # noqa: BLE001 - any escape is the failure we look for
        import traceback

        pytest.fail(f"runbook raised instead of exiting with one line: {type(exc).__name__}: {exc}\n"
                    f"{traceback.format_exc()[-3000:]}\nmapping:\n{path.read_bytes()[:2000]!r}")
    env["runs"].append(rc)
    assert rc in (0, 1, 2), (rc, err)
    assert "Traceback" not in err
    if rc != 0:
        line = one_line(err)
        assert line.startswith("runbook: "), line
        after = _fingerprint(url)
        assert after[0] == env["baseline"][0], f"exit {rc} but the catalog changed ({line})"
        assert after[1] == env["baseline"][1], f"exit {rc} but the data changed ({line}): " + \
            str({t: (env["baseline"][1][t], after[1].get(t)) for t in env["baseline"][1]
                 if env["baseline"][1][t] != after[1].get(t)})
    else:
        assert err.strip() == "", err
        # a valid mapping ran: start the next example from a fresh copy
        env["pg"].drop_db(env["name"])
        env["name"] = env["pg"].create_db(template=env["template"])


def test_fill_value_of_the_wrong_type_fails_with_one_line(db, workdir, original):
    """Found by the fuzz: a fill value the column's type cannot hold is bad input, one line."""
    _, url = db
    m = workdir / "m.toml"
    m.write_text('[[tables]]\nfrom = "AssistantChatSession"\nto = "chat_sessions"\n'
                 'rename_columns = [{ from = "lastActiveAt", to = "lastMessageAt", not_null = true, '
                 'fill_nulls = "not a time" }]\n')
    r = run_cli("migrate", "--mapping", str(m), *_args(url, workdir), cwd=workdir)
    assert r.returncode in (1, 2)
    one_line(r.stderr)
    diff = state_diff(original, db_state(url))
    assert not diff, diff


def test_two_runs_in_one_second_with_a_seeded_random(db, workdir, monkeypatch):
    """Found by the fuzz (hypothesis seeds `random`): run ids must not come from it."""
    import runbook.execute.context

    _, url = db
    monkeypatch.setattr(runbook.execute.context, "_stamp", lambda: "20260101T000000Z")  # both runs in the same second
    monkeypatch.setenv("RUNBOOK_FAULT", "fail:3")  # the first run fails in its lock phase, after recording itself
    random.seed(0)
    rc, _, err = cli("migrate", *_args(url, workdir, "--no-backup"))
    assert rc == 1, err
    monkeypatch.delenv("RUNBOOK_FAULT")
    random.seed(0)
    try:
        rc, _, err = cli("migrate", *_args(url, workdir, "--no-backup"))
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"the second run raised {type(exc).__name__}: {exc}")
    assert rc == 0, err


# -- 6. secrets -------------------------------------------------------------------------------


@pytest.fixture
def owner_db(pg, reference_template):
    """A copy of the reference database owned by a fresh login role whose password is
    S3cr3t-<random>; (url with that password, password, role)."""
    from urllib.parse import quote, urlsplit, urlunsplit

    role = f"rb_owner_{secrets.token_hex(4)}"
    password = f"S3cr3t-{secrets.token_hex(8)}"
    name = pg.create_db(template=reference_template)
    admin = pg.admin()
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE ROLE {q(role)} LOGIN PASSWORD %s", (password,))
            cur.execute(f"ALTER DATABASE {q(name)} OWNER TO {q(role)}")
        c = connect(pg.url(name))
        with c.cursor() as cur:
            cur.execute(f"ALTER SCHEMA public OWNER TO {q(role)}")
            cur.execute("SELECT c.oid::regclass::text, c.relkind FROM pg_class c WHERE c.relnamespace = "
                        "'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1")
            for rel, kind in cur.fetchall():
                cur.execute(f"ALTER {'VIEW' if kind == 'v' else 'TABLE'} {rel} OWNER TO {q(role)}")
            cur.execute("SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace")
            for fn in [r[0] for r in cur.fetchall()]:
                cur.execute(f"ALTER FUNCTION {fn} OWNER TO {q(role)}")
        c.close()
        p = urlsplit(pg.url(name))
        url = urlunsplit(p._replace(netloc=f"{role}:{quote(password, safe='')}@{p.hostname}:{p.port}"))
        yield url, password, role
    finally:
        admin.close()
        pg.drop_db(name)
        a = pg.admin()
        with a.cursor() as cur:
            cur.execute(f"DROP ROLE IF EXISTS {q(role)}")
        a.close()


def test_no_file_or_audit_row_contains_the_password(owner_db, workdir, pg):
    url, password, role = owner_db
    from urllib.parse import quote, urlsplit, urlunsplit

    p = urlsplit(url)
    outputs: list[str] = []

    def run(*args: str, env: dict | None = None, expect: int | None = 0) -> subprocess.CompletedProcess:
        r = run_cli(*args, cwd=workdir, env=env)
        outputs.extend([r.stdout, r.stderr])
        if expect is not None:
            assert r.returncode == expect, (args, r.stderr[-2000:])
        return r

    run("analyze", "--database-url", url)
    run("analyze", "--json", env={"DATABASE_URL": url})
    run("plan", "--database-url", url, "--out", "sql")
    run("migrate", "--database-url", url, "--dry-run", "--no-progress")
    # a failed run (audit row, log, backup), then a good one, verify, rollback
    r = run("migrate", "--database-url", url, "--no-progress", env={"RUNBOOK_FAULT": "fail:3"}, expect=1)
    one_line(r.stderr)
    run("migrate", "--database-url", url, "--no-progress", "--json")
    run("verify", env={"DATABASE_URL": url})
    run("rollback", "--database-url", url, "--no-progress", "--drop-added-columns")
    # lock contention: the message names the blocker, never the URL
    blocker = Blocker(url)
    try:
        r = run("migrate", "--database-url", url, "--no-progress", "--lock-timeout", "100ms", "--attempts", "2", expect=1)
    finally:
        blocker.release()
    # connection failures that carry the password: refused port, unknown role, bad db
    dead = urlunsplit(p._replace(netloc=f"{role}:{quote(password, safe='')}@127.0.0.1:1"))
    wrong_user = urlunsplit(p._replace(netloc=f"nobody_{role}:{quote(password, safe='')}@{p.hostname}:{p.port}"))
    wrong_db = urlunsplit(p._replace(path="/no_such_db"))
    for bad in (dead, wrong_user, wrong_db):
        r = run("migrate", "--database-url", bad, "--no-progress", expect=2)
        one_line(r.stderr)
        r = run("analyze", env={"DATABASE_URL": bad}, expect=2)
        one_line(r.stderr)
    secrets_ = {password, quote(password, safe=""), url}
    leaks = []
    for text in outputs:
        leaks += [f"output: {text[max(0, text.find(s) - 80):text.find(s) + 40]!r}" for s in secrets_ if s in text]
    files = [f for f in workdir.rglob("*") if f.is_file()]
    assert any(f.suffix == ".dump" or f.parent.suffix == ".dir" for f in files), "the runs wrote no backup"
    assert any(f.name.startswith("migration-log-") for f in files), "the runs wrote no log"
    for f in files:
        data = f.read_bytes()
        leaks += [f"file {f.relative_to(workdir)}" for s in secrets_ if s.encode() in data or s in f.name]
    c = connect(pg.url(urlsplit(url).path.lstrip("/")))
    with c.cursor() as cur:
        cur.execute(f'SELECT t::text FROM public."{AUDIT}" t WHERE entity = %s', ("runbook",))
        audit = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT t::text FROM runbook.runs t")
        runs = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT to_regclass('runbook.audit_log') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute("SELECT t::text FROM runbook.audit_log t")
            audit += [r[0] for r in cur.fetchall()]
    c.close()
    assert any("migration_failed" in a for a in audit) and any("migration_complete" in a for a in audit), audit
    for row in audit + runs:
        leaks += [f"row {row[:120]!r}" for s in secrets_ if s in row]
    assert not leaks, "\n".join(leaks[:20])
