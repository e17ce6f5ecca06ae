"""Benchmark: ``runbook migrate`` beside the procedure a user would type by hand.

    python bench/migrate.py --messages 10000 100000 1000000 [--pg-bin DIR] [--repeat 3]

Starts a PostgreSQL server in a temporary folder (the embedded PostgreSQL 18, or the
installation in ``--pg-bin``, e.g. Debian's ``/usr/lib/postgresql/15/bin``), builds the
reference legacy database at each N and copies it (``CREATE DATABASE ... TEMPLATE``) for
each procedure, so both run on the same server and the same data:

manual
    ``pg_dump`` to a plain SQL file; one ``psql`` transaction of the hand-typed renames
    and column changes (``UPDATE`` backfill of NULL titles, ``SET NOT NULL``, columns
    added, the enum created, the ``"folderId"`` foreign key added, the two functions
    that name the old tables rewritten); a row-count query.
runbook
    ``runbook migrate --json`` (preflight, backup, prepare, lock, finish, verify) in a
    subprocess, then ``runbook rollback --drop-added-columns --json``.

The **lock window** is measured three ways. From outside, by a probe connection: every
2 ms it runs one single-statement transaction, cycling through the renamed tables (a read,
then an in-place update of one row by primary key; switching to the other name when the
one it uses disappears) and records how long each statement took, retries included; its
longest stall is the longest time a service was blocked. By the server: the probe's
session logs every lock wait over 1 ms (``log_lock_waits``, ``deadlock_timeout = 1ms``)
with its exact length, read back from the server log. From inside:
``RunResult.lock_window_s`` (from LOCK TABLE granted to COMMIT) for runbook, and
``clock_timestamp()`` before BEGIN and after COMMIT for the manual transaction. The
probe's statements touch one table each on purpose: a service transaction that locks a
child table and then its parent can deadlock with runbook's LOCK TABLE (see
tests/test_reliability.py), which is a separate finding.

The end-to-end times are taken with the probe running, so both procedures share the
machine with a service; the probe itself is light (one statement every 2 ms).

Peak memory is ``ru_maxrss`` of the ``runbook`` process itself (its ``pg_dump`` child is
reported apart). Results go to ``bench/results/migrate-pg<major>.json`` and a log-log PNG
chart beside it. Targets (issues 5 and 13): lock window <= 20 ms at every N and flat in N;
runbook end to end <= 1.2x manual at the largest N; peak memory < 200 MB.

``--backup-jobs 0 2`` runs runbook once per backup mode in each run (0: the custom-format
file; J: ``--backup-jobs J``, directory format), alternating their order, against the
same manual baseline, and prints them side by side with where the backup's time went
(pg_dump, the final fsync, ``pg_restore --list``, the wait after the baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg2
import psycopg2.errors

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runbook.demo import fixture  # noqa: E402
from runbook.demo.server import LocalServer  # noqa: E402
from runbook.naming import q  # noqa: E402
from runbook.pgbin import client_bin_dir  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGET_LOCK_MS = 20.0
TARGET_RATIO = 1.2  # issue 13 (issue 5 asked for 1.5x at 1M)
TARGET_RSS_MB = 200.0

#: (legacy name, new name, a column the probe updates in place)
PROBED = (("User", "users", "updatedAt"), ("AssistantFolder", "chat_folders", "updatedAt"),
          ("AssistantChatSession", "chat_sessions", "updatedAt"), ("AssistantChatMessage", "chat_messages", "content"))

MANUAL_SQL = r"""
\set ON_ERROR_STOP on
SELECT 'T0 ' || extract(epoch FROM clock_timestamp());
BEGIN;
ALTER TABLE "User" RENAME TO users;
ALTER TABLE "AssistantFolder" RENAME TO chat_folders;
ALTER TABLE "AssistantChatSession" RENAME TO chat_sessions;
ALTER TABLE "AssistantChatMessage" RENAME TO chat_messages;
ALTER TABLE "AssistantConversation" RENAME TO chat_sessions_temp;
ALTER TABLE "AssistantMessage" RENAME TO chat_messages_temp;
ALTER TABLE chat_sessions RENAME COLUMN "sessionName" TO title;
ALTER TABLE chat_sessions RENAME COLUMN "lastActiveAt" TO "lastMessageAt";
UPDATE chat_sessions SET title = 'Untitled chat' WHERE title IS NULL;
ALTER TABLE chat_sessions ALTER COLUMN title SET NOT NULL;
CREATE TYPE "UserRole" AS ENUM ('USER', 'ADMIN');
ALTER TABLE users ADD COLUMN role "UserRole" NOT NULL DEFAULT 'USER';
ALTER TABLE chat_folders ADD COLUMN description text, ADD COLUMN color text,
    ADD COLUMN "isDefault" boolean NOT NULL DEFAULT false, ADD COLUMN "sessionCount" integer NOT NULL DEFAULT 0;
