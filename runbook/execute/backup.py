"""Backups: ``pg_dump`` before any DDL, checked with ``pg_restore --list``.

Custom format (``-Fc``, one file) or, with ``jobs`` (``--backup-jobs N``), directory
format (``-Fd -j N``: one file per table, N tables dumped at once, each by its own
server process in one synchronized snapshot), so that ``pg_restore`` can list and
restore it; uncompressed by default, which is as fast as a plain dump (compression costs
2.5x the time on this kind of machine; ``--backup-compress`` turns it on). The URL (a URI or key=value string) is
read by libpq and handed to the tools as a key=value string without the password, which
never appears on a command line: it goes to the child through ``PGPASSWORD``.

pg_dump stops at the first table, sequence or large object the role cannot read (or whose
row-level security applies to it): :func:`dump_problems` finds those from the catalog
before the backup starts.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from psycopg2.extensions import make_dsn, parse_dsn

from ..catalog.inspect import query
from ..connection import scrub
from ..errors import BackupFailed, ToolMissing
from ..pgbin import client_bin_dir


@dataclass(frozen=True)
class BackupInfo:
    path: str
    bytes: int
    seconds: float
    verified: bool
    toc_entries: int
    tables_in_toc: int
    pg_dump_version: str
    #: "pg_dump" (the file ``path``, verified), or "snapshot": the operator's own command
    #: (a provider's snapshot, a PITR marker), its output recorded; runbook cannot verify it
    kind: str = "pg_dump"
    output: str = ""
    #: "custom" (``path`` is one file) or "directory" (``path`` is a folder, ``-Fd -j jobs``)
    format: str = "custom"
    jobs: int = 1
    #: where ``seconds`` went: pg_dump until it exited, the final fsync, pg_restore --list
    dump_s: float = 0.0
    fsync_s: float = 0.0
    list_s: float = 0.0


def _tool(name: str) -> Path:
    for d in (client_bin_dir(), Path("/usr/lib/postgresql/18/bin")):
        p = d / name
        if p.exists():
            return p
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ToolMissing(f"{name} not found (set RUNBOOK_PG_BIN to a PostgreSQL bin folder)")


def tool_major(name: str) -> tuple[int, str]:
    return _tool_version(str(_tool(name)))


@functools.lru_cache(maxsize=None)
def _tool_version(path: str) -> tuple[int, str]:
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip()
    m = re.search(r"(\d+)(?:\.(\d+))?", out)
    return (int(m.group(1)) if m else 0), out


def check_pg_dump(server_version_num: int) -> str:
    """The pg_dump version; :class:`ToolMissing` when older than the server."""
    major, text = tool_major("pg_dump")
    server_major = server_version_num // 10000
    if major < server_major:
        raise ToolMissing(
            f"{text} is older than the server (PostgreSQL {server_major}): pg_dump must be version "
            f"{server_major} or newer; set RUNBOOK_PG_BIN to a newer PostgreSQL bin folder")
    return text


def _env_and_url(url: str) -> tuple[dict, str]:
    """The environment and the ``--dbname`` connection string for a libpq tool: the
    password moves from the URL (user info or ``?password=``, or ``password=``) to
    ``PGPASSWORD``; the rest goes as libpq read it."""
    env = dict(os.environ)
    params = parse_dsn(url)
    pw = params.pop("password", None)
    if pw:
        env["PGPASSWORD"] = pw
    return env, make_dsn(**params)


def dump_problems(conn) -> list[str]:
    """Why ``pg_dump`` of the whole database would fail for the connection's role: one
    sentence per schema without USAGE, table or sequence without SELECT, table whose
    row-level security applies to the role, and the large objects it cannot read
    (``catalog/dump_readiness.sql``). Empty when the backup can be taken."""
    with conn.cursor() as cur:
        cur.execute(query("dump_readiness"))
        rows = cur.fetchall()
        cur.execute("SELECT current_user")
        role = cur.fetchone()[0]
    out = []
    for kind, obj, reason, n in rows:
        if kind == "schema":
            out.append(f"schema {obj} ({n} relations): {reason}")
        elif kind == "large object":
            out.append(f"{n} large object{'s' if n > 1 else ''} (first {obj}): {reason}")
        else:
            out.append(f"{kind} {obj}: {reason}")
    return [f"role {role} cannot dump " + p for p in out]


_FREE_CONNECTIONS_SQL = """
SELECT current_setting('max_connections')::int
       - CASE WHEN r.rolsuper THEN 0 ELSE current_setting('superuser_reserved_connections')::int
              + coalesce(current_setting('reserved_connections', true)::int, 0) END
       - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
       CASE WHEN r.rolconnlimit < 0 OR r.rolsuper THEN NULL
            ELSE r.rolconnlimit - (SELECT count(*) FROM pg_stat_activity WHERE usename = current_user) END,
       CASE WHEN d.datconnlimit < 0 OR r.rolsuper THEN NULL
            ELSE d.datconnlimit - (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()) END
FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()"""


#: the default backup: a directory-format dump by this many jobs (when the connections are
#: allowed). On a 2-core machine runbook migrate took 0.62x-0.96x the time it takes with
#: the custom-format file at 1M messages and 0.95x at 10M (bench/results/README.md, run of
#: 2026-12-03): one pg_dump and its server process pass the rows along one pipe and leave
#: part of a core idle.
DEFAULT_BACKUP_JOBS = 2


def default_jobs(conn) -> int:
    """The jobs of the default backup: :data:`DEFAULT_BACKUP_JOBS` when the role may open
    that many connections and their leader's, else 0 (the custom-format file, on one)."""
    return DEFAULT_BACKUP_JOBS if free_connections(conn) >= DEFAULT_BACKUP_JOBS + 1 else 0


def free_connections(conn) -> int:
    """How many more connections this role may open to this database now: the server's
    free slots (less the reserved ones, unless superuser), the role's and the database's
    connection limits. pg_dump -j N needs N + 1."""
    with conn.cursor() as cur:
        cur.execute(_FREE_CONNECTIONS_SQL)
        return min(x for x in cur.fetchone() if x is not None)


def problems_line(problems: list[str], limit: int = 5) -> str:
    """The problems on one line: the first ``limit``, then how many more."""
    more = len(problems) - limit
    return "; ".join(problems[:limit]) + (f"; and {more} more" if more > 0 else "")


def pg_dump_error(stderr: str) -> str:
    """The line that says why pg_dump failed: its first ``error:`` line (not the
    ``detail: Query was:`` line after it), without the ``pg_dump: error:`` prefix."""
    lines = [l.strip() for l in (stderr or "").strip().splitlines() if l.strip()]
    err = next((l for l in lines if re.match(r"^\S+: error: ", l)), lines[-1] if lines else "unknown error")
    return " ".join(re.sub(r"^\S+: error: ", "", err).split())


