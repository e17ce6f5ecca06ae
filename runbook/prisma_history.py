"""``runbook prisma-history``: Prisma's migration history learns about the rename.

After ``runbook migrate``, the service's ``prisma/migrations`` folder and the database's
``_prisma_migrations`` table still describe the PascalCase tables: ``prisma migrate
status`` would not know how the tables got their new names. This writes
``DIR/<UTC timestamp>_<name>/migration.sql``, the forward SQL of exactly the plan that
ran (read back from ``runbook.runs`` with :meth:`Plan.from_stored`, never planned
again), and records it as applied the way ``prisma migrate resolve --applied <name>``
does (checked against the real Prisma 7 CLI): a uuid ``id``, ``checksum`` the sha256
hex of the file's text, ``started_at`` = ``finished_at`` = ``now()``,
``applied_steps_count`` 0, ``logs`` and ``rolled_back_at`` NULL.

The row is inserted in one transaction, which also holds an exclusive lock on the table
while the folder is written; a failure removes what was written and leaves the table as
it was.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .errors import BadInput, WrongState
from .mapping import Mapping, as_mapping
from .naming import qq

DEFAULT_NAME = "rename_tables_to_snake_case"
TABLE = "_prisma_migrations"
#: the title of the forward script, as ``runbook plan`` writes it (Plan.write_scripts)
TITLE = "Migration: rename tables to snake_case (spec 2.2)"
_NAME = re.compile(r"[A-Za-z0-9_]{1,200}")
_STAMP = re.compile(r"(\d{14})_")


@dataclass(frozen=True)
class HistoryEntry:
    """What ``prisma-history`` wrote (or, in a dry run, would write)."""

    migration: str  # <timestamp>_<name>: the folder and the row's migration_name
    file: Path
    checksum: str
    run_id: str
    fingerprint: str
    table: str  # the qualified _prisma_migrations
    sql: str = field(repr=False)
    dry_run: bool = False
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["file"] = str(self.file)
        if not self.dry_run:  # a dry run shows what it would write
            d.pop("sql")
        return d


def check_arguments(migrations: str | Path | None, name: str) -> Path:
    """The migrations folder, refused (BadInput) before anything connects."""
    if not _NAME.fullmatch(name or ""):
        raise BadInput(f"--name {name!r}: use 1 to 200 letters, digits or underscores (a Prisma migration name)")
    if not migrations:
        raise BadInput("--migrations DIR: give the service's Prisma migrations folder")
    d = Path(migrations)
    if not d.is_dir():
        raise BadInput(f"--migrations {d}: no such folder (give the service's prisma/migrations)")
    return d


def record_history(url: str | None, mapping: Mapping | str | Path | None, migrations: str | Path,
                   name: str = DEFAULT_NAME, dry_run: bool = False) -> HistoryEntry:
    """Write the migration folder and its ``_prisma_migrations`` row (see the module)."""
    from .connection import connect, resolve_url

    m = as_mapping(mapping)
    folder = check_arguments(migrations, name)
    conn = connect(resolve_url(url), application_name="runbook-prisma-history")
    try:
        entry = _entry(conn, m, folder, name, dry_run)
        if not dry_run:
            _write(conn, entry)
        return entry
    finally:
        conn.rollback()
        conn.close()


def _entry(conn, m: Mapping, folder: Path, name: str, dry_run: bool) -> HistoryEntry:
    """Everything about the entry, read and refused before anything is written."""
    from . import state
    from .catalog.inspect import inspect
    from .plan import Plan

    table = qq(m.schema, TABLE)
    applied = _applied(conn, m.schema, table)
    same = [r for r in applied if r.endswith("_" + name) and _STAMP.match(r)]
    if same:
        raise WrongState(f"{table} already records migration {same[0]}: nothing to do; nothing was changed")
    run = state.last_run(conn, ("migrated", "committed", "rolled back", "restoring"))
    if run is None or run["status"] not in ("migrated", "committed"):
        why = "no runbook migration is recorded" if run is None else f"the last run ({run['id']}) is {run['status']}"
        raise WrongState(f"{why} in this database: run `runbook migrate` first; nothing was changed")
    plan = Plan.from_stored(inspect(conn), m, run)
    text = plan.render(TITLE)
    migration = _folder_name(folder, name, text)
    return HistoryEntry(migration, folder / migration / "migration.sql", hashlib.sha256(text.encode()).hexdigest(),
                        run["id"], run["fingerprint"], table, text, dry_run, _notes(folder, applied, migration))


def _applied(conn, schema: str, table: str) -> list[str]:
    """The names of the migrations recorded as applied (not rolled back); refused when
    the table does not exist."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
        if not cur.fetchone()[0]:
            raise WrongState(f"no table {table}: this database has no Prisma migration history; create it with the "
                             "service's own `prisma migrate deploy` (or `prisma migrate resolve --applied` of its "
                             "baseline migration), then run this again; nothing was changed")
        cur.execute(f"SELECT migration_name FROM {table} WHERE rolled_back_at IS NULL AND finished_at IS NOT NULL "
                    "ORDER BY migration_name")
        return [r[0] for r in cur.fetchall()]


