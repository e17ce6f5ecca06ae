"""runbook fleet run: wall time against the number of databases and the concurrency.

On a fresh embedded PostgreSQL (stopped at the end), for each size N (default 10, 20, 50)
N copies of the reference legacy database are migrated

* by the baseline, a plain loop over them one after the other: ``runbook.migrate``
  (what a bash loop over ``runbook migrate`` does, without its process starts), or with
  ``--runner notebooks`` runbook run's pipeline, then
* by ``runbook fleet run`` at each concurrency (default 1, 2, 4), on fresh copies: the
  placement (status + plan of every database), the Dagster job, the state file, the page.

It prints the wall time of each, the seconds per database and the ratio to the
baseline of the same size. Each rollout is the command ``runbook fleet run`` in a process of its own (its
start, dagster's import, is counted). Concurrency 1 runs in-process; more runs on Dagster's
multiprocess executor (a process per op). Usage::

    .venv/bin/python bench/fleet.py [--sizes 10 20 50] [--concurrency 1 2 4] [--messages 1000]
                                    [--runner engine|notebooks]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg2  # noqa: E402

from runbook.naming import q  # noqa: E402


def _admin(srv):
    c = psycopg2.connect(srv.socket_url("postgres"))
    c.autocommit = True
    return c


def _copies(srv, template: str, prefix: str, n: int) -> list[str]:
    c = _admin(srv)
    names = [f"{prefix}_{i:03d}" for i in range(1, n + 1)]
    with c.cursor() as cur:
        for name in names:
            cur.execute(f"CREATE DATABASE {q(name)} TEMPLATE {q(template)}")
    c.close()
    return names


def _drop(srv, names: list[str]) -> None:
    c = _admin(srv)
    with c.cursor() as cur:
        for name in names:
            cur.execute(f"DROP DATABASE IF EXISTS {q(name)} WITH (FORCE)")
    c.close()


def baseline(srv, template: str, n: int, work: Path, runner: str) -> float:
    """The databases one after the other: runbook.migrate (runner engine) or runbook run's
    pipeline (runner notebooks), in this process."""
    from runbook import api
    from runbook.pipeline import run_pipeline

    names = _copies(srv, template, "bench_loop", n)
    t0 = time.perf_counter()
    for name in names:
        if runner == "engine":
            r = api.migrate(srv.socket_url(name), None, backup_dir=str(work / "loop"), log_dir=str(work / "loop"),
                            progress=False)
            assert r.status == "migrated", r.status
        else:
            os.environ["BENCH_LOOP_URL"] = srv.socket_url(name)
            with open(work / "loop.log", "a") as log:
                o = run_pipeline("development", dry_run=False, overrides={"autoBackup": True},
                                 database_url_env="BENCH_LOOP_URL",
                                 output_dir=work / "loop", out=log, err=log)
            assert o.verdict == "migrated", o.verdict
    took = time.perf_counter() - t0
    _drop(srv, names)
    return took


def fleet(srv, template: str, n: int, concurrency: int, runner: str, work: Path) -> float:
    from runbook.fleet import state as fstate
    from runbook.fleet.demo import write_inventory
    from runbook.fleet.inventory import load_inventory
    from runbook.fleet.planning import place_all

    names = _copies(srv, template, f"bench_c{concurrency}", n)
    folder = work / f"fleet-{n}-{concurrency}"
    folder.mkdir(parents=True)
    tenants = []
    for i, name in enumerate(names, 1):
        env = f"BENCH_FLEET_{n}_{concurrency}_{i:03d}_URL"
        os.environ[env] = srv.socket_url(name)
        tenants.append((f"t-{i:03d}", env, {"region": ("eu", "us")[i % 2]}))
    inv = load_inventory(write_inventory(folder / "fleet.toml", tenants, runner=runner, concurrency=concurrency,
                                         then=("25%", "100%") if n >= 8 else ("100%",)))
    fp = place_all(inv, record=False)[0].fingerprint
    with fstate.update(inv.state_file) as st:
        st["approved"].append({"fingerprint": fp})
    # the command as a user runs it, in a process of its own (Dagster's forkserver keeps
    # the environment of the process it was started from: one rollout per process)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "runbook.cli", "fleet", "run", "--inventory", str(inv.path), "--json"],
                       env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    took = time.perf_counter() - t0
    out = json.loads(p.stdout)
    done = out["counts"]["migrated"]
    assert p.returncode == 0 and done == n, (p.returncode, done, n)
    _drop(srv, names)
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 50])
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--runner", choices=["engine", "notebooks"], default="engine")
    ap.add_argument("--out", help="also write the table to this file (e.g. bench/results/fleet-pg18.txt)")
    a = ap.parse_args()
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    import logging

    logging.getLogger("dagster").setLevel(logging.WARNING)
    from runbook.demo import fixture
    from runbook.demo.server import LocalServer

    base = Path(tempfile.mkdtemp(prefix="runbook-bench-fleet-"))
    srv = LocalServer.create(base / "srv").start()
    try:
        c = _admin(srv)
        with c.cursor() as cur:
            cur.execute("CREATE DATABASE bench_template")
        c.close()
        fixture.build(srv.socket_url("bench_template"), messages=a.messages)
        say(f"runbook fleet run, runner {a.runner}, reference database at {a.messages:,} messages, "
            f"{os.cpu_count()} CPUs, PostgreSQL {srv.version().split()[-1]}")
        say(f"{'databases':>9} {'how':<22} {'wall s':>8} {'s/db':>6} {'x loop':>7}")
        for n in a.sizes:
            loop = baseline(srv, "bench_template", n, base, a.runner)
            what = "loop of migrate" if a.runner == "engine" else "loop of runbook run"
            say(f"{n:>9} {what:<22} {loop:>8.1f} {loop / n:>6.2f} {1.0:>7.2f}")
            for conc in a.concurrency:
                took = fleet(srv, "bench_template", n, conc, a.runner, base)
                say(f"{n:>9} {f'fleet, concurrency {conc}':<22} {took:>8.1f} {took / n:>6.2f} {took / loop:>7.2f}")
    finally:
        srv.stop()
        shutil.rmtree(base, ignore_errors=True)
        if a.out and lines:
            Path(a.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
