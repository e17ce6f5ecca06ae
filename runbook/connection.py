"""Database URLs: resolution, redaction, and connections.

A URL is whatever libpq accepts as a connection string: a URI
(``postgresql://user@host:port/db?sslmode=...``) or keyword/value pairs
(``host=... port=... dbname=... user=...``), the password in it or in ``PGPASSWORD`` /
``~/.pgpass``. libpq itself parses it (``psycopg2.extensions.parse_dsn``) and fills what
it leaves out from the usual ``PG*`` variables (``PGHOST``, ``PGPASSWORD``,
``PGSSLMODE``, ``PGCONNECT_TIMEOUT`` ...), so we hand it the string untouched, with two
exceptions: a non-local host with no ``sslmode`` anywhere gets ``sslmode=require``, as the
spec's managed database needs, and a connection with no ``connect_timeout`` anywhere gets
:data:`DEFAULT_CONNECT_TIMEOUT`.

Nothing here ever prints a password: :func:`redact` is what every message, log line,
notebook and audit row shows, and :func:`scrub` takes the URL and its password out of
messages the server or a tool wrote.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import psycopg2
import psycopg2.extensions
from psycopg2.extensions import make_dsn, parse_dsn

from .errors import BadInput, ConnectionFailed

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}
#: seconds libpq waits for a server when neither the URL nor ``PGCONNECT_TIMEOUT`` says
DEFAULT_CONNECT_TIMEOUT = 10
#: connection parameters whose values are secrets
SECRET_KEYS = ("password", "sslpassword")
_URI = re.compile(r"^postgres(ql)?://")
# libpq's own syntax characters, which its parse errors quote ("missing "=" after ...")
_SYNTAX = {"=", "[", "]", ":", "@", "/", "?", "&", "'", "\\"}


def is_uri(url: str) -> bool:
    return bool(_URI.match(url or ""))


def _parse_error(exc: Exception, raw: str) -> str:
    """libpq's complaint about ``raw``, without any piece of ``raw`` that could be a secret.

    libpq quotes what it could not read (the whole URI, the word after a missing ``=``);
    a quoted piece of the input is shown only when it is a parameter name."""
    msg = " ".join(str(exc).split()).removeprefix("invalid dsn: ")

    def hide(m: re.Match) -> str:
        piece = m.group(1)
        if piece in _SYNTAX or piece not in raw:
            return m.group(0)
        if re.fullmatch(r"[a-z_]+", piece) and re.search(rf"(^|[\s?&]){piece}\s*=", raw):
            return m.group(0)  # a parameter name libpq does not know
        return '"…"'

    msg = re.sub(r'"([^"]*)"', hide, msg)
    return re.sub(r':\s*"…"\s*$', "", msg)


def parse(url: str) -> dict[str, str]:
    """The connection parameters of ``url`` as libpq reads them; :class:`BadInput`
    (one line, no password) when libpq cannot read it."""
    try:
        return parse_dsn(url)
    except psycopg2.ProgrammingError as exc:
        what = "not a valid postgresql:// URL" if is_uri(url) else \
            "not a postgresql:// URL or a key=value connection string"
        raise BadInput(f"{what}: {_parse_error(exc, url)}") from None


def resolve_url(url: str | None = None, env_var: str = "DATABASE_URL") -> str:
    """The URL given, else the one in ``env_var``; bad input if neither or unreadable."""
    url = (url or os.environ.get(env_var) or "").strip()
    if not url:
        raise BadInput(f"no database URL: pass --database-url or set {env_var}")
    parse(url)
    return with_default_sslmode(url)


def _hosts(url: str) -> list[str]:
    params = parse(url)
    value = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") \
        or os.environ.get("PGHOSTADDR") or ""
    return [h.strip() for h in value.split(",")]


def is_local(url: str) -> bool:
    """True when every host is a Unix socket directory or a loopback name."""
    return all(h in LOCAL_HOSTS or h.startswith("/") for h in _hosts(url))


def with_default_sslmode(url: str) -> str:
    if "sslmode" in parse(url) or os.environ.get("PGSSLMODE") or is_local(url):
        return url
    if not is_uri(url):
        return f"{url} sslmode=require"
    parts = urlsplit(url)
    q = parse_qsl(parts.query, keep_blank_values=True)
    q.append(("sslmode", "require"))
    return urlunsplit(parts._replace(query=urlencode(q, quote_via=quote, safe="/")))


def _redact_conninfo(params: dict[str, str]) -> str:
    first = [k for k in ("host", "hostaddr", "port", "dbname", "user") if k in params]
    shown = {k: ("***" if k in SECRET_KEYS else params[k]) for k in first + [k for k in params if k not in first]}
    return make_dsn(**shown) if shown else ""


def redact(url: str) -> str:
    """``url`` with its password fields replaced by ``***``: a URI keeps its form, a
    key=value string shows its host, port, dbname and user (and other non-secret
    parameters). Never the password, even for a string libpq cannot read."""
    if not url:
        return url
    if not is_uri(url):
        try:
            return _redact_conninfo(parse_dsn(url))
        except psycopg2.ProgrammingError:
            return "<unreadable connection string>"
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, hostinfo = netloc.rsplit("@", 1)
            if ":" in userinfo:
                userinfo = userinfo.split(":", 1)[0] + ":***"
            netloc = f"{userinfo}@{hostinfo}"
        q = [(k, "***" if k.lower() in SECRET_KEYS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        query = urlencode(q, quote_via=quote, safe="/*") if q else ""
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:  # libpq may still read it (e.g. several IPv6 hosts)
        try:
            return _redact_conninfo(parse_dsn(url))
        except psycopg2.ProgrammingError:
            return "<unreadable URL>"


def secrets_of(url: str) -> list[str]:
    """Every secret ``url`` holds (password, sslpassword; in a URI both the user-info
    password and a ``?password=``), also when libpq cannot read the string."""
    found: list[str] = []
    try:
        params = parse_dsn(url)
        found += [params[k] for k in SECRET_KEYS if params.get(k)]
    except psycopg2.ProgrammingError:
        if not is_uri(url):
            for m in re.finditer(r"(?:^|\s)(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'?|\S+)", url):
                v = m.group(1)
                found.append(v[1:-1] if v.startswith("'") and v.endswith("'") and len(v) > 1 else v.strip("'"))
    if is_uri(url):
        m = re.match(r"^postgres(?:ql)?://([^/?#]*)@", url)
        if m and ":" in m.group(1):
            found.append(unquote(m.group(1).rsplit("@", 1)[0].split(":", 1)[1]))
        for m in re.finditer(r"[?&](?:ssl)?password=([^&#]*)", url):
            found.append(unquote(m.group(1)))
    out = []
    for s in found:
        for form in (s, quote(s, safe="")):
            if form and form not in out:
                out.append(form)
    return out


def password_of(url: str) -> str | None:
    """The password ``url`` carries (what libpq will use), or None."""
    try:
        return parse_dsn(url).get("password") or None
    except psycopg2.ProgrammingError:
        found = secrets_of(url)
        return found[0] if found else None


def _token(secret: str) -> re.Pattern:
    # the secret standing on its own: not inside a longer word ("o" is not in "for")
    return re.compile(r"(?<!\w)" + re.escape(secret) + r"(?!\w)")


def scrub(text: str, url: str | None) -> str:
    """Take ``url`` (whole, as given) and its password out of a message: the URL becomes
    its redacted form, the password ``***`` wherever it stands as a whole token, never
    the letters of it inside other words."""
    if not url or not text:
        return text
    text = text.replace(url, redact(url))
    for s in sorted(secrets_of(url), key=len, reverse=True):
        text = _token(s).sub("***", text)
    return text


def hide(text: str, secrets) -> str:
    """``text`` with each of ``secrets`` (a URL, a password) replaced by ``***`` where it
    stands as a whole token."""
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = _token(s).sub("***", text)
    return text


def contains_secret(text: str, url: str | None) -> bool:
    """True when ``text`` holds ``url`` or its password as :func:`scrub` would remove it."""
    if not url or not text:
        return False
    return (url in text and bool(secrets_of(url))) or any(_token(s).search(text) for s in secrets_of(url))


def connect_timeout_of(url: str) -> tuple[int | None, str]:
    """The connect timeout libpq will use for ``url`` and where it comes from: the URL's
    ``connect_timeout``, else ``PGCONNECT_TIMEOUT``, else :data:`DEFAULT_CONNECT_TIMEOUT`
    (the only case in which :func:`connect` passes one)."""
    given = parse(url).get("connect_timeout")
    if given not in (None, ""):
        return _int_or_none(given), "the URL's connect_timeout"
    env = (os.environ.get("PGCONNECT_TIMEOUT") or "").strip()
    if env:
        return _int_or_none(env), "PGCONNECT_TIMEOUT"
    return DEFAULT_CONNECT_TIMEOUT, "the default"


def _int_or_none(v: str) -> int | None:
    try:
        return int(v)
    except ValueError:
        return None


def connect(url: str, *, application_name: str = "runbook", autocommit: bool = False,
            connect_timeout: int | None = None):
    """A psycopg2 connection, or :class:`ConnectionFailed` with one clean line.

    ``connect_timeout`` overrides; otherwise the URL's or ``PGCONNECT_TIMEOUT`` holds, and
    only without either does :data:`DEFAULT_CONNECT_TIMEOUT` apply."""
    kw = {"application_name": application_name}
    if connect_timeout is not None:
        timeout, source = connect_timeout, "the caller"
    else:
        timeout, source = connect_timeout_of(url)
    if connect_timeout is not None or source == "the default":
        kw["connect_timeout"] = timeout
    try:
        conn = psycopg2.connect(url, **kw)
    except psycopg2.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        first = re.sub(r"^connection to server .*? failed: ", "", first)
        if "timeout expired" in first:
            first += f" (connect_timeout {timeout} s, from {source})"
        raise ConnectionFailed(f"cannot connect to {redact(url)}: {scrub(first, url)}", url=redact(url),
                               connect_timeout=timeout, connect_timeout_from=source) from None
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
