"""The lock window beside its physical limit, in the same run, on the same data.

    python bench/lock.py [--corpus NAME ...] [--messages N ...] [--rows R] [--repeat K]
                         [--compat-views] [--pg-bin DIR] [--out FILE.json]

Starts a PostgreSQL server in a temporary folder (the embedded PostgreSQL 18, or the
installation in ``--pg-bin``). For each corpus schema (tests/data/corpus/, ``R`` rows a
table) and for the reference legacy database at each ``N`` messages, it builds a template
database once, then for each repeat makes two copies of it (``CREATE DATABASE ...
TEMPLATE``), alternating which goes first:

- **runbook**: ``runbook.migrate`` (no backup: the backup runs before the window and does
  not change it), its ``lock_window_s``: from the first round trip of the lock
  transaction to the end of its COMMIT, less the wait for the locks;
- **the limit**: the same plan's prepare steps run first, committed (they are online and
  outside the window in runbook too), then the plan's lock-phase statements alone (the
  ``LOCK TABLE`` and each operation's statements: no marks, no checks, no audit row, no
  status row) sent in ONE round trip ``BEGIN; ...; COMMIT``. Its window is measured the
  same way: the client's time for that round trip, less the server's wait for the locks
  (``clock_timestamp()`` before and after ``LOCK TABLE``). The server's own time from the
  locks to the last statement is printed beside it.

With ``--compat-views``, each repeat also runs ``runbook.migrate(..., compat_views=True)``
on a third copy (a view under each old name: made online under a staged name before the
window, renamed to the old name in it) and prints that window beside runbook's, with
their ratio.

Prints one row per database (tables renamed, operations in the plan and in the lock
phase, runbook's window, the limit's, and their ratio: medians of the repeats) and writes
every run to ``--out`` (default bench/results/lock-pg<major>.json). Exit 1 when any ratio
is over ``--target`` (default 1.5), 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402

import runbook  # noqa: E402
from runbook.demo.server import LocalServer  # noqa: E402
from runbook.execute.lock_window import rehearse_prepare  # noqa: E402
from runbook.naming import q  # noqa: E402
from runbook.ops import LOCK, PREPARE  # noqa: E402


def _admin_sql(srv, *statements: str):
    """Run statements on the maintenance database, autocommit; the last one's rows."""
    c = psycopg2.connect(srv.url("postgres"))
    c.autocommit = True
    try:
        cur = c.cursor()
        for s in statements:
            cur.execute(s)
        return cur.fetchall() if cur.description else None
    finally:
        c.close()


def _copy(srv, template: str, name: str) -> str:
    _admin_sql(srv, f"DROP DATABASE IF EXISTS {q(name)}", f"CREATE DATABASE {q(name)} TEMPLATE {q(template)}")
    return srv.url(name)


def _drop(srv, name: str) -> None:
    _admin_sql(srv, f"DROP DATABASE IF EXISTS {q(name)}")


def _runbook_window(url: str, mapping, work: Path, compat_views: bool = False) -> dict:
    from runbook.estimate import calibrate

    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        est = calibrate(conn, runbook.plan(url, mapping))  # what analyze would say
    finally:
        conn.close()
    r = runbook.migrate(url, mapping, backup=False, progress=False, log_dir=str(work / "logs"),
                        backup_dir=str(work / "backups"), compat_views=compat_views)
    if r.status != "migrated":
        raise RuntimeError(f"runbook migrate: {r.status}: {r.message}")
    return {"window_ms": r.lock_window_s * 1000, "wait_ms": (r.lock_wait_s or 0) * 1000,
            "operations": len(r.plan.ops), "lock_operations": len(r.plan.phase(LOCK)),
            "estimate_ms": [est.low_s * 1000, est.high_s * 1000], "estimate_calibrated": est.calibrated}


VARIANTS = ("limit", "+ COMMIT apart", "+ a mark a step", "+ each step's check")