ALTER TABLE chat_sessions ADD COLUMN "folderId" text, ADD COLUMN "isActive" boolean NOT NULL DEFAULT true;
ALTER TABLE chat_sessions ADD CONSTRAINT "chat_sessions_folderId_fkey" FOREIGN KEY ("folderId")
    REFERENCES chat_folders(id) ON DELETE SET NULL ON UPDATE CASCADE;
CREATE OR REPLACE FUNCTION touch_chat_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chat_sessions SET "lastMessageAt" = NEW."createdAt" WHERE id = NEW."sessionId";
    RETURN NEW;
END;
$$;
CREATE OR REPLACE FUNCTION user_display_name(uid text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    result TEXT;
BEGIN
    SELECT COALESCE("username", "email") INTO result FROM users WHERE "id" = uid;
    RETURN result;
END;
$$;
COMMIT;
SELECT 'T1 ' || extract(epoch FROM clock_timestamp());
"""

COUNT_SQL = ("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM chat_folders), "
             "(SELECT count(*) FROM chat_sessions), (SELECT count(*) FROM chat_messages), "
             "(SELECT count(*) FROM chat_sessions_temp), (SELECT count(*) FROM chat_messages_temp)")

#: ``runbook`` in a wrapper that reports its own peak RSS (and its children's) on exit
RUNBOOK_WRAPPER = (
    "import json, resource, sys\n"
    "from runbook.cli import main\n"
    "rc = main(sys.argv[2:])\n"
    "with open(sys.argv[1], 'w') as fh:\n"
    "    json.dump({'self_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,\n"
    "               'children_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, fh)\n"
    "sys.exit(rc)\n"
)


# -- the probe ------------------------------------------------------------------------------


class Probe:
    """A service reading and writing the renamed tables while a procedure runs.

    One connection, as the issue describes: every ``period`` it runs one single-statement
    transaction, cycling through the probed tables, a read and then an in-place update of
    one row by primary key, switching to the other name of a table when the one it uses
    stops existing (as a restarted service would). Each statement's duration, retries
    included, is a stall; the longest is the longest time the service was blocked.

    The server measures the lock waits itself: the probe's session sets
    ``log_lock_waits = on`` and ``deadlock_timeout = 1ms``, so every wait on a lock longer
    than 1 ms is logged by the server with its exact length ("acquired ... after 9.87 ms")
    and the pid holding the lock. That costs nothing while nobody waits, unlike polling
    ``pg_stat_activity`` (an earlier version did, every millisecond: it kept 0.6 of this
    machine's 2 CPUs busy and slowed whatever procedure was being measured).
    """

    def __init__(self, url: str, ids: dict[str, str], server_log: Path, period: float = 0.002):
        self.url, self.ids, self.period, self.server_log = url, ids, period, Path(server_log)
        self.stop = threading.Event()
        self.stalls: list[tuple[float, float, str]] = []  # (start wall time, seconds, table)
        self.errors: list[str] = []
        self.statements = 0
        self.armed = float("inf")  # stalls count once the procedure starts
        self.lock_waits: list[tuple[float, float]] = []  # (wall time the wait ended, seconds waited)
        self.blocked_by: dict[str, float] = {}  # pid holding the lock -> longest wait it caused
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.pid = None
        self._log_offset = 0

    def __enter__(self):
        self._log_offset = self.server_log.stat().st_size if self.server_log.exists() else 0
        self.thread.start()
        time.sleep(0.2)  # connected and warm: a connection's first statements are slow
        self.armed = time.time()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)
        time.sleep(0.05)  # the server's last log lines
        self._read_server_log()

    def _run(self) -> None:
        names = {old: [old, new] for old, new, _ in PROBED}
        try:
            conn = psycopg2.connect(self.url, application_name="probe")
            conn.autocommit = True
            cur = conn.cursor()
            cur.execute("SET log_lock_waits = on")
            cur.execute("SET deadlock_timeout = '1ms'")
            cur.execute("SELECT pg_backend_pid()")
            self.pid = cur.fetchone()[0]
        except psycopg2.Error as exc:
            self.errors.append(f"probe: {exc}")
            return
        kinds = [(t, w) for t in PROBED for w in (False, True)]
        i = 0
        while not self.stop.is_set():
            (old, new, col), write = kinds[i % len(kinds)]
            i += 1
            pk = self.ids[old]
            w0, t0 = time.time(), time.perf_counter()
            for _ in range(3):
                n = names[old][0]
                sql = (f"UPDATE {q(n)} SET {q(col)} = {q(col)} WHERE id = %s" if write
                       else f"SELECT {q(col)} FROM {q(n)} WHERE id = %s")
                try:
                    cur.execute(sql, (pk,))
                    break
                except psycopg2.errors.UndefinedTable:
                    names[old].reverse()  # the service restarts on the other name
                except psycopg2.Error as exc:
                    self.errors.append(f"{new}: {str(exc).strip()}")
                    conn.close()
                    return
            took = time.perf_counter() - t0
            self.statements += 1
            if took > 0.002 and w0 >= self.armed:
                self.stalls.append((w0, took, new))
            time.sleep(self.period)
        conn.close()

    _ACQUIRED = re.compile(r"^(\S+ \S+) \S+ \[(\d+)\] LOG:  process \d+ acquired \S+ on .* after ([\d.]+) ms")
    _HOLDER = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] DETAIL:  Process(?:es)? holding the lock: ([\d, ]+)\.")

    def _read_server_log(self) -> None:
        if self.pid is None or not self.server_log.exists():
            return
        with open(self.server_log, errors="replace") as fh:
            fh.seek(self._log_offset)
            text = fh.read()
        pid = str(self.pid)
        holder = None
        for line in text.splitlines():
            m = self._HOLDER.match(line)
            if m and m.group(1) == pid:
                holder = m.group(2).split(",")[0].strip()
                continue
            m = self._ACQUIRED.match(line)
            if m and m.group(2) == pid:
                end = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()
                waited = float(m.group(3)) / 1000
                if end - waited >= self.armed - 0.001:
                    self.lock_waits.append((end, waited))
                    key = f"pid {holder}" if holder else "?"
                    self.blocked_by[key] = max(self.blocked_by.get(key, 0.0), waited)
                holder = None

    def top_blockers(self, n: int = 3) -> list[dict]:
        """The sessions whose locks held the probe up longest (pids from the server's log)."""
        top = sorted(self.blocked_by.items(), key=lambda kv: -kv[1])[:n]
        return [{"ms": round(w * 1000, 1), "held_by": who} for who, w in top]

    def longest_lock_wait(self, within: tuple[float, float] | None = None, outside: bool = False) -> float:
        out = 0.0
        for t, w in self.lock_waits:
            if within:
                hit = t - w <= within[1] and t >= within[0]
                if hit == outside:
                    continue
            out = max(out, w)
        return out

    def longest(self, within: tuple[float, float] | None = None, outside: bool = False) -> float:
        """Longest stall (s); only stalls overlapping ``within`` (or not, with ``outside``)."""
        out = 0.0
        for start, took, _ in self.stalls:
            if within:
                hit = start <= within[1] and start + took >= within[0]
                if hit == outside:
                    continue
            out = max(out, took)
        return out


# -- helpers -------------------------------------------------------------------------------


def sh(cmd: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    took = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({r.returncode}): {(r.stderr or r.stdout).strip()[-1500:]}")
    return took, r


class Server:
    def __init__(self, pg_bin: str | None, base: Path):
        self.local = LocalServer.create(base, bin_dir=Path(pg_bin) if pg_bin else None).start()
        self.admin = psycopg2.connect(self.local.url("postgres"))
        self.admin.autocommit = True
        with self.admin.cursor() as cur:
            cur.execute("SHOW server_version_num")
            self.version_num = int(cur.fetchone()[0])
            cur.execute("SELECT version()")
            self.version = cur.fetchone()[0].split(" on ")[0]

    @property
    def log(self) -> Path:
        return self.local.data_dir / "server.log"

    def url(self, db: str) -> str:
        return self.local.url(db)

    def exec(self, sql: str) -> None:
        with self.admin.cursor() as cur:
            cur.execute(sql)

    def copy(self, template: str, name: str) -> str:
        self.drop(name)
        strategy = " STRATEGY = FILE_COPY" if self.version_num >= 150000 else ""
        self.exec(f"CREATE DATABASE {q(name)} TEMPLATE {q(template)}{strategy}")
        return self.url(name)

    def drop(self, name: str) -> None:
        with self.admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            cur.execute(f"DROP DATABASE IF EXISTS {q(name)}")

    def close(self) -> None:
        self.admin.close()
        self.local.stop()


def probe_ids(url: str, after: bool = False) -> dict[str, str]:
    """One row per probed table (under its new name ``after`` the migration), not one whose
    NULL title the fill step touches."""
    conn = psycopg2.connect(url)
    out = {}
    with conn.cursor() as cur:
        for old, new, _ in PROBED:
            if after:
                extra = " WHERE title <> 'Untitled chat'" if new == "chat_sessions" else ""
            else:
                extra = ' WHERE "sessionName" IS NOT NULL' if old == "AssistantChatSession" else ""
            cur.execute(f"SELECT id FROM {q(new if after else old)}{extra} ORDER BY id LIMIT 1")
            out[old] = cur.fetchone()[0]
    conn.close()
    return out


def warm(url: str) -> None:
    """Read every renamed table once, so that both procedures start from a warm cache."""
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        for old in ("User", "AssistantFolder", "AssistantChatSession", "AssistantChatMessage", "AssistantConversation",
                    "AssistantMessage"):
            cur.execute(f"SELECT count(*) FROM {q(old)}")
    conn.close()


def log_timeline(log_file: str | None) -> list[tuple[float, str]]:
    """(wall time, message) of every line of a run's log."""
    if not log_file or not Path(log_file).exists():
        return []
    out = []
    for line in Path(log_file).read_text().splitlines():
        stamp, _, msg = line.partition(" ")
        try:
            out.append((datetime.fromisoformat(stamp).timestamp(), msg))
        except ValueError:
            continue
    return out


def top_stalls(probe: "Probe", log_file: str | None, n: int = 3) -> list[dict]:
    """The probe's longest stalls, each with the log line written when it ended (the
    step whose lock held it up logs right after it commits)."""
    timeline = log_timeline(log_file)
    out = []
    for start, took, table in sorted(probe.stalls, key=lambda x: -x[1])[:n]:
        end = start + took
        cause = next((msg for t, msg in timeline if t >= end - 0.002), "after the last log line")
        out.append({"table": table, "ms": round(took * 1000, 1), "ended_with": cause[:120]})
    return out


def lock_interval(log_file: str | None) -> tuple[float, float] | None:
    """(start, end) wall times of the lock window, from the run's log: the 'committed'
    line is written right after COMMIT and says how long the locks were held."""
    if not log_file or not Path(log_file).exists():
        return None
    found = None
    for line in Path(log_file).read_text().splitlines():
        m = re.match(r"(\S+) (?:committed|rolled back \(rehearsal\)): exclusive locks held ([\d.]+) ms", line)
        if m:
            end = datetime.fromisoformat(m.group(1)).timestamp()
            found = (end - float(m.group(2)) / 1000 - 0.002, end + 0.002)  # ms resolution of the stamp
    return found


# -- the two procedures ----------------------------------------------------------------------


def run_manual(srv: Server, template: str, work: Path) -> dict:
    name = "bench_manual"
    url = srv.copy(template, name)
    warm(url)
    bin_dir = client_bin_dir()
    dump = work / "manual.sql"
    script = work / "manual-migration.sql"
    script.write_text(MANUAL_SQL)
    with Probe(url, probe_ids(url), srv.log) as probe:
        t_dump, _ = sh([str(bin_dir / "pg_dump"), "--format=plain", "--no-sync", f"--file={dump}", f"--dbname={url}"])
        t_tx, r = sh([str(bin_dir / "psql"), "-X", "-q", "-At", "-f", str(script), url])
        t_count, _ = sh([str(bin_dir / "psql"), "-X", "-q", "-At", "-c", COUNT_SQL, url])
    # not part of the manual procedure: what making its dump durable would still cost
    t0 = time.perf_counter()
    fd = os.open(dump, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    t_sync = time.perf_counter() - t0
    stamps = dict(line.split() for line in r.stdout.splitlines() if line.startswith("T"))
    inside = float(stamps["T1"]) - float(stamps["T0"])
    out = {"pg_dump (plain)": t_dump, "transaction (psql)": t_tx, "row counts": t_count,
           "total": t_dump + t_tx + t_count, "fsync of its dump afterwards": t_sync, "lock_window_inside_s": inside,
           "lock_window_probe_s": probe.longest(), "probe_lock_wait_s": probe.longest_lock_wait(),
           "probe_blocked_by": probe.top_blockers(),
           "probe_statements": probe.statements, "probe_errors": probe.errors, "dump_bytes": dump.stat().st_size}
    dump.unlink()
    srv.drop(name)
    return out


OVERLAPPED = ("baseline",)


def mode_label(jobs: int) -> str:
    """A backup mode of ``--backup-jobs``: 0 is the custom-format file (runbook's default)."""
    return "custom (-Fc)" if jobs == 0 else f"directory (-Fd -j {jobs})"


def run_runbook(srv: Server, url: str, work: Path, command: str, jobs: int = 0) -> dict:
    """``runbook migrate`` (``--backup-jobs jobs`` unless 0) or ``runbook rollback
    --drop-added-columns`` with the probe."""
    rss = work / f"rss-{command}.json"
    # the rollback puts 10% of the sessions' titles back to NULL in one statement: on this
    # shared machine under load that took over the default 60 s statement timeout at 10M
    extra = ["--drop-added-columns", "--statement-timeout", "10min"] if command == "rollback" else []
    if command == "migrate":  # said even for 0 (the custom-format file): whatever the default is
        extra += ["--backup-jobs", str(jobs)]
    cmd = [sys.executable, "-c", RUNBOOK_WRAPPER, str(rss), command, "--database-url", url, "--json", "--no-progress",
           "--backup-dir", str(work / "backups"), "--log-dir", str(work / "logs"), *extra]
    with Probe(url, probe_ids(url, after=command != "migrate"), srv.log) as probe:
        took, r = sh(cmd, cwd=work)
    s = json.loads(r.stdout)
    if s["status"] not in ("migrated", "rolled back"):
        raise RuntimeError(f"runbook {command}: {s['status']}: {s.get('message')}")
    mem = json.loads(rss.read_text())
    window = lock_interval(s.get("log_file"))
    phases = {k: v for k, v in s["timings"].items() if k != "lock window"}
    for ph in ("prepare", "finish"):
        steps = [st["seconds"] for st in s["steps"] if st["phase"] == ph]
        if steps and command == "migrate":
            phases[ph] = sum(steps)
    phases["lock window"] = s["lock_window_s"]
    # migrate takes its baseline while pg_dump runs: it overlaps the backup and is not on
    # the critical path
    overlapped = {k: phases.pop(k) for k in OVERLAPPED if k in phases and "backup" in phases}
    phases["python start, connect, plan, other"] = max(0.0, took - sum(phases.values()))
    phases.update({f"{k} (while pg_dump runs)": v for k, v in overlapped.items()})
    for b in (work / "backups").glob("*.dump"):
        b.unlink()
    for b in (work / "backups").glob("*.dir"):
        shutil.rmtree(b)
    bk = s.get("backup") or {}
    # where the backup's time went, and how long the run waited for it after the baseline
    backup_detail = {k: bk.get(k) for k in ("dump_s", "fsync_s", "list_s")} if bk.get("dump_s") else {}
    if backup_detail and "baseline" in s["timings"]:
        backup_detail["waited_after_baseline_s"] = max(0.0, bk["seconds"] - s["timings"]["baseline"])
    return {"total": took, "backup_mode": mode_label(jobs) if command == "migrate" else None,
            "backup_detail": backup_detail, "phases": phases, "lock_window_inside_s": s["lock_window_s"],
            "lock_wait_s": s["lock_wait_s"], "attempts": s["attempts"],
            "lock_window_probe_s": probe.longest(),
            "probe_in_lock_window_s": probe.longest(window) if window else None,
            "probe_outside_lock_window_s": probe.longest(window, outside=True) if window else None,
            "probe_lock_wait_s": probe.longest_lock_wait(),
            "probe_lock_wait_outside_lock_window_s": probe.longest_lock_wait(window, outside=True) if window else None,
            "probe_statements": probe.statements, "probe_errors": probe.errors,
            "probe_top_stalls": top_stalls(probe, s.get("log_file")), "probe_blocked_by": probe.top_blockers(),
            "rss_mb": mem["self_kb"] / 1024, "children_rss_mb": mem["children_kb"] / 1024,
            "backup_bytes": (s.get("backup") or {}).get("bytes"), "operations": s["operations"],
            "slowest_steps": [{"step": st["step"], "phase": st["phase"], "what": st["description"],
                               "ms": round(st["seconds"] * 1000, 3)}
                              for st in sorted(s["steps"], key=lambda st: -st["seconds"])[:6]],
            "verified": bool(s.get("verification") and s["verification"]["ok"])}


# -- one N -----------------------------------------------------------------------------------


def bench_n(srv: Server, n: int, repeat: int, work: Path, modes: list[int] = (0,)) -> dict:
    ref = f"bench_ref_{n}"
    srv.drop(ref)
    srv.exec(f"CREATE DATABASE {q(ref)}")
    t0 = time.perf_counter()
    counts = fixture.build(srv.url(ref), messages=n)
    seed_s = time.perf_counter() - t0
    c = psycopg2.connect(srv.url(ref))
    with c.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        db_bytes = cur.fetchone()[0]
    c.close()
    srv.exec("CHECKPOINT")
    print(f"\n== N = {n:,} messages ({counts['AssistantChatSession']:,} sessions, {db_bytes / 2**20:,.0f} MiB); "
          f"seeded in {seed_s:.1f}s", flush=True)
    manual, migrate, rollback = [], [], []
    load_before = os.getloadavg()
    rb_url = srv.copy(ref, "bench_runbook")
    warm(rb_url)
    for i in range(repeat):
        manual.append(run_manual(srv, ref, work))
        # each backup mode in turn, on the same data, in the same run; the order alternates
        for jobs in (modes if i % 2 == 0 else list(reversed(modes))):
            migrate.append({**run_runbook(srv, rb_url, work, "migrate", jobs), "repeat": i})
            rollback.append(run_runbook(srv, rb_url, work, "rollback"))
            if len(modes) > 1:
                print(f"   run {i + 1}/{repeat}, {mode_label(jobs)}: runbook migrate {migrate[-1]['total']:.2f}s "
                      f"(backup {migrate[-1]['phases'].get('backup', 0):.2f}s: "
                      f"{', '.join(f'{k} {v:.2f}' for k, v in migrate[-1]['backup_detail'].items())})", flush=True)
        print(f"   run {i + 1}/{repeat}: manual {manual[-1]['total']:.2f}s (probe {manual[-1]['lock_window_probe_s'] * 1000:.1f} ms), "
              f"runbook migrate {migrate[-1]['total']:.2f}s (lock {migrate[-1]['lock_window_inside_s'] * 1000:.1f} ms, "
              f"probe {migrate[-1]['lock_window_probe_s'] * 1000:.1f} ms), rollback {rollback[-1]['total']:.2f}s",
              flush=True)
    srv.drop("bench_runbook")
    srv.drop(ref)
    return {"messages": n, "rows": counts, "database_bytes": db_bytes, "seed_s": seed_s,
            "load_average": [round(x, 2) for x in load_before] + [round(x, 2) for x in os.getloadavg()],
            "modes": [mode_label(j) for j in modes], "manual": manual, "migrate": migrate, "rollback": rollback}


# -- report -----------------------------------------------------------------------------------


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(r: dict, mode: str | None = None) -> dict:
    """The medians of one N; ``mode``: only the migrate runs of that backup mode (default:
    the first mode the run was given)."""
    mode = mode or (r.get("modes") or [None])[0]
    m, b = r["manual"], r["rollback"]
    g = [x for x in r["migrate"] if mode is None or x.get("backup_mode") in (mode, None)]
    phases = {k: med([x["phases"].get(k) for x in g]) for k in g[0]["phases"]}
    detail = {k: med([x.get("backup_detail", {}).get(k) for x in g])
              for k in ("dump_s", "fsync_s", "list_s", "waited_after_baseline_s")}
    return {
        "messages": r["messages"],
        "backup_mode": mode,
        "backup_detail": detail,
        "load_average": r["load_average"],
        "manual_total_s": med([x["total"] for x in m]),
        "manual": {k: med([x.get(k) for x in m]) for k in ("pg_dump (plain)", "transaction (psql)", "row counts",
                                                           "fsync of its dump afterwards")},
        "runbook_total_s": med([x["total"] for x in g]),
        "runbook_phases": phases,
        "rollback_total_s": med([x["total"] for x in b]),
        "ratio": med([x["total"] for x in g]) / med([x["total"] for x in m]),
        # each runbook run over the manual run of the same repeat (taken seconds apart):
        # steadier than the ratio of medians when the machine's load drifts
        "paired_ratio": med([x["total"] / m[x["repeat"]]["total"] for x in g if "repeat" in x]),
        "lock_ms": {
            "runbook inside (median)": 1000 * med([x["lock_window_inside_s"] for x in g]),
            "runbook inside (worst)": 1000 * max(x["lock_window_inside_s"] for x in g),
            "runbook probe stall (median)": 1000 * med([x["lock_window_probe_s"] for x in g]),
            "runbook probe stall (worst)": 1000 * max(x["lock_window_probe_s"] for x in g),
            "runbook probe stall, during the lock window (worst)": 1000 * max((x["probe_in_lock_window_s"] or 0) for x in g),
            "runbook probe stall, outside it (worst)": 1000 * max((x["probe_outside_lock_window_s"] or 0) for x in g),
            "runbook probe lock wait (median)": 1000 * med([x["probe_lock_wait_s"] for x in g]),
            "runbook probe lock wait (worst)": 1000 * max(x["probe_lock_wait_s"] for x in g),
            "runbook probe lock wait, outside the lock window (worst)":
                1000 * max((x["probe_lock_wait_outside_lock_window_s"] or 0) for x in g),
            "rollback inside (median)": 1000 * med([x["lock_window_inside_s"] for x in b]),
            "rollback probe stall (worst)": 1000 * max(x["lock_window_probe_s"] for x in b),
            "rollback probe lock wait (worst)": 1000 * max(x["probe_lock_wait_s"] for x in b),
            "manual inside (median)": 1000 * med([x["lock_window_inside_s"] for x in m]),
            "manual probe stall (median)": 1000 * med([x["lock_window_probe_s"] for x in m]),
            "manual probe stall (worst)": 1000 * max(x["lock_window_probe_s"] for x in m),
            "manual probe lock wait (worst)": 1000 * max(x["probe_lock_wait_s"] for x in m),
        },
        "runbook_rss_mb": max(x["rss_mb"] for x in g + b),
        "pg_dump_rss_mb": max(x["children_rss_mb"] for x in g),
        "probe_errors": sorted({e for x in g + b + m for e in x["probe_errors"]}),
        "verified": all(x["verified"] for x in g),
    }


def print_table(s: dict, server: str) -> None:
    man, rb = s["manual_total_s"], s["runbook_total_s"]
    rows = [("manual: pg_dump (plain SQL)", s["manual"]["pg_dump (plain)"], None),
            ("manual: one psql transaction", s["manual"]["transaction (psql)"], None),
            ("manual: row counts", s["manual"]["row counts"], None),
            ("manual: total", man, 1.0)]
    if s["manual"].get("fsync of its dump afterwards") is not None:
        rows.append(("manual: fsync of its dump afterwards (not in its total)", s["manual"]["fsync of its dump afterwards"],
                     None))
    for k, v in s["runbook_phases"].items():
        rows.append((f"runbook migrate: {k}", v, None))
    rows.append(("runbook migrate: total (end to end)", rb, rb / man))
    if s.get("paired_ratio"):
        rows.append(("  ratio, median of each run over its own manual run", None, s["paired_ratio"]))
    rows.append(("runbook rollback: total", s["rollback_total_s"], s["rollback_total_s"] / man))
    print(f"\nN = {s['messages']:,} messages, {server} (median of the runs; ratio = runbook / manual total; "
          f"load average {s['load_average'][0]:.1f} -> {s['load_average'][3]:.1f} on this machine)")
    print(f"  {'phase':<58} {'seconds':>9} {'ratio':>7}")
    print(f"  {'-' * 58} {'-' * 9} {'-' * 7}")
    for name, v, ratio in rows:
        print(f"  {name:<58} {'' if v is None else f'{v:9.3f}':>9} {('' if ratio is None else f'{ratio:.2f}x'):>7}")
    print(f"  {'lock window':<58} {'ms':>9}")
    for k, v in s["lock_ms"].items():
        print(f"  {k:<58} {v:>9.1f}")
    d = s.get("backup_detail") or {}
    if d.get("dump_s") is not None:
        print(f"  {'backup (' + str(s['backup_mode']) + '): where its time went':<58} {'seconds':>9}")
        for k, label in (("dump_s", "pg_dump, until it exits (flushed while it writes)"), ("fsync_s", "final fsync"),
                         ("list_s", "pg_restore --list"),
                         ("waited_after_baseline_s", "the run waiting for it after the baseline")):
            print(f"  {'  ' + label:<58} {d[k]:>9.3f}")
    print(f"  {'peak RSS of the runbook process (MB)':<58} {s['runbook_rss_mb']:>9.1f}")
    print(f"  {'peak RSS of its pg_dump child (MB)':<58} {s['pg_dump_rss_mb']:>9.1f}")
    if s["probe_errors"]:
        print(f"  probe errors: {s['probe_errors'][:3]}")


def print_modes(r: dict, server: str) -> list[dict]:
    """The backup modes side by side (same N, same run, same manual baseline); their summaries."""
    out = [summarize(r, mode) for mode in r["modes"]]
    first = {x["repeat"]: x["total"] for x in r["migrate"] if x.get("backup_mode") == r["modes"][0]}
    for x, mode in zip(out, r["modes"]):  # each mode's run over the first mode's run of the same repeat
        x["vs_first"] = med([y["total"] / first[y["repeat"]] for y in r["migrate"]
                             if y.get("backup_mode") == mode and y["repeat"] in first])
    print(f"\nN = {r['messages']:,} messages, {server}: backup modes side by side (medians; ratio = runbook / "
          f"manual total of the same run, {out[0]['manual_total_s']:.2f} s)")
    print(f"  {'backup mode':<24} {'backup':>8} {'pg_dump':>8} {'fsync':>7} {'list':>6} {'baseline':>9} "
          f"{'total':>8} {'ratio':>7} {'paired':>7} {'vs first':>9}")
    for x in out:
        d = x["backup_detail"]
        f = lambda v: f"{v:.2f}" if v is not None else "-"  # noqa: E731
        print(f"  {x['backup_mode']:<24} {f(x['runbook_phases'].get('backup')):>8} {f(d['dump_s']):>8} "
              f"{f(d['fsync_s']):>7} {f(d['list_s']):>6} "
              f"{f(x['runbook_phases'].get('baseline (while pg_dump runs)')):>9} {x['runbook_total_s']:>8.2f} "
              f"{x['ratio']:>6.2f}x {x['paired_ratio']:>6.2f}x {x['vs_first']:>8.2f}x")
    return out


def targets(summaries: list[dict]) -> list[tuple[str, bool, str, bool]]:
    """(target, met, value, gate): the probe's wall-clock stall is reported but does not
    decide the exit status, since on a busy machine it also counts time a probe thread
    spent waiting for a CPU, which no lock caused (the sampled lock wait measures blocking)."""
    out = []
    for key in ("runbook inside (median)", "runbook inside (worst)", "runbook probe lock wait (worst)",
                "runbook probe stall (worst)"):
        worst = max(s["lock_ms"][key] for s in summaries)
        at = max(summaries, key=lambda s: s["lock_ms"][key])["messages"]
        out.append((f"lock window <= {TARGET_LOCK_MS:.0f} ms at every N ({key})", worst <= TARGET_LOCK_MS,
                    f"{worst:.1f} ms at N = {at:,}", "stall" not in key))
    if len(summaries) > 1:
        a, b = summaries[0], summaries[-1]
        grow = b["messages"] / a["messages"]
        for key in ("runbook inside (median)", "runbook probe lock wait (median)", "runbook probe stall (median)"):
            x = b["lock_ms"][key] / max(a["lock_ms"][key], 1e-3)
            out.append((f"flat in N ({key}): {grow:,.0f}x the data, x{x:.2f} the window", x <= 2.0,
                        f"{a['lock_ms'][key]:.1f} -> {b['lock_ms'][key]:.1f} ms", "stall" not in key))
    big = max(summaries, key=lambda s: s["messages"])
    out.append((f"runbook end to end <= {TARGET_RATIO}x manual at {big['messages']:,}", big["ratio"] <= TARGET_RATIO,
                f"{big['ratio']:.2f}x", True))
    rss = max(s["runbook_rss_mb"] for s in summaries)
    out.append((f"peak memory of the runbook process < {TARGET_RSS_MB:.0f} MB", rss < TARGET_RSS_MB, f"{rss:.0f} MB",
                True))
    return out


def chart(summaries: list[dict], server: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [s["messages"] for s in summaries]
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.8))
    for key, style, label in (("runbook inside (median)", "o-", "runbook migrate, inside (LOCK to COMMIT)"),
                              ("runbook probe lock wait (worst)", "s-", "runbook migrate, probe's longest lock wait"),
                              ("runbook probe stall (worst)", "x-", "runbook migrate, probe's longest stall"),
                              ("manual inside (median)", "o--", "manual, inside (BEGIN to COMMIT)"),
                              ("manual probe lock wait (worst)", "s--", "manual, probe's longest lock wait"),
                              ("rollback inside (median)", "^:", "runbook rollback, inside")):
        a.plot(ns, [s["lock_ms"][key] for s in summaries], style, label=label)
    a.axhline(TARGET_LOCK_MS, color="grey", lw=0.8, ls="-.")
    a.text(ns[0], TARGET_LOCK_MS * 1.08, f"target {TARGET_LOCK_MS:.0f} ms", color="grey", fontsize=8)
    a.set(xscale="log", yscale="log", xlabel="chat messages (N)", ylabel="ms",
          title="Lock window: how long other sessions are blocked")
    a.legend(fontsize=8)
    a.grid(True, which="both", alpha=0.3)
    b.plot(ns, [s["manual_total_s"] for s in summaries], "o--", label="manual: total")
    b.plot(ns, [s["runbook_total_s"] for s in summaries], "o-", label="runbook migrate: total")
    b.plot(ns, [s["rollback_total_s"] for s in summaries], "^:", label="runbook rollback: total")
    for k in ("backup", "prepare", "verify", "finish"):
        vals = [s["runbook_phases"].get(k) for s in summaries]
        if all(v for v in vals):
            b.plot(ns, vals, ".-", alpha=0.7, label=f"runbook: {k}")
    b.plot(ns, [s["manual"]["pg_dump (plain)"] for s in summaries], ".--", alpha=0.7, label="manual: pg_dump")
    b.set(xscale="log", yscale="log", xlabel="chat messages (N)", ylabel="seconds", title="Phase times")
    b.legend(fontsize=8)
    b.grid(True, which="both", alpha=0.3)
    fig.suptitle(f"runbook migrate vs the hand-typed procedure ({server})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def engine_version() -> str:
    """The commit of the runbook code that ran (``git describe``; '+changes' if the
    working tree differs), or what a snapshot's ``.engine-commit`` file says."""
    snap = ROOT / ".engine-commit"
    if snap.exists():
        return snap.read_text().strip()
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "runbook"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return head + ("+changes" if dirty else "") if head else "unknown"
    except OSError:
        return "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--pg-bin", help="PostgreSQL bin folder (default: the embedded PostgreSQL 18)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each procedure per N (medians are reported)")
    ap.add_argument("--out", default=str(RESULTS), help="folder for the JSON and PNG results")
    ap.add_argument("--backup-jobs", type=int, nargs="+", default=[0], metavar="J",
                    help="backup modes to run side by side, each its own migrate per run: 0 is runbook's "
                         "custom-format file, J > 0 is --backup-jobs J (directory format); the first is the "
                         "headline (default: 0)")
    a = ap.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="runbook-bench-"))
    work = base / "work"
    work.mkdir()
    srv = Server(a.pg_bin, base / "server")
    major = srv.version_num // 10000
    print(f"{srv.version} in {base}; runbook {engine_version()}; {os.cpu_count()} CPUs; {a.repeat} run(s) per N",
          flush=True)
    try:
        results = [bench_n(srv, n, a.repeat, work, a.backup_jobs) for n in sorted(a.messages)]
    finally:
        srv.close()
        shutil.rmtree(base, ignore_errors=True)
    summaries = [summarize(r) for r in results]
    for s in summaries:
        print_table(s, srv.version)
    by_mode = {r["messages"]: print_modes(r, srv.version) for r in results if len(r["modes"]) > 1}
    checks = targets(summaries)
    print("\nTargets (issues 5 and 13):")
    for name, ok, value, gate in checks:
        print(f"  {('MET ' if ok else 'MISS') if gate else ('info' if ok else 'INFO')} {name}: {value}")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"migrate-pg{major}"
    meta = {"server": srv.version, "engine": engine_version(), "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}", "repeat": a.repeat,
            "targets": [{"target": n, "met": ok, "value": v, "decides_exit_status": g} for n, ok, v, g in checks],
            "backup_modes": {str(n): x for n, x in by_mode.items()}}
    (out / f"{stem}.json").write_text(json.dumps({**meta, "summary": summaries, "runs": results}, indent=2, default=str))
    chart(summaries, srv.version, out / f"{stem}.png")
    print(f"\nwrote {out / (stem + '.json')} and {out / (stem + '.png')}")
    return 0 if all(ok for _, ok, _, gate in checks if gate) else 1


if __name__ == "__main__":
    sys.exit(main())