def _folder_name(folder: Path, name: str, text: str) -> str:
    """``<timestamp>_<name>``: a folder of an earlier attempt holding exactly this SQL is
    reused (its row was never written); another one is refused; a new one sorts after
    every migration of the folder (Prisma applies them in name order)."""
    existing = sorted(p.name for p in folder.iterdir() if p.is_dir() and _STAMP.match(p.name))
    for d in existing:
        if d.endswith("_" + name):
            f = folder / d / "migration.sql"
            if f.is_file() and f.read_text(encoding="utf-8") == text:
                return d
            raise WrongState(f"{folder / d} exists but holds another migration.sql: remove it or pass another --name; "
                             "nothing was changed")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    last = max((_STAMP.match(d).group(1) for d in existing), default="0")
    if stamp <= last:
        stamp = str(int(last) + 1)
    return f"{stamp}_{name}"


def _notes(folder: Path, applied: list[str], migration: str) -> tuple[str, ...]:
    """What `prisma migrate status` would still say: folders not applied, rows without a folder."""
    local = {p.name for p in folder.iterdir() if p.is_dir() and (p / "migration.sql").is_file()} - {migration}
    notes = []
    if missing := sorted(set(applied) - local):
        notes.append(f"{len(missing)} applied migration(s) have no folder in {folder} (is it the service's "
                     f"migrations folder?): {', '.join(missing[:5])}")
    if pending := sorted(local - set(applied)):
        notes.append(f"{len(pending)} migration(s) of {folder} are not applied: {', '.join(pending[:5])}")
    return tuple(notes)


def _write(conn, e: HistoryEntry) -> None:
    """The row and the file together: the row commits only once the file is on disk, and
    the file is removed again if the row does not commit."""
    made = not e.file.parent.exists()
    written = False
    try:
        with conn.cursor() as cur:
            cur.execute(f"LOCK TABLE {e.table} IN EXCLUSIVE MODE")
            # (again under the lock: another session may have recorded it since it was read)
            cur.execute(f"SELECT min(migration_name) FROM {e.table} WHERE rolled_back_at IS NULL "
                        "AND (migration_name = %s OR substr(migration_name, 15) = %s)",
                        (e.migration, e.migration[14:]))
            other = cur.fetchone()[0]
            if other is not None:
                raise WrongState(f"{e.table} already records migration {other}: nothing to do; nothing was changed")
            cur.execute(f"INSERT INTO {e.table} (id, checksum, migration_name, started_at, finished_at, logs, "
                        "rolled_back_at, applied_steps_count) VALUES (%s, %s, %s, now(), now(), NULL, NULL, 0)",
                        (str(uuid.uuid4()), e.checksum, e.migration))
        if not e.file.is_file():
            from .mapping_init import _write_atomic

            e.file.parent.mkdir(exist_ok=True)
            _write_atomic(e.file, e.sql)
            written = True
        conn.commit()
    except BaseException:
        conn.rollback()
        if made:
            shutil.rmtree(e.file.parent, ignore_errors=True)
        elif written:
            e.file.unlink(missing_ok=True)
        raise
