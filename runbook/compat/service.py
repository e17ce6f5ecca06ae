"""The service's own view of the migrated database: create, read, update, delete through
the models of its Prisma schema (the mapping's ``[service] target_schema``).

The check knows what the service's Prisma client knows and nothing more: each model's
fields and their ``@map`` columns, which values the client generates itself (``cuid()``,
``uuid()``, ``@updatedAt``) and which it leaves to the database (``now()``,
``autoincrement()``, literal defaults). For every model the service writes it inserts one
row with only those columns, reads it back, updates it (which fires the table's
triggers, whose bodies the plan may have rewritten) and deletes it, children before
parents, so no ON DELETE CASCADE is assumed. Everything runs in one transaction that is
rolled back: the data is left as it was.

What the migration can break fails the check: a missing table or column, a NOT NULL
column the model does not know, a type the client cannot write, a trigger function that
still names an old table or raises. What only our made-up values can cause (a CHECK,
unique or exclusion constraint, a foreign key or a type's range that rejects them) is
reported as not conclusive, never as a failure: a wrong verdict here would roll back a
correct migration.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

from ..naming import q, qq
from ..prisma import Call
from .types import expected_type

#: SQLSTATEs our made-up values can cause on a database the migration did not break: a
#: value a CHECK, a unique or exclusion constraint, a foreign key or a type's range refuses.
#: Every other error (a missing table or column, a NOT NULL column the model does not
#: know, a trigger that raises or names an old table ...) is what the service would meet.
_VALUE_ERRORS = {"23505": "a unique constraint refused our value", "23514": "a CHECK constraint refused our value",
                 "23P01": "an exclusion constraint refused our value", "23503": "a foreign key refused our value"}
_BREAKS = {
    "42P01": "table does not exist",
    "42703": "column does not exist",
    "23502": "a NOT NULL column the model does not know",
    "42804": "type mismatch",
    "42883": "a function or operator does not exist (a trigger function naming an old name?)",
    "P0001": "a trigger or rule raised an error",
}
_CLIENT_GENERATED = {"cuid", "uuid", "nanoid", "ulid"}


@dataclass
class ModelResult:
    model: str
    table: str
    verdict: str  # ok | failed | inconclusive | skipped
    detail: str = ""


@dataclass
class CrudResult:
    results: list[ModelResult] = field(default_factory=list)

    @property
    def ok(self) -> bool | None:
        """False when a model failed; None when nothing could be checked; else True."""
        if any(r.verdict == "failed" for r in self.results):
            return False
        if not any(r.verdict == "ok" for r in self.results):
            return None
        return True

    @property
    def detail(self) -> str:
        bad = [r for r in self.results if r.verdict == "failed"]
        if bad:
            return "; ".join(f"{r.model}: {r.detail}" for r in bad)
        n = {v: sum(r.verdict == v for r in self.results) for v in ("ok", "inconclusive", "skipped")}
        parts = [f"{n['ok']} model(s) created, read, updated and deleted"]
        if n["inconclusive"]:
            parts.append(f"{n['inconclusive']} not conclusive (" + "; ".join(
                f"{r.model}: {r.detail}" for r in self.results if r.verdict == "inconclusive")[:300] + ")")
        if n["skipped"]:
            parts.append(f"{n['skipped']} skipped (" + "; ".join(
                f"{r.model}: {r.detail}" for r in self.results if r.verdict == "skipped")[:300] + ")")
        return ", ".join(parts)


class _Skip(Exception):
    pass


def _table(model, db_schema: str) -> str:
    return qq(model.schema or db_schema, model.db_name)


def _client_generated(f) -> bool:
    return isinstance(f.default, Call) and f.default.name in _CLIENT_GENERATED


def _value(f, schema, token: str, db_schema: str = "public"):
    """A value the client could send for field ``f``, and the SQL type to cast it to."""
    typ = expected_type(f, schema, db_schema)
    if f.list:
        return "{}", typ
    if f.kind == "enum":
        e = next((x for x in schema.enums if x.name == f.type), None)
        if e is None or not e.values:
            raise _Skip(f"enum {f.type} has no value")
        return e.values[0].db_name, typ
    t = f.type
    if t == "String":
        return _text(f, token), typ
    if t in ("Int", "BigInt"):
        return secrets.randbelow(2**30) + 1, typ
    if t in ("Float", "Decimal"):
        return secrets.randbelow(1000) + 1, typ
    if t == "Boolean":
        return False, typ
    if t == "DateTime":
        return "now", typ
    if t == "Json":
        return "{}", typ
    if t == "Bytes":
        return b"\x00", typ
    raise _Skip(f"field {f.name} of type {t} cannot be made up")


def _text(f, token: str) -> str:
    """A String value: a uuid, an address, or a made-up text that fits the column's length."""
    native, args = f.native_type or ("", ())
    if native == "Uuid" or (_client_generated(f) and f.default.name == "uuid"):
        return str(uuid.uuid4())
    if native in ("Inet",):
        return "127.0.0.1"
    text = "c" + token + secrets.token_hex(8)
    if native in ("VarChar", "Char") and args:
        try:
            n = int(args[0])
        except ValueError:
            n = len(text)
        text = (text * 4)[:n]
    return text


