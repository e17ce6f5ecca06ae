"""Backups: ``pg_dump`` before any DDL, checked with ``pg_restore --list``.

Custom format (``-Fc``) so that ``pg_restore`` can list and restore it; uncompressed by
default, which is as fast as a plain dump (compression costs 2.5x the time on this kind
of machine; ``--backup-compress`` turns it on). The password never appears on a command
line: it goes to the child through ``PGPASSWORD``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .connection import password_of, redact, scrub
from .errors import BackupFailed, ToolMissing
from .server import client_bin_dir


@dataclass(frozen=True)
class BackupInfo:
    path: str
    bytes: int
    seconds: float
    verified: bool
    toc_entries: int
    tables_in_toc: int
    pg_dump_version: str


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
    out = subprocess.run([str(_tool(name)), "--version"], capture_output=True, text=True).stdout.strip()
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
    env = dict(os.environ)
    pw = password_of(url)
    parts = urlsplit(url)
    if pw:
        env["PGPASSWORD"] = pw
        netloc = parts.netloc
        user, host = netloc.rsplit("@", 1)
        netloc = user.split(":", 1)[0] + "@" + host
        url = urlunsplit(parts._replace(netloc=netloc))
    return env, url


def estimated_size(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        return cur.fetchone()[0]


def free_bytes(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(folder).free


def create_backup(url: str, folder: Path, name: str, server_version_num: int, *, compress: bool = False,
                  expect_tables: list[str] | None = None) -> BackupInfo:
    """Dump the database to ``folder/name.dump`` and verify it. Raises :class:`BackupFailed`."""
    version = check_pg_dump(server_version_num)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupFailed(f"cannot create backup folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise BackupFailed(f"backup folder {folder} is not writable; nothing was changed")
    path = folder / f"{name}.dump"
    env, plain_url = _env_and_url(url)
    t0 = time.perf_counter()
    cmd = [str(_tool("pg_dump")), "--format=custom", f"--compress={6 if compress else 0}", "--no-sync",
           f"--file={path}", f"--dbname={plain_url}"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        path.unlink(missing_ok=True)
        err = scrub((r.stderr.strip().splitlines() or ["unknown error"])[-1], url)
        raise BackupFailed(f"pg_dump failed, nothing was changed: {err}")
    try:
        with open(path, "rb+") as fh:
            os.fsync(fh.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise BackupFailed(f"backup could not be written to disk, nothing was changed: {exc.strerror}") from None
    seconds = time.perf_counter() - t0
    toc = subprocess.run([str(_tool("pg_restore")), "--list", str(path)], capture_output=True, text=True)
    if toc.returncode != 0:
        raise BackupFailed(f"backup {path.name} does not verify (pg_restore --list failed); nothing was changed")
    lines = [l for l in toc.stdout.splitlines() if l and not l.startswith(";")]
    data_lines = [l for l in lines if " TABLE DATA " in l]
    missing = []
    for t in expect_tables or []:
        if not any(re.search(r" TABLE DATA \S+ " + re.escape(t) + r" ", l) for l in data_lines):
            missing.append(t)
    if missing:
        raise BackupFailed(f"backup {path.name} lacks the data of {', '.join(missing)}; nothing was changed")
    return BackupInfo(str(path), path.stat().st_size, seconds, True, len(lines), len(data_lines), version)


def restore_backup(url: str, path: Path, *, server_version_num: int, clean: bool = True) -> subprocess.CompletedProcess:
    """Restore in one transaction: ``pg_restore`` writes the script, ``psql -1`` runs it.

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
