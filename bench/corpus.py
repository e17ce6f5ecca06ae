"""The corpus sequence outside pytest, with its figures in one table.

    python bench/corpus.py [NAME ...] [--pg-bin DIR] [--toolkit DIR] [--out FILE.json]

Starts a PostgreSQL server in a temporary folder (the embedded PostgreSQL 18, or the
installation in ``--pg-bin``, e.g. Debian's ``/usr/lib/postgresql/15/bin``), and for each
corpus schema (tests/data/corpus/; default: all) builds it in a fresh database and runs
the sequence of ``tests/test_corpus.py``: ``mapping init --convention snake_case_plural``
-> ``migrate`` -> ``verify`` -> Prisma's drift against the target schema (with the toolkit:
``--toolkit`` or ``RUNBOOK_PRISMA_TOOLKIT``) -> ``rollback --drop-added-columns`` -> the
schema dump and every table's rows compared with before. Prints a markdown table (tables,
tables renamed, operations, lock window, drift statements, seconds per command, the
first failing step and its message) and writes the records as JSON (``--out``).

Exit status: 0 when every schema passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import corpus  # noqa: E402
from runbook.demo.server import LocalServer  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help=f"corpus schemas (default: all of {', '.join(corpus.names())})")
    ap.add_argument("--pg-bin", help="PostgreSQL bin folder (default: the embedded PostgreSQL 18)")
    ap.add_argument("--toolkit", help="installed Prisma toolkit (default: $RUNBOOK_PRISMA_TOOLKIT)")
    ap.add_argument("--out", help="write the records as JSON here")
    a = ap.parse_args(argv)
    names = a.names or corpus.names()
    unknown = [n for n in names if n not in corpus.names()]
    if unknown:
        print(f"corpus.py: no corpus schema {', '.join(unknown)} (have: {', '.join(corpus.names())})", file=sys.stderr)
        return 2
    if a.toolkit:
        os.environ["RUNBOOK_PRISMA_TOOLKIT"] = a.toolkit
    try:
        tk = corpus.toolkit()
    except RuntimeError as e:
        print(f"corpus.py: {e}", file=sys.stderr)
        return 2
    if tk is None:
        print("corpus.py: no Prisma toolkit (--toolkit or RUNBOOK_PRISMA_TOOLKIT): the drift step is skipped",
              file=sys.stderr)

    base = Path(tempfile.mkdtemp(prefix="runbook-corpus-"))
    srv = LocalServer.create(base / "pg", bin_dir=Path(a.pg_bin) if a.pg_bin else None).start()
    records = []
    try:
        import psycopg2

        for name in names:
            admin = psycopg2.connect(srv.url("postgres"))
            admin.autocommit = True
            db = f"corpus_{name}"
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{db}"')
            admin.cursor().execute(f'CREATE DATABASE "{db}"')
            admin.close()
            url = srv.url(db)
            work = base / name
            work.mkdir()
            record = {"schema": name}
            records.append(record)
            corpus.build(url, name)
            record["tables"] = corpus.table_count(url)
            try:
                corpus.run_sequence(url, name, work, tk, record)
            except corpus.StepFailed as e:
                record["failed_step"], record["message"] = e.step, e.message
            print(f"{name}: {'pass' if not record.get('failed_step') else 'FAIL at ' + record['failed_step']}",
                  file=sys.stderr, flush=True)
    finally:
        srv.stop()
        shutil.rmtree(base, ignore_errors=True)
    print(f"PostgreSQL {'embedded 18' if not a.pg_bin else a.pg_bin}; Prisma drift {'checked' if tk else 'NOT checked'}")
    print(corpus.report_table(records))
    if a.out:
        Path(a.out).write_text(json.dumps(records, indent=2, default=str))
    return 0 if all(not r.get("failed_step") for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