def crud_check(conn, schema, *, db_schema: str, written) -> CrudResult:
    """Create, read, update and delete one row of every model in ``written`` through
    ``schema``'s models, in a transaction on ``conn`` that is rolled back."""
    rows = _Rows(conn, schema, db_schema)
    models = [schema.model(w) for w in written if schema.has_model(w)]
    return CrudResult([_check_model(rows, i, model) for i, model in enumerate(models)])


class _Rows:
    """The rows one check creates on ``conn``, as the service's client would insert them:
    each model's row, and before it one row of each parent that a required relation
    needs when the table has none."""

    def __init__(self, conn, schema, db_schema: str):
        self.conn = conn
        self.schema = schema
        self.db_schema = db_schema
        self.by_name = {m.name: m for m in schema.models}
        self.token = secrets.token_hex(3)
        self.created: dict[str, dict[str, object]] = {}  # model -> column values of the row we made
        self.order: list = []  # (model, primary key values), in the order of the inserts

    def table(self, model) -> str:
        return _table(model, self.db_schema)

    def make(self, model, depth: int = 0) -> dict[str, object]:
        """Insert one row of ``model`` (once); returns its column values."""
        if model.name in self.created:
            return self.created[model.name]
        if depth > 6:
            raise _Skip("relations nest too deep")
        cols, fk_cols = self._parent_keys(model, depth)
        casts = self._field_values(model, cols, fk_cols)
        key = self._insert(model, cols, casts)
        row = {**cols, **key}
        self.created[model.name] = row
        self.order.append((model, key))
        return row

    def _parent_keys(self, model, depth: int) -> tuple[dict[str, object], set[str]]:
        """(the foreign key columns of the required relations with their parents' keys,
        every foreign key column of the model)."""
        cols: dict[str, object] = {}
        fk_cols: set[str] = set()
        for rf in model.relation_fields():
            rel = rf.relation
            if not rel or not rel.fields:
                continue
            fk_cols |= {model.column(x) for x in rel.fields}
            if not any(not model.field(x).optional for x in rel.fields):
                continue
            parent = self.by_name.get(rf.type)
            if parent is None:
                raise _Skip(f"relation {rf.name} to {rf.type}, not a model")
            if parent.name == model.name:
                raise _Skip(f"required self-relation {rf.name}")
            row = self._parent_row(parent, [parent.column(r) for r in rel.references], depth)
            for local, val in zip(rel.fields, row):
                cols[model.column(local)] = val
        return cols, fk_cols

    def _parent_row(self, parent, pcols: list[str], depth: int) -> list:
        """The values of ``pcols`` of a ``parent`` row: ours, any in the table, or a new one."""
        if parent.name in self.created:
            return [self.created[parent.name][c] for c in pcols]
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT {', '.join(q(c) for c in pcols)} FROM {self.table(parent)} LIMIT 1")
            r = cur.fetchone()
        return list(r) if r else list(map(self.make(parent, depth + 1).get, pcols))

    def _field_values(self, model, cols: dict[str, object], fk_cols: set[str]) -> dict[str, str]:
        """Add to ``cols`` the scalar values the client sends (the ones it generates, and
        the required fields without default); returns the SQL type of each made-up value."""
        casts: dict[str, str] = {}
        for f in model.scalar_fields():
            col = f.db_name
            if col in cols:
                continue
            if f.kind == "unsupported":
                if not f.optional and not f.has_default:
                    raise _Skip(f"required field {f.name} is Unsupported: the client cannot create it either")
                continue
            if col in fk_cols:
                continue  # an optional relation: left NULL
            if f.is_updated_at or _client_generated(f):
                v, typ = _value(f, self.schema, self.token, self.db_schema)
                cols[col], casts[col] = (v if not f.is_updated_at else "now"), typ
                continue
            if f.has_default or f.optional:
                continue
            cols[col], casts[col] = _value(f, self.schema, self.token, self.db_schema)
        return casts

    def _insert(self, model, cols: dict[str, object], casts: dict[str, str]) -> dict[str, object]:
        """INSERT the row; returns its primary key values (its first column's without one)."""
        names = list(cols)
        vals = ", ".join(f"CAST(%s AS {casts[c]})" if c in casts else "%s" for c in names)
        pk = [model.column(x) for x in model.id_fields] or names[:1]
        sql = (f"INSERT INTO {self.table(model)} ({', '.join(q(c) for c in names)}) VALUES ({vals})"
               if names else f"INSERT INTO {self.table(model)} DEFAULT VALUES")
        with self.conn.cursor() as cur:
            cur.execute(sql + f" RETURNING {', '.join(q(c) for c in pk)}", [cols[c] for c in names])
            return dict(zip(pk, cur.fetchone()))

    def read_update_delete(self, model, mark: int) -> None:
        """Read ``model``'s row back, update it, then delete every row made since ``mark``,
        children (created later) first."""
        key = dict(self.order[[m.name for m, _ in self.order].index(model.name)][1])
        where = " AND ".join(f"{q(c)} = %s" for c in key)
        known = [f.db_name for f in model.scalar_fields() if f.kind != "unsupported"]
        table = self.table(model)
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT {', '.join(q(c) for c in known)} FROM {table} WHERE {where}", list(key.values()))
            if cur.fetchone() is None:
                raise RuntimeError("the row just created cannot be read back")
            upd = next((c for c in known if c not in key), known[0])
            cur.execute(f"UPDATE {table} SET {q(upd)} = {q(upd)} WHERE {where}", list(key.values()))
            for m, k in reversed(self.order[mark:]):
                cur.execute(f"DELETE FROM {self.table(m)} WHERE "
                            + " AND ".join(f"{q(c)} = %s" for c in k), list(k.values()))
                self.created.pop(m.name, None)
        del self.order[mark:]

    def forget(self, mark: int) -> None:
        """Forget the rows made since ``mark`` (their savepoint was rolled back)."""
        for m, _ in self.order[mark:]:
            self.created.pop(m.name, None)
        del self.order[mark:]


