"""The audit trail (spec 6.1): rows in the application's ``"AuditLog"`` table.

Real audit tables differ, so the row is fitted to the table's columns: the event goes
into ``action`` (or ``event``/``type``), the facts into a ``jsonb`` column (``details``,
``metadata``, ``data``), ``entity`` says ``runbook``; any other NOT NULL column without
a default gets a generated id (text) or the current time (timestamps). With no such
table, rows go to ``runbook.audit_log``. Nothing written here contains a URL or password.
"""

from __future__ import annotations

import secrets

from psycopg2.extras import Json

from ..naming import q, qq

FALLBACK = ("runbook", "audit_log")

_EVENT_COLS = ("action", "event", "type", "eventType", "event_type")
_DETAIL_COLS = ("details", "metadata", "data", "payload", "meta")


def _columns(cur, schema: str, table: str):
    cur.execute(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "(a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '') "
        "FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped",
        (qq(schema, table),),
    )
    return cur.fetchall()


def _ensure_fallback(cur) -> None:
    cur.execute(
        "CREATE SCHEMA IF NOT EXISTS runbook; CREATE TABLE IF NOT EXISTS runbook.audit_log ("
        "id bigserial PRIMARY KEY, action text NOT NULL, entity text, details jsonb, "
        "\"createdAt\" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )


def write(conn, schema: str, table: str | None, event: str, details: dict, alternatives=()) -> dict:
    """Insert one audit row on ``conn`` (in its current transaction). Returns the row.

    ``alternatives``: other names the audit table may have now (when the plan renames it)."""
    if table:
        with conn.cursor() as cur:
            for name in (table, *alternatives):
                cur.execute("SELECT to_regclass(%s) IS NOT NULL", (qq(schema, name),))
                if cur.fetchone()[0]:
                    table = name
                    break
    sql, row = insert_sql(conn, schema, table, event, details)
    with conn.cursor() as cur:
        cur.execute(sql)
    return row


def insert_sql(conn, schema: str, table: str | None, event: str, details: dict,
               target: str | None = None) -> tuple[str, dict]:
    """The INSERT of one audit row, fitted to the table's columns, as one SQL string
    (so the runner can send it with the lock phase's last batch). ``target`` is the
    table's name when the INSERT runs, if the plan renames the audit table itself."""
    with conn.cursor() as cur:
        cols = _columns(cur, schema, table) if table else []
        if not cols or not any(c[0] in _EVENT_COLS for c in cols):
            _ensure_fallback(cur)
            schema_, table_ = FALLBACK
            cols = _columns(cur, schema_, table_)
        else:
            schema_, table_ = schema, table
        values: dict[str, object] = {}
        names = {c[0] for c in cols}
        ev = next(c for c in _EVENT_COLS if c in names)
        values[ev] = event
        det = next((c for c in _DETAIL_COLS if c in names), None)
        if det:
            values[det] = Json(details)
        if "entity" in names:
            values["entity"] = "runbook"
        if "entityId" in names and details.get("run_id"):
            values["entityId"] = details["run_id"]
        for name, typ, not_null, has_default in cols:
            if name in values or not not_null or has_default:
                continue
            if typ.startswith("timestamp") or typ == "date":
                values[name] = _Now()
            elif typ in ("text",) or typ.startswith("character"):
                values[name] = "rb" + secrets.token_hex(11)
            else:
                raise RuntimeError(f"cannot fill NOT NULL column {name} ({typ}) of the audit table")
        col_sql = ", ".join(q(k) for k in values)
        ph = ", ".join("now()" if isinstance(v, _Now) else "%s" for v in values.values())
        params = [v for v in values.values() if not isinstance(v, _Now)]
        if target and (schema_, table_) == (schema, table):
            table_ = target
        sql = cur.mogrify(f"INSERT INTO {qq(schema_, table_)} ({col_sql}) VALUES ({ph})", params).decode()
    return sql, {"table": f"{schema_}.{table_}", "event": event, **details}


class _Now:
    pass


def read(conn, schema: str, table: str | None, run_id: str | None = None) -> list[dict]:
    """The audit rows runbook wrote (for one run, if given)."""
    out = []
    with conn.cursor() as cur:
        for s, t in ([(schema, table)] if table else []) + [FALLBACK]:
            cols = _columns(cur, s, t)
            names = {c[0] for c in cols}
            ev = next((c for c in _EVENT_COLS if c in names), None)
            det = next((c for c in _DETAIL_COLS if c in names), None)
            if not ev or not det:
                continue
            cur.execute(f"SELECT {q(ev)}, {q(det)} FROM {qq(s, t)} WHERE {q(det)} ? 'run_id' "
                        + (f"AND {q(det)}->>'run_id' = %s " if run_id else "") + f"ORDER BY {q(det)}->>'at'",
                        [run_id] if run_id else [])
            out.extend({"table": f"{s}.{t}", "event": e, **(d or {})} for e, d in cur.fetchall())
    return out
