""":func:`predict`: what the comparison will say after the rename plan, before anything
runs. The plan's catalog steps run, as each operation states them
(:meth:`~runbook.ops.Op.statements`, :meth:`~runbook.ops.Op.describe`), in one
transaction that is rolled back; the catalog is read inside it."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from ..catalog.inspect import inspect
from ..mapping import as_mapping
from ..naming import literal
from ..phases import PREPARE
from ..plan import Plan, build_plan
from .comparison import compare
from .findings import Compatibility
from .live import load_schema, written_models

__all__ = ["predict"]


def predict(url: str | None = None, mapping=None, schema=None, *, db_schema: str | None = None,
            written: Iterable[str] | None = None, lock_timeout: str = "2s") -> Compatibility:
    """What the comparison will say after the rename plan, before anything runs.

    Rehearses the plan's catalog steps (lock and finish phases; the data-filling prepare
    steps are skipped, and a step that cannot run without them is skipped too) in one
    transaction, reads the catalog inside it, and rolls back. It takes the plan's locks
    for a few milliseconds, giving up after ``lock_timeout``.
    """
    from ..connection import connect, redact, resolve_url

    url = resolve_url(url)
    m = as_mapping(mapping)
    if schema is None and m.service.configured:
        schema = m.service.load_schema()
        written = m.service.written_models(schema) if written is None else written
    sch, source = load_schema(schema)
    written = written_models(schema, sch, written)
    conn = connect(url, application_name="runbook-predict", autocommit=False)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET LOCAL lock_timeout = {literal(lock_timeout)}")
        notes = _rehearse(conn, build_plan(inspect(conn), m, strict=False))
        after = inspect(conn)
    finally:
        conn.rollback()
        conn.close()
    c = compare(sch, after, db_schema=db_schema or m.schema, written=written, source=source,
                database=redact(url) + " (predicted after the plan)")
    return replace(c, notes=tuple(notes))


def _rehearse(conn, plan: Plan) -> list[str]:
    """Run the plan's lock and finish steps on ``conn`` (its transaction stays open), each
    in a savepoint; the notes say which steps were not rehearsed, and why."""
    import psycopg2

    notes = []
    with conn.cursor() as cur:
        for i, op in enumerate(plan.ops):
            if op.phase == PREPARE:
                notes.append(f"not rehearsed (data step): {op.describe()}")
                continue
            cur.execute(f"SAVEPOINT runbook_predict_{i}")
            try:
                for stmt in op.statements():
                    cur.execute(stmt)
            except psycopg2.Error as exc:  # a step that needs the skipped data fill
                cur.execute(f"ROLLBACK TO SAVEPOINT runbook_predict_{i}")
                first = (str(exc).strip().splitlines() or ["?"])[0]
                notes.append(f"not rehearsed: {op.describe()} ({first})")
            cur.execute(f"RELEASE SAVEPOINT runbook_predict_{i}")
    return notes