def _check_model(rows: _Rows, i: int, model) -> ModelResult:
    """Create, read, update and delete one row of ``model`` in savepoint ``i``; rolled back
    to it when that fails."""
    import psycopg2

    table = rows.table(model)
    with rows.conn.cursor() as cur:
        cur.execute(f"SAVEPOINT runbook_crud_{i}")
    mark = len(rows.order)
    try:
        rows.make(model)
        rows.read_update_delete(model, mark)
        return ModelResult(model.name, table, "ok")
    except _Skip as exc:
        result = ModelResult(model.name, table, "skipped", str(exc))
    except psycopg2.Error as exc:
        result = ModelResult(model.name, table, *_verdict(exc))
    except RuntimeError as exc:
        result = ModelResult(model.name, table, "failed", str(exc))
    with rows.conn.cursor() as cur:
        cur.execute(f"ROLLBACK TO SAVEPOINT runbook_crud_{i}")
    rows.forget(mark)
    return result


def _verdict(exc) -> tuple[str, str]:
    """(verdict, detail) of a database error: inconclusive when only our made-up value
    can have caused it, else failed."""
    code = exc.pgcode or ""
    first = (str(exc).strip().splitlines() or ["?"])[0]
    if code in _VALUE_ERRORS or code.startswith("22"):
        why = _VALUE_ERRORS.get(code, "our value does not fit")
        return "inconclusive", f"{why} ({code}): {first}"
    return "failed", f"{_BREAKS.get(code, f'SQLSTATE {code}')}: {first}"


def run_crud_check(url: str, service, db_schema: str) -> tuple[bool | None, str]:
    """:func:`crud_check` on its own connection, for the mapping's service (a
    :class:`runbook.mapping.ServiceSpec`); (None, why) when it cannot run."""
    import psycopg2

    from ..connection import connect

    schema = service.load_schema()
    if schema is None:
        return None, "the mapping names no target schema"
    conn = connect(url, application_name="runbook-verify", autocommit=False)
    try:
        with conn.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = '2s'")
            cur.execute("SET LOCAL statement_timeout = '30s'")
        r = crud_check(conn, schema, db_schema=db_schema, written=service.written_models(schema))
        return r.ok, r.detail
    except psycopg2.Error as exc:
        return False, (str(exc).strip().splitlines() or ["?"])[0]
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()
