"""Benchmark: ``runbook merge-legacy`` against one plain ``INSERT ... SELECT`` of the same rows.

    python bench/merge.py [--legacy-messages 1000000] [--batch-size 10000] [--admin-url URL] [--keep]

Builds the reference legacy database with ``2 x legacy-messages`` chat messages (the
fixture makes half as many legacy messages, so 1M legacy messages and 50k legacy
conversations by default), migrates it, and copies it (``CREATE DATABASE ... TEMPLATE``)
three times:

A. one plain transaction: ``INSERT INTO chat_sessions SELECT ... FROM chat_sessions_temp``
   and ``INSERT INTO chat_messages SELECT ... FROM chat_messages_temp`` (timed); then,
   untimed, the same ``lastMessageAt`` fix-up the merge does after the trigger on
   chat_messages, so that the end states can be compared;
B. ``merge_legacy`` uninterrupted;
C. ``runbook merge-legacy`` in a subprocess, killed with SIGKILL once half of the
   batches have committed, then run again to the end.

Prints rows/s of A and B and their ratio, and checks that A, B and C end with equal
row counts and checksums of chat_sessions and chat_messages. A and B run twice: as the
database is (the reference database's row trigger ``touch_chat_session`` on
chat_messages fires for every inserted message, for both) and, on copies where the
bench disabled that trigger, to show the cost of the batching itself. Without ``--admin-url``
(or ``$RUNBOOK_BENCH_URL``) it starts the embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runbook.demo import fixture  # noqa: E402
from runbook.api import migrate  # noqa: E402
from runbook.merge import MESSAGE_ID_PREFIX, PLACEHOLDER_TITLE, merge_legacy  # noqa: E402
from runbook.naming import q  # noqa: E402

PLAIN_SESSIONS = """
INSERT INTO chat_sessions (id, "userId", title, "lastMessageAt", "createdAt", "updatedAt")
SELECT c.id, c."userId", coalesce(c.title, %(ph)s), n.at, c."createdAt", c."updatedAt"
FROM chat_sessions_temp c
LEFT JOIN (SELECT "conversationId" AS id, max("createdAt") AS at FROM chat_messages_temp GROUP BY 1) n ON n.id = c.id
"""
PLAIN_MESSAGES = """
INSERT INTO chat_messages (id, "sessionId", role, content, "createdAt")
SELECT %(prefix)s || m.id, m."conversationId", m.role, m.content, m."createdAt"
FROM chat_messages_temp m
"""
PLAIN_FIXUP = """
UPDATE chat_sessions s SET "lastMessageAt" = n.at
FROM (SELECT "conversationId" AS id, max("createdAt") AS at FROM chat_messages_temp GROUP BY 1) n
WHERE s.id = n.id AND s."lastMessageAt" IS DISTINCT FROM n.at
"""


def db_url(admin: str, name: str) -> str:
    p = urlsplit(admin)
    return urlunsplit(p._replace(path="/" + name))


def admin_exec(admin: str, sql: str) -> None:
    c = psycopg2.connect(admin)
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute(sql)
    c.close()


def copy_db(admin: str, template: str, name: str) -> str:
    admin_exec(admin, f"DROP DATABASE IF EXISTS {q(name)}")
    admin_exec(admin, f"CREATE DATABASE {q(name)} TEMPLATE {q(template)}")
    return db_url(admin, name)


def state_of(url: str) -> dict:
    """Row counts and content checksums of the two targets (every column)."""
    c = psycopg2.connect(url)
    out = {}
    with c.cursor() as cur:
        for t in ("chat_sessions", "chat_messages"):
            cur.execute(f"SELECT count(*), sum(hashtextextended(x::text, 0))::text FROM {t} x")
            out[t] = cur.fetchone()
    c.close()
    return out


def run_plain(url: str) -> tuple[int, float]:
    c = psycopg2.connect(url)
    with c.cursor() as cur:
        t0 = time.perf_counter()
        cur.execute(PLAIN_SESSIONS, {"ph": PLACEHOLDER_TITLE})
        n = cur.rowcount
        cur.execute(PLAIN_MESSAGES, {"prefix": MESSAGE_ID_PREFIX})
        n += cur.rowcount
        c.commit()
        seconds = time.perf_counter() - t0
        # untimed: undo what the row trigger did to lastMessageAt, as the merge does per batch
        cur.execute(PLAIN_FIXUP)
        c.commit()
    c.close()
    return n, seconds


def batches_done(url: str) -> int:
    try:
        c = psycopg2.connect(url)
    except psycopg2.Error:
        return 0
    try:
        with c.cursor() as cur:
            cur.execute("SELECT coalesce(max(batches), 0) FROM runbook.merge_runs")
            return cur.fetchone()[0]
    except psycopg2.Error:
        return 0
    finally:
        c.close()


def run_killed(url: str, batch_size: int, expected_batches: int) -> tuple[int, float]:
    cmd = [sys.executable, "-m", "runbook.cli", "merge-legacy", "--database-url", url, "--no-progress",
           "--batch-size", str(batch_size), "--json"]
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    half = max(1, expected_batches // 2)
    while p.poll() is None and batches_done(url) < half:
        time.sleep(0.02)
    killed_at = batches_done(url)
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.wait()
    r = merge_legacy(url, batch_size=batch_size, progress=False, verify=True)
    assert r.ok, [c for c in r.checks if not c.ok]
    assert r.resumed, "the second run should have resumed the first"
    return killed_at, r.seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--legacy-messages", type=int, default=1_000_000)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--admin-url", default=os.environ.get("RUNBOOK_BENCH_URL"))
    ap.add_argument("--keep", action="store_true", help="keep the databases")
    ap.add_argument("--repeat", type=int, default=2, help="runs of A and B each, interleaved (default 2)")
    ap.add_argument("--without-trigger", action=argparse.BooleanOptionalAction, default=True,
                    help="also compare A and B with the row trigger on chat_messages disabled (default: yes)")
    a = ap.parse_args()
    srv = None
    tmp = tempfile.mkdtemp(prefix="runbook-bench-")
    admin = a.admin_url
    if not admin:
        from runbook.demo.server import LocalServer

        srv = LocalServer.create(Path(tmp) / "pg").start()
        admin = srv.url("postgres")
    try:
        tpl = "bench_merge_tpl"
        admin_exec(admin, f"DROP DATABASE IF EXISTS {q(tpl)}")
        admin_exec(admin, f"CREATE DATABASE {q(tpl)}")
        t0 = time.perf_counter()
        fixture.build(db_url(admin, tpl), messages=2 * a.legacy_messages)
        migrate(db_url(admin, tpl), backup=False, progress=False, log_dir=tmp, backup_dir=tmp)
        c = psycopg2.connect(db_url(admin, tpl))
        with c.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM chat_sessions_temp), (SELECT count(*) FROM chat_messages_temp), "
                        "(SELECT count(*) FROM chat_sessions), (SELECT count(*) FROM chat_messages), "
                        "(SELECT count(*) FROM pg_trigger WHERE tgrelid = 'chat_messages'::regclass AND NOT tgisinternal)")
            convs, msgs, sess, tmsgs, trig = cur.fetchone()
        c.close()
        print(f"reference database built and migrated in {time.perf_counter() - t0:.1f}s: "
              f"{convs:,} legacy conversations, {msgs:,} legacy messages; targets hold {sess:,} sessions, "
              f"{tmsgs:,} messages; {trig} row trigger(s) on chat_messages")
        rows = convs + msgs

        def fresh(name: str, trigger: bool) -> str:
            url = copy_db(admin, tpl, name)
            if not trigger:  # bench only: the merge itself never disables a trigger of the service's
                c = psycopg2.connect(url)
                with c, c.cursor() as cur:
                    cur.execute("ALTER TABLE chat_messages DISABLE TRIGGER USER")
                c.close()
            return url

        import statistics

        states = {}
        times: dict[str, list[float]] = {}
        batches = 0
        for trigger in ((True, False) if a.without_trigger else (True,)):
            tag = "" if trigger else " [trigger off]"
            for i in range(a.repeat):  # interleaved, so that a noisy neighbour hurts both alike
                url_a = fresh("bench_merge_plain", trigger)
                n_a, s_a = run_plain(url_a)
                assert n_a == rows, (n_a, rows)
                states["A" + tag] = state_of(url_a)
                times.setdefault("A" + tag, []).append(s_a)
                url_b = fresh("bench_merge_batched", trigger)
                r = merge_legacy(url_b, batch_size=a.batch_size, progress=False, verify=False)
                assert r.rows == rows, (r.rows, rows)
                states["B" + tag] = state_of(url_b)
                times.setdefault("B" + tag, []).append(r.seconds)
                batches = r.batches
            if trigger:
                url_c = copy_db(admin, tpl, "bench_merge_killed")
                killed_at, s_c2 = run_killed(url_c, a.batch_size, batches)
                states["C"] = state_of(url_c)

        print(f"\n{'method':<58} {'rows':>10} {'median s':>9} {'rows/s':>10}   runs (s)")
        for tag in ("", " [trigger off]"):
            if "A" + tag not in times:
                continue
            ma, mb = statistics.median(times["A" + tag]), statistics.median(times["B" + tag])
            runs = lambda k: ", ".join(f"{x:.1f}" for x in times[k])  # noqa: E731
            print(f"{'A plain INSERT ... SELECT, one transaction' + tag:<58} {rows:>10,} {ma:>9.2f} "
                  f"{rows / ma:>10,.0f}   {runs('A' + tag)}")
            print(f"{f'B merge-legacy, {batches} batches of ~{a.batch_size} msgs' + tag:<58} {rows:>10,} {mb:>9.2f} "
                  f"{rows / mb:>10,.0f}   {runs('B' + tag)}")
            print(f"  ratio merge / plain rows/s{tag} (medians): {ma / mb:.2f}")
        print(f"C merge-legacy killed (SIGKILL) after {killed_at} of {batches} batches, re-run finished in {s_c2:.2f}s")
        for t in ("chat_sessions", "chat_messages"):
            print(f"  {t}: " + "; ".join(f"{k} {v[t][0]:,} rows, sum {v[t][1]}" for k, v in states.items()))
        same_bc = states["B"] == states["C"]
        same_ab = all(v == states["A"] for v in states.values())
        print(f"killed-and-resumed equals uninterrupted (counts and checksums): {'yes' if same_bc else 'NO'}")
        print(f"every run ends in the same state as the plain INSERT ... SELECT: {'yes' if same_ab else 'NO'}")
        return 0 if same_bc and same_ab else 1
    finally:
        if not a.keep:
            for name in ("bench_merge_plain", "bench_merge_batched", "bench_merge_killed", "bench_merge_tpl"):
                try:
                    admin_exec(admin, f"DROP DATABASE IF EXISTS {q(name)}")
                except psycopg2.Error:
                    pass
        if srv is not None:
            srv.stop()


if __name__ == "__main__":
    sys.exit(main())