def estimated_size(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        return cur.fetchone()[0]


def table_bytes(conn) -> int:
    """The size of every table's data (heap and TOAST, no indexes): close to the size of
    an uncompressed custom-format dump, so the progress bar's total."""
    with conn.cursor() as cur:
        cur.execute("SELECT coalesce(sum(pg_table_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm', 'p') "
                    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'")
        return int(cur.fetchone()[0])


def backup_bytes(path: Path) -> int:
    """The size of a backup: its file, or the files of a directory-format backup."""
    path = Path(path)
    if path.is_dir():
        return sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    return path.stat().st_size


def remove_backup(path: Path) -> None:
    """Remove a partial or failed backup (a file, or a directory-format folder)."""
    path = Path(path)
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def fsync_backup(path: Path) -> None:
    """Make a finished backup durable: its file, or every file of a directory-format
    backup and the directory itself, then the folder that holds it (the new entry)."""
    path = Path(path)
    files = sorted(f for f in path.iterdir() if f.is_file()) if path.is_dir() else [path]
    for f in files:
        with open(f, "rb+") as fh:
            os.fsync(fh.fileno())
    for d in ([path] if path.is_dir() else []) + [path.parent]:
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def free_bytes(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(folder).free


def table_pattern(schema: str, table: str) -> str:
    """A ``pg_dump --table`` pattern matching exactly this table: inside double quotes a
    pattern's wildcards and case are literal (a double quote is written twice)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in (schema, table))


def data_tables(snap, oids) -> list[tuple[str, str]]:
    """(schema, name) of every table whose ``TABLE DATA`` a backup of these tables holds.

    A partitioned table has no data of its own (pg_dump writes none for it): its leaf
    partitions, sub-partitions included, hold the rows. An inheritance parent has its own
    rows, and its children theirs (a query of the parent reads them all).
    """
    out: list[tuple[str, str]] = []
    for oid in oids:
        for t in snap.storage_tables(oid):
            if (t.schema, t.name) not in out:
                out.append((t.schema, t.name))
    return out


def writable_folder(folder) -> Path:
    """The backup folder, made if missing; :class:`BackupFailed` when it cannot be made or
    written to."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupFailed(f"cannot create backup folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise BackupFailed(f"backup folder {folder} is not writable; nothing was changed")
    return folder


class BackupJob:
    """``pg_dump`` running in the background, flushed to disk while it writes.

    pg_dump only reads (one snapshot, ACCESS SHARE locks), so the run starts it as soon as
    the disk-space and version checks pass and does its analysis, preflight and baseline
    meanwhile; nothing is changed before :meth:`wait` returns a verified backup.

    ``tables`` (schema, name) limits the dump to those tables (the rollback saves the
    tables it drops columns from). A thread calls ``fdatasync`` on the growing file every ``flush_every`` seconds, so
    the kernel writes it out while pg_dump is still producing it and the final ``fsync``
    has little left to do (at 1M messages the final fsync alone took 0.2 s). The same
    thread moves an optional progress bar (bytes written).

    ``jobs`` (1 or more) makes a directory-format backup, ``<name>.dir``, dumped by that many
    pg_dump workers; the thread flushes each of its files as they grow, and :meth:`wait`
    fsyncs every file and the directory. None or 0: one custom-format file, ``<name>.dump``.
    """

    def __init__(self, url: str, folder: Path, name: str, server_version_num: int, *, compress: bool = False,
                 expected_bytes: int | None = None, progress: bool = False, flush_every: float = 0.1,
                 tables: list[tuple[str, str]] | None = None, jobs: int | None = None):
        self.url = url
        self.version = check_pg_dump(server_version_num)
        folder = writable_folder(folder)
        self.jobs = jobs or None
        self.format = "custom" if not jobs else "directory"
        self.path = folder / (f"{name}.dump" if not jobs else f"{name}.dir")
        env, plain_url = _env_and_url(url)
        fmt = ["--format=custom"] if not jobs else ["--format=directory", f"--jobs={jobs}"]
        cmd = [str(_tool("pg_dump")), *fmt, f"--compress={6 if compress else 0}", "--no-sync",
               f"--file={self.path}", f"--dbname={plain_url}"]
        cmd += [f"--table={table_pattern(schema, table)}" for schema, table in tables or ()]
        self._t0 = time.perf_counter()
        self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        self._stop = threading.Event()
        self._flush_error: OSError | None = None
        self._bar = None
        if progress:
            from ..progress import bar

            self._bar = bar("backup (pg_dump)", total=expected_bytes, unit="B", unit_scale=True, unit_divisor=1024,
                            leave=False)
        self._flusher = threading.Thread(target=self._flush_loop, args=(flush_every,), name="runbook-backup-flush",
                                         daemon=True)
        self._flusher.start()
        self.done = False

    def _files(self) -> list[Path]:
        """The files pg_dump is writing: the backup file, or the directory's files."""
        if self.format == "custom":
            return [self.path]
        try:
            return [Path(e.path) for e in os.scandir(self.path) if e.is_file()]
        except FileNotFoundError:
            return []

    def _flush_loop(self, every: float) -> None:
        fds: dict[Path, int] = {}
        shown = 0
        try:
            while not self._stop.wait(every):
                for f in self._files():
                    if f not in fds:
                        try:
                            fds[f] = os.open(f, os.O_RDONLY)
                        except FileNotFoundError:
                            continue
                size = 0
                for fd in fds.values():
                    os.fdatasync(fd)
                    size += os.fstat(fd).st_size
                if self._bar is not None:
                    self._bar.update(size - shown)
                    shown = size
        except OSError as exc:  # reported by wait(), which fsyncs again anyway
            self._flush_error = exc
        finally:
            for fd in fds.values():
                os.close(fd)

    def _end_threads(self) -> None:
        self._stop.set()
        self._flusher.join()
        if self._bar is not None:
            from ..progress import finish

            if self.path.exists():  # the last bytes pg_dump wrote since the flusher's last look
                self._bar.update(backup_bytes(self.path) - self._bar.n)
            finish(self._bar)

    def wait(self, expect_tables: list[str | tuple[str, str]] | None = None) -> BackupInfo:
        """Wait for pg_dump, fsync the file, and verify it with ``pg_restore --list``
        (every table in ``expect_tables``, a name or (schema, name), must have its data in
        it: see :func:`data_tables`). Raises :class:`BackupFailed`."""
        try:
            _, stderr = self._proc.communicate()
        except BaseException:  # interrupted while waiting: stop pg_dump too
            self.cancel()
            raise
        t_dumped = time.perf_counter()
        self._end_threads()
        self.done = True
        path = self.path
        if self._proc.returncode != 0:
            remove_backup(path)
            err = scrub(pg_dump_error(stderr), self.url)
            raise BackupFailed(f"pg_dump failed, nothing was changed: {err}")
        try:
            fsync_backup(path)
        except OSError as exc:
            remove_backup(path)
            raise BackupFailed(f"backup could not be written to disk, nothing was changed: {exc.strerror}") from None
        t_synced = time.perf_counter()
        toc = subprocess.run([str(_tool("pg_restore")), "--list", str(path)], capture_output=True, text=True)
        if toc.returncode != 0:
            raise BackupFailed(f"backup {path.name} does not verify (pg_restore --list failed); nothing was changed")
        lines = [l for l in toc.stdout.splitlines() if l and not l.startswith(";")]
        data_lines = [l for l in lines if " TABLE DATA " in l]
        missing = []
        for t in expect_tables or []:
            schema, name = t if isinstance(t, tuple) else (None, t)
            where = re.escape(schema) if schema is not None else r"\S+"
            if not any(re.search(r" TABLE DATA " + where + " " + re.escape(name) + r" ", l) for l in data_lines):
                missing.append(name if schema is None else f"{schema}.{name}")
        if missing:
            raise BackupFailed(f"backup {path.name} lacks the data of {', '.join(missing)}; nothing was changed")
        t_end = time.perf_counter()
        seconds = t_end - self._t0  # started, dumped, fsynced and verified
        return BackupInfo(str(path), backup_bytes(path), seconds, True, len(lines), len(data_lines), self.version,
                          format=self.format, jobs=self.jobs or 1, dump_s=t_dumped - self._t0,
                          fsync_s=t_synced - t_dumped, list_s=t_end - t_synced)

    def cancel(self) -> None:
        """Stop pg_dump (the run stopped before it needed the backup) and remove the partial file."""
        if self.done:
            return
        self.done = True
        if self._proc.poll() is None:
            self._proc.terminate()
        try:
            self._proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
        self._end_threads()
        remove_backup(self.path)


SNAPSHOT_TIMEOUT_S = 3600


def snapshot_backup(command: str, url: str, run_id: str, *, timeout: float = SNAPSHOT_TIMEOUT_S) -> BackupInfo:
    """``--backup snapshot-command=CMD``: run the operator's command (the provider's
    snapshot, a PITR marker) before anything changes, and record what it printed. Exit 0
    is the only proof runbook has: it cannot verify the snapshot. It gets the run's id and
    the database's name in ``RUNBOOK_RUN_ID`` and ``RUNBOOK_DATABASE`` (never the URL).
    Raises :class:`BackupFailed` (nothing changed) when it fails or times out."""
    from ..connection import parse

    env = {**os.environ, "RUNBOOK_RUN_ID": run_id, "RUNBOOK_DATABASE": parse(url).get("dbname", "")}
    t0 = time.perf_counter()
    try:
        p = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BackupFailed(f"the snapshot command did not finish in {timeout:,.0f} s; nothing was changed") from None
    seconds = time.perf_counter() - t0
    output = scrub((p.stdout + p.stderr).strip(), url)[-4000:]
    if p.returncode != 0:
        last = output.splitlines()[-1] if output else "no output"
        raise BackupFailed(f"the snapshot command failed (exit {p.returncode}): {last}; nothing was changed")
    return BackupInfo(f"snapshot: {scrub(command, url)}", 0, seconds, False, 0, 0, "", kind="snapshot",
                      output=output)


def restore_backup(url: str, path: Path, *, server_version_num: int, clean: bool = True) -> subprocess.CompletedProcess:
    """Restore in one transaction: ``pg_restore`` writes the script, ``psql -1`` runs it.
    ``path`` is a custom-format file or a directory-format folder (pg_restore tells them
    apart itself).

    Not ``pg_restore --dbname`` directly: pg_restore 18 starts every restore with
    ``SET transaction_timeout = 0``, which servers before 17 reject. Going through the
    script lets us drop that one line for older servers.
    """
    env, plain_url = _env_and_url(url)
    cmd = [str(_tool("pg_restore")), "--file=-"]
    if clean:
        cmd += ["--clean", "--if-exists"]
    cmd.append(str(path))
    script = subprocess.run(cmd, capture_output=True, text=True)
    if script.returncode != 0:
        return script
    sql = script.stdout
    if server_version_num < 170000:
        sql = re.sub(r"(?m)^SET transaction_timeout = 0;\n", "", sql)
    return subprocess.run([str(_tool("psql")), "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1",
                           f"--dbname={plain_url}"], input=sql, capture_output=True, text=True, env=env)


def list_backup(path: Path) -> list[str]:
    toc = subprocess.run([str(_tool("pg_restore")), "--list", str(path)], capture_output=True, text=True)
    if toc.returncode != 0:
        raise BackupFailed(f"{path} is not a readable backup: {toc.stderr.strip()[:200]}")
    return [l for l in toc.stdout.splitlines() if l and not l.startswith(";")]