def limit_sql(plan, variant: str = "limit") -> tuple[str, bool]:
    """The plan's lock phase alone, in one round trip: BEGIN, the locks (timed by the
    server before and after), each operation's statements, the server's time after the
    last one (kept in session settings, read after COMMIT), COMMIT. The other variants
    add runbook's costs one at a time (--breakdown): COMMIT in a round trip of its own,
    a timing mark after each step, the mark's check. Returns the SQL and whether COMMIT
    is sent apart."""
    from runbook.execute.lock_window import mark

    level = VARIANTS.index(variant)
    stamp = "SELECT set_config('bench.{0}', extract(epoch FROM clock_timestamp())::text, false)"
    sql = ["BEGIN", "SET LOCAL check_function_bodies = off", stamp.format("t0")]
    if plan.lock_tables:
        sql.append(f"LOCK TABLE {', '.join(plan.lock_tables)} IN ACCESS EXCLUSIVE MODE")
    sql.append(stamp.format("t1"))
    for i, op in enumerate(plan.phase(LOCK), 1):
        sql.extend(op.statements())
        if level >= 2:
            sql.append(mark(f"s{i}", op.check() if level >= 3 else "true"))
    sql.append(stamp.format("t2"))
    if level == 0:
        sql.append("COMMIT")
    return ";\n".join(sql), level >= 1


def _limit_window(url: str, mapping, variant: str = "limit") -> dict:
    plan = runbook.plan(url, mapping)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            rehearse_prepare(cur, plan.phase(PREPARE), 5000)  # autocommit: each step commits
            sql, commit_apart = limit_sql(plan, variant)
            t0 = time.perf_counter()
            cur.execute(sql)
            if commit_apart:
                cur.execute("COMMIT")
            elapsed = time.perf_counter() - t0
            cur.execute("SELECT current_setting('bench.t0')::float8, current_setting('bench.t1')::float8, "
                        "current_setting('bench.t2')::float8")
            s0, s1, s2 = cur.fetchone()
    finally:
        conn.close()
    return {"window_ms": (elapsed - (s1 - s0)) * 1000, "wait_ms": (s1 - s0) * 1000,
            "server_ms": (s2 - s1) * 1000, "statements": sql.count(";\n") + 1}


def _measure(srv, template: str, mapping, work: Path, repeat: int, breakdown: bool = False,
             compat_views: bool = False) -> dict:
    runs = []
    for i in range(repeat):
        order = ["runbook", *(["runbook + views"] if compat_views else []), *(VARIANTS if breakdown else VARIANTS[:1])]
        if i % 2:
            order.reverse()
        run = {}
        for n, who in enumerate(order):
            name = f"{template}_{i}_{n}"
            url = _copy(srv, template, name)
            try:
                run[who] = (_runbook_window(url, mapping, work, who == "runbook + views") if who.startswith("runbook")
                            else _limit_window(url, mapping, who))
            finally:
                _drop(srv, name)
        runs.append(run)
    rb = statistics.median(r["runbook"]["window_ms"] for r in runs)
    lim = statistics.median(r["limit"]["window_ms"] for r in runs)
    est = statistics.median((r["runbook"]["estimate_ms"][0] + r["runbook"]["estimate_ms"][1]) / 2 for r in runs)
    steps = {v: statistics.median(r[v]["window_ms"] for r in runs) for v in VARIANTS if v in runs[0]}
    views = {}
    if compat_views:  # the same window with a compat view under each old name (migrate --compat-views)
        vms = statistics.median(r["runbook + views"]["window_ms"] for r in runs)
        # the ratio in each repeat (the two ran one after the other), then its median
        views = {"views_ms": vms, "views_ratio": statistics.median(r["runbook + views"]["window_ms"]
                                                                   / r["runbook"]["window_ms"] for r in runs)}
    # the best of the repeats: on a shared machine contention only ever adds time, so the
    # fastest run of each is the steadiest estimate of its own cost (printed beside the medians)
    rb_best = min(r["runbook"]["window_ms"] for r in runs)
    lim_best = min(r["limit"]["window_ms"] for r in runs)
    if compat_views:
        views["views_best_ratio"] = min(r["runbook + views"]["window_ms"] for r in runs) / rb_best
    return {**views, "runs": runs, "runbook_ms": rb, "limit_ms": lim, "ratio": rb / lim if lim else None,
            "runbook_best_ms": rb_best, "limit_best_ms": lim_best, "best_ratio": rb_best / lim_best if lim_best else None,
            "variants_ms": steps,
            "estimate_ms": est, "estimate_ratio": est / rb if rb else None,
            "limit_server_ms": statistics.median(r["limit"]["server_ms"] for r in runs),
            "operations": runs[0]["runbook"]["operations"], "lock_operations": runs[0]["runbook"]["lock_operations"]}


