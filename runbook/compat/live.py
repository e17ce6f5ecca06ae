"""The comparison on a live database: :func:`check` reads its catalog and compares;
:func:`write_blockers` gives the result as :class:`runbook.checks.Check` rows for
``runbook verify``. Which schema and which models: :func:`load_schema`,
:func:`written_models`."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..catalog.inspect import Snapshot, inspect
from ..checks import Check
from ..errors import BadInput
from ..mapping import load_mapping
from ..prisma import Schema, load
from .comparison import compare
from .findings import Compatibility

__all__ = ["load_schema", "written_models", "check", "write_blockers"]


def load_schema(schema) -> tuple[Schema, str]:
    """A parsed schema and where it came from: ``schema`` is a parsed
    :class:`~runbook.prisma.Schema`, a ``.prisma`` path (or a folder of them), or None
    for the default mapping's service schema."""
    if schema is None:
        svc = load_mapping().service
        return svc.load_schema(), str(svc.target_schema)
    if isinstance(schema, Schema):
        return schema, "<schema>"
    p = Path(schema)
    if not p.exists():
        raise BadInput(f"target schema {p} does not exist", path=str(p))
    try:
        return load(p), str(p)
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read target schema {p}: {getattr(exc, 'strerror', None) or 'not UTF-8'}") from None


def written_models(schema_arg, sch: Schema, written: Iterable[str] | None) -> Iterable[str] | None:
    """The models the service writes: ``written`` when given; else, with no schema given
    (``schema_arg`` None), the default mapping's service writes; else None (every model,
    :func:`compare`'s default)."""
    if written is None and schema_arg is None:
        return load_mapping().service.written_models(sch)
    return written


def check(url_or_conn=None, schema=None, *, db_schema: str = "public",
          written: Iterable[str] | None = None, snapshot: Snapshot | None = None) -> Compatibility:
    """Read the database (a URL, ``$DATABASE_URL``, or an open psycopg2 connection) and compare.

    ``schema``: a parsed :class:`~runbook.prisma.Schema`, a ``.prisma`` path (or a folder
    of them), or None for the default mapping's service schema. ``snapshot``: a catalog
    snapshot just taken of that database, used instead of reading it again.
    """
    from ..connection import connect, redact, resolve_url

    sch, source = load_schema(schema)
    written = written_models(schema, sch, written)
    if snapshot is not None:
        snap = snapshot
        database = redact(url_or_conn) if isinstance(url_or_conn, str) else snapshot.database
    elif url_or_conn is None or isinstance(url_or_conn, str):
        url = resolve_url(url_or_conn)
        conn = connect(url, application_name="runbook-check-schema", autocommit=True)
        try:
            snap = inspect(conn)
        finally:
            conn.close()
        database = redact(url)
    else:
        snap = inspect(url_or_conn)
        database = snap.database
    return compare(sch, snap, db_schema=db_schema, written=written, source=source, database=database)


def write_blockers(url_or_conn=None, schema=None, *, db_schema: str = "public",
                   written: Iterable[str] | None = None, snapshot: Snapshot | None = None) -> list[Check]:
    """For ``runbook verify``: one failing :class:`runbook.checks.Check` per blocker that stops the
    service (read blockers of any model, write blockers of ``written``), or one passing check."""
    return check(url_or_conn, schema, db_schema=db_schema, written=written, snapshot=snapshot).as_checks()
