"""``--backup schema+changed``: for a database too large to dump before every migration.

What the plan changes in place is its schema (names, columns added, defaults, NOT NULL,
functions) and, of the rows, only the NULLs it fills with a placeholder: it deletes no row
and rewrites no other value. So this backup is

- ``<name>.schema.dump``: ``pg_dump --schema-only`` (custom format) of the whole
  database, fsynced and verified with ``pg_restore --list`` (every table of the plan must
  be in it);
- ``<name>.changed-<k>.csv``: for each column the plan fills, the keys of the rows that
  hold NULL in it before the run (``COPY ... TO STDOUT``, one key a line), fsynced;
- ``<name>.changed.json``: what the files are, and what a restore from them can and
  cannot bring back (the same text is the backup's ``output`` in the report).

The rollback does not need it (the plan reversed, and ``runbook.filled`` for the NULLs,
which also holds the rows written with NULL during the fill); it is the evidence of the
schema and of the changed rows outside the database. It holds no table's rows, so
``runbook restore`` refuses it: a ``pg_restore --clean`` of it would empty every table.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from ..connection import scrub
from ..errors import BackupFailed
from ..naming import q, qq
from ..ops import PREPARE, FillNulls
from .backup import BackupInfo, _env_and_url, _tool, check_pg_dump, pg_dump_error, writable_folder

SCOPE = "schema+changed"

CAN = ("the definition of every table, index, constraint, sequence, view, function, trigger and grant as it "
       "was before the run (pg_restore --schema-only into an empty database, or read it with pg_restore -f -)",
       "which rows held NULL in each column the plan fills (their keys), so those NULLs can be put back")
CANNOT = ("any row's data: the file holds no rows, so a table that is lost or damaged cannot be restored "
          "from it (use the provider's snapshot or point-in-time recovery for that)",
          "values written by the services after the backup")
#: the same, a line each, for the terminal
CAN_SHORT = "every definition and grant as it was; which rows held NULL in the filled columns"
CANNOT_SHORT = "any row's data (a lost table needs a snapshot or point-in-time recovery)"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: COPY's text format: the escapes it writes (a key is one line whatever it holds)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
                               "\f": "\\f", "\v": "\\v"})


def _write_keys(conn, path: Path, query: str, batch: int = 10_000) -> int:
    """``query``'s one text column into ``path``, one value a line in ``COPY ... TO
    STDOUT``'s text format, read by a server-side cursor in batches (bounded memory however
    many keys). Not ``COPY`` itself: psycopg2 refuses it under the wait callback that lets
    a notebook's interrupt cancel a query (:func:`runbook.report.setup`). Returns the lines."""
    n = 0
    with conn.cursor(name="runbook_changed_keys", withhold=True) as cur, open(path, "w") as fh:
        cur.itersize = batch
        cur.execute(query)
        for (key,) in cur:
            fh.write(key.translate(_COPY_ESCAPES) + "\n")
            n += 1
    return n


def schema_and_changed_backup(url: str, conn, folder: str | Path, name: str, plan) -> BackupInfo:
    """Take the backup (before anything changes). Raises :class:`BackupFailed` (nothing
    changed) when pg_dump fails, the dump does not list the plan's tables, or a file
    cannot be written."""
    version = check_pg_dump(conn.server_version)
    folder = writable_folder(folder)
    t0 = time.perf_counter()
    dump = folder / f"{name}.schema.dump"
    env, plain_url = _env_and_url(url)
    p = subprocess.run([str(_tool("pg_dump")), "--format=custom", "--schema-only", "--no-sync", f"--file={dump}",
                        f"--dbname={plain_url}"], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        dump.unlink(missing_ok=True)
        raise BackupFailed(f"pg_dump --schema-only failed, nothing was changed: {scrub(pg_dump_error(p.stderr), url)}")
    written = [dump]
    try:
        _fsync(dump)
        toc = subprocess.run([str(_tool("pg_restore")), "--list", str(dump)], capture_output=True, text=True)
        if toc.returncode != 0:
            raise BackupFailed(f"backup {dump.name} does not verify (pg_restore --list failed); nothing was changed")
        lines = [l for l in toc.stdout.splitlines() if l and not l.startswith(";")]
        tables = [l for l in lines if " TABLE " in l and " TABLE DATA " not in l]
        missing = [t.old if t.state == "todo" else t.new for t in plan.tables if t.oid and not any(
            f" TABLE {plan.schema} {t.old if t.state == 'todo' else t.new} " in l for l in tables)]
        if missing:
            raise BackupFailed(f"backup {dump.name} lacks the definition of {', '.join(missing)}; nothing was changed")
        fills = []
        for k, op in enumerate(o for o in plan.phase(PREPARE) if type(o) is FillNulls):
            f = folder / f"{name}.changed-{k + 1}.csv"
            written.append(f)
            rows = _write_keys(conn, f, f"SELECT {q(op.pk)}::text FROM {qq(op.schema, op.table_name)} "
                                        f"WHERE {q(op.column)} IS NULL ORDER BY 1")
            _fsync(f)
            fills.append({"table": f"{op.schema}.{op.table_name}", "column": op.column, "key": op.pk,
                          "placeholder": op.value, "file": f.name, "rows": rows})
        manifest = folder / f"{name}.changed.json"
        written.append(manifest)
        manifest.write_text(json.dumps({"backup": SCOPE, "schema_dump": dump.name, "changed_rows": fills,
                                        "a restore can bring back": list(CAN),
                                        "a restore cannot bring back": list(CANNOT)}, indent=2) + "\n")
        _fsync(manifest)
        _fsync(folder)
    except OSError as exc:
        for f in written:
            f.unlink(missing_ok=True)
        raise BackupFailed(f"backup could not be written to disk, nothing was changed: {exc.strerror}") from None
    except BackupFailed:
        for f in written:
            f.unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - t0
    keys = ", ".join(f"{x['rows']:,} NULL{'s' if x['rows'] != 1 else ''} of {x['table']}.{x['column']}"
                     for x in fills) or "no column is filled"
    output = (f"schema of {len(tables)} tables ({dump.name}, verified with pg_restore --list); the rows the plan "
              f"changes: {keys} ({manifest.name}). A restore can bring back: {'; '.join(CAN)}. It cannot bring "
              f"back: {'; '.join(CANNOT)}.")
    return BackupInfo(str(dump), sum(f.stat().st_size for f in written), seconds, True, len(lines), 0, version,
                      kind=SCOPE, output=output)


def holds_no_rows(toc_lines: list[str]) -> bool:
    """A backup that defines tables and holds none of their rows (``--schema-only``): a
    ``pg_restore --clean`` of it would drop every table it defines and leave it empty."""
    entries = [l for l in toc_lines if l and not l.startswith(";")]
    return any(" TABLE " in l and " TABLE DATA " not in l for l in entries) and not any(
        " TABLE DATA " in l for l in entries)


__all__ = ["CAN", "CANNOT", "CAN_SHORT", "CANNOT_SHORT", "SCOPE", "holds_no_rows", "schema_and_changed_backup"]