def _corpus_target(srv, name: str, rows: int, work: Path):
    import corpus

    tpl = f"tpl_{name}"
    url = _copy_empty(srv, tpl)
    try:
        corpus.build(url, name, rows=rows)
    except (psycopg2.DataError, psycopg2.IntegrityError) as e:  # a generated value breaks a CHECK or a precision at this many rows
        print(f"corpus {name}: the seed fails at {rows} rows ({str(e).splitlines()[0]}); "
              f"{corpus.ROWS} rows a table instead", file=sys.stderr)
        url = _copy_empty(srv, tpl)
        corpus.build(url, name, rows=corpus.ROWS)
    mapping = work / f"{name}.toml"
    subprocess.run([str(Path(sys.executable).with_name("runbook")), "mapping", "init", "--database-url", url,
                    "--prisma-schema", str(corpus.folder(name) / "schema.prisma"), "--out", str(mapping),
                    "--force"], check=True, capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"))
    return tpl, str(mapping), corpus.table_count(url)


def _reference_target(srv, n: int):
    from runbook.demo import fixture

    tpl = f"tpl_ref_{n}"
    fixture.build(_copy_empty(srv, tpl), messages=n)
    return tpl, None, None


def _copy_empty(srv, name: str) -> str:
    _admin_sql(srv, f"DROP DATABASE IF EXISTS {q(name)}", f"CREATE DATABASE {q(name)}")
    return srv.url(name)


def _table(records: list[dict]) -> str:
    head = ("| database | tables | operations (lock phase) | runbook ms | limit ms | ratio | best: runbook ms "
            "| best: limit ms | ratio of bests | limit, server ms | analyze's estimate ms | estimate / runbook |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [f"| {r['database']} | {r.get('tables') or '-'} | {r['operations']} ({r['lock_operations']}) | "
            f"{r['runbook_ms']:.1f} | {r['limit_ms']:.1f} | {r['ratio']:.2f}x | {r['runbook_best_ms']:.1f} | "
            f"{r['limit_best_ms']:.1f} | {r['best_ratio']:.2f}x | {r['limit_server_ms']:.1f} | "
            f"{r['estimate_ms']:.1f} | {r['estimate_ratio']:.2f} |"
            for r in records]
    return "\n".join([head, *rows])


def _breakdown(records: list[dict]) -> str:
    cols = [*VARIANTS, "runbook"]
    head = "| database | " + " | ".join(cols) + " |\n|---|" + "---:|" * len(cols)
    rows = [f"| {r['database']} | " + " | ".join(f"{r['variants_ms'].get(c, r['runbook_ms']):.1f}" for c in cols) + " |"
            for r in records]
    return "\n".join([head, *rows])


def main(argv=None) -> int:
    import corpus

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", nargs="*", default=None, metavar="NAME",
                    help=f"corpus schemas (default: all of {', '.join(corpus.names())}; none with an empty list)")
    ap.add_argument("--messages", nargs="*", type=int, default=[10_000, 100_000, 1_000_000], metavar="N",
                    help="reference database sizes (default 10000 100000 1000000)")
    ap.add_argument("--rows", type=int, default=90,
                    help="rows a table in the corpus databases (default 90; a schema whose CHECKs or precisions "
                         "the seed breaks at that size gets the test suite's 3)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per database (default 3; medians are printed)")
    ap.add_argument("--target", type=float, default=1.5, help="exit 1 when a ratio is over this (default 1.5)")
    ap.add_argument("--breakdown", action="store_true",
                    help="also time the limit with runbook's costs added one at a time (where the window goes)")
    ap.add_argument("--compat-views", action="store_true",
                    help="also run runbook with --compat-views (a view under each old name) and print that window "
                         "beside runbook's")
    ap.add_argument("--pg-bin", help="PostgreSQL bin folder (default: the embedded PostgreSQL 18)")
    ap.add_argument("--out", help="the JSON results (default bench/results/lock-pg<major>.json)")
    a = ap.parse_args(argv)
    names = corpus.names() if a.corpus is None else a.corpus
    unknown = [n for n in names if n not in corpus.names()]
    if unknown or a.repeat < 1 or a.rows < 1:
        print(f"lock.py: bad input: {', '.join(unknown) or 'repeat and rows must be positive'}", file=sys.stderr)
        return 2
    base = Path(tempfile.mkdtemp(prefix="runbook-lockbench-"))
    srv = LocalServer.create(base / "pg", bin_dir=Path(a.pg_bin) if a.pg_bin else None).start()
    records = []
    try:
        version = _admin_sql(srv, "SHOW server_version")[0][0]
        targets = [(f"corpus {n}", lambda n=n: _corpus_target(srv, n, a.rows, base)) for n in names]
        targets += [(f"reference {n:,}", lambda n=n: _reference_target(srv, n)) for n in a.messages]
        for label, build in targets:
            tpl, mapping, tables = build()
            rec = {"database": label, "tables": tables,
                   **_measure(srv, tpl, mapping, base, a.repeat, a.breakdown, a.compat_views)}
            records.append(rec)
            print(f"{label}: runbook {rec['runbook_ms']:.1f} ms, limit {rec['limit_ms']:.1f} ms, "
                  f"{rec['ratio']:.2f}x", file=sys.stderr, flush=True)
            _drop(srv, tpl)
    finally:
        srv.stop()
        shutil.rmtree(base, ignore_errors=True)
    major = version.split(".")[0]
    print(f"PostgreSQL {version}; {a.repeat} runs each (medians); load average {os.getloadavg()[0]:.2f}")
    print(_table(records))
    if a.breakdown:
        print("\nWhere the window goes (ms, medians; each row adds one of runbook's costs to the limit):")
        print(_breakdown(records))
    if a.compat_views:
        print("\nWith compat views (ms, medians; ratio: median of the per-repeat ratios, and of the bests):")
        print("| database | runbook ms | runbook + views ms | views / runbook | of the bests |\n|---|---:|---:|---:|---:|")
        for r in records:
            print(f"| {r['database']} | {r['runbook_ms']:.1f} | {r['views_ms']:.1f} | {r['views_ratio']:.2f}x | "
                  f"{r['views_best_ratio']:.2f}x |")
    worst = max((r["ratio"] for r in records), default=0)
    worst_best = max((r["best_ratio"] for r in records), default=0)
    print(f"worst ratio {worst:.2f}x of the medians, {worst_best:.2f}x of the bests (target <= {a.target}x): "
          f"{'met' if worst <= a.target else 'MISSED'} (medians), {'met' if worst_best <= a.target else 'MISSED'} (bests)")
    off = max((max(r["estimate_ratio"], 1 / r["estimate_ratio"]) for r in records if r["estimate_ratio"]), default=1)
    print(f"analyze's estimate (the middle of its range) within {off:.2f}x of the measured window (target 2x): "
          f"{'met' if off <= 2 else 'MISSED'}")
    out = Path(a.out) if a.out else ROOT / "bench" / "results" / f"lock-pg{major}.json"
    out.write_text(json.dumps({"server": version, "machine": platform.platform(), "commit": _commit(),
                               "repeat": a.repeat, "rows": a.rows, "records": records}, indent=2, default=str))
    return 0 if worst <= a.target else 1


def _commit() -> str | None:
    p = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    return p.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
