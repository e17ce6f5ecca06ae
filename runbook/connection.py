"""Database URLs: resolution, redaction, and connections.

A URL is a libpq URI (``postgresql://user@host:port/db?sslmode=...``, password included or from ``PGPASSWORD``). libpq itself
fills what the URI leaves out from the usual ``PG*`` variables (``PGHOST``,
``PGPASSWORD``, ``PGSSLMODE`` ...), so we hand it the URI untouched, with one
exception: a non-local host with no ``sslmode`` anywhere gets ``sslmode=require``, as the
spec's managed database needs.

Nothing here ever prints a password: :func:`redact` is what every message, log line,
notebook and audit row shows.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import psycopg2
import psycopg2.extensions

from .errors import BadInput, ConnectionFailed

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


def resolve_url(url: str | None = None, env_var: str = "DATABASE_URL") -> str:
    """The URL given, else the one in ``env_var``; bad input if neither."""
    url = url or os.environ.get(env_var)
    if not url:
        raise BadInput(f"no database URL: pass --database-url or set {env_var}")
    if not re.match(r"^postgres(ql)?://", url):
        raise BadInput(f"not a postgresql:// URL: {redact(url)}")
    return with_default_sslmode(url)


def _hosts(url: str) -> list[str]:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    hosts = []
    for h in netloc.split(","):
        h = h.strip()
        if h.startswith("["):
            h = h[1 : h.index("]")]
        else:
            h = h.split(":")[0]
        hosts.append(unquote(h))
    q = dict(parse_qsl(parts.query))
    if "host" in q:
        hosts = [x.strip() for x in q["host"].split(",")]
    if hosts == [""]:
        hosts = [os.environ.get("PGHOST", "")]
    return hosts


def is_local(url: str) -> bool:
    """True when every host is a Unix socket directory or a loopback name."""
    return all(h in LOCAL_HOSTS or h.startswith("/") for h in _hosts(url))


def with_default_sslmode(url: str) -> str:
    parts = urlsplit(url)
    q = parse_qsl(parts.query, keep_blank_values=True)
    if any(k == "sslmode" for k, _ in q) or os.environ.get("PGSSLMODE") or is_local(url):
        return url
    q.append(("sslmode", "require"))
    return urlunsplit(parts._replace(query=urlencode(q, quote_via=quote, safe="/")))


def redact(url: str) -> str:
    """The URL with its password (in the netloc or the query) replaced by ``***``."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, hostinfo = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{hostinfo}"
    q = [(k, "***" if k.lower() in ("password", "sslpassword") else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query = urlencode(q, quote_via=quote, safe="/*") if q else ""
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def password_of(url: str) -> str | None:
    parts = urlsplit(url)
    userinfo = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
    if ":" in userinfo:
        return unquote(userinfo.split(":", 1)[1]) or None
    return dict(parse_qsl(parts.query)).get("password")


def scrub(text: str, url: str | None) -> str:
    """Remove the URL and its password from a message (server errors may echo them)."""
    if not url or not text:
        return text
    text = text.replace(url, redact(url))
    pw = password_of(url)
    if pw:
        text = text.replace(pw, "***")
    return text


def connect(url: str, *, application_name: str = "runbook", autocommit: bool = False, connect_timeout: int = 10):
    """A psycopg2 connection, or :class:`ConnectionFailed` with one clean line."""
    try:
        conn = psycopg2.connect(
            url, application_name=application_name, connect_timeout=connect_timeout
        )
    except psycopg2.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        first = re.sub(r"^connection to server .*? failed: ", "", first)
        raise ConnectionFailed(f"cannot connect to {redact(url)}: {scrub(first, url)}", url=redact(url)) from None
    if conn.server_version >= 140000:
        # a runner killed while its query waits on a lock: the server notices the client is
        # gone within seconds instead of waiting out lock_timeout (PostgreSQL 14+)
        with conn.cursor() as cur:
            cur.execute("SET client_connection_check_interval = '2s'")
        conn.commit()
    conn.autocommit = autocommit
    return conn


@contextmanager
def connection(url: str, **kw):
    conn = connect(url, **kw)
    try:
        yield conn
    finally:
        conn.close()


def engine(url: str, **kw):
    """A SQLAlchemy engine whose connections come from :func:`connect`."""
    from sqlalchemy import create_engine

    return create_engine("postgresql+psycopg2://", creator=lambda: connect(url, **kw), **{"pool_pre_ping": True})


def server_version(conn) -> int:
    """``server_version_num`` of the connection, e.g. 180006."""
    return conn.server_version
