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
    native = (f.native_type or ("", ()))[0]
    args = (f.native_type or ("", ()))[1]
    if f.kind == "enum":
        e = next((x for x in schema.enums if x.name == f.type), None)
        if e is None or not e.values:
            raise _Skip(f"enum {f.type} has no value")
        return e.values[0].db_name, typ
    t = f.type
    if t == "String":
        if native == "Uuid" or (_client_generated(f) and f.default.name == "uuid"):
            return str(uuid.uuid4()), typ
        if native in ("Inet",):
            return "127.0.0.1", typ
        text = "c" + token + secrets.token_hex(8)
        if native in ("VarChar", "Char") and args:
            try:
                n = int(args[0])
            except ValueError:
                n = len(text)
            text = (text * 4)[:n]
        return text, typ
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


def crud_check(conn, schema, *, db_schema: str, written) -> CrudResult:
    """Create, read, update and delete one row of every model in ``written`` through
    ``schema``'s models, in a transaction on ``conn`` that is rolled back."""
    import psycopg2

    out = CrudResult()
    written = [schema.model(w) for w in written if schema.has_model(w)]
    created: dict[str, dict[str, object]] = {}  # model -> column values of the row we made
    order: list = []
    by_name = {m.name: m for m in schema.models}
    token = secrets.token_hex(3)

    def make(model, depth: int = 0, aux: bool = False) -> dict[str, object]:
        """Insert one row of ``model``; returns its column values."""
        if model.name in created:
            return created[model.name]
        if depth > 6:
            raise _Skip("relations nest too deep")
        cols: dict[str, object] = {}
        casts: dict[str, str] = {}
        fk_cols: set[str] = set()
        for rf in model.relation_fields():
            rel = rf.relation
            if not rel or not rel.fields:
                continue
            fk_cols |= {model.column(x) for x in rel.fields}
            required = any(not model.field(x).optional for x in rel.fields)
            if not required:
                continue
            parent = by_name.get(rf.type)
            if parent is None:
                raise _Skip(f"relation {rf.name} to {rf.type}, not a model")
            if parent.name == model.name:
                raise _Skip(f"required self-relation {rf.name}")
            with conn.cursor() as cur:
                pcols = [parent.column(r) for r in rel.references]
                if parent.name in created:
                    row = [created[parent.name][c] for c in pcols]
                else:
                    cur.execute(f"SELECT {', '.join(q(c) for c in pcols)} FROM {_table(parent, db_schema)} LIMIT 1")
                    r = cur.fetchone()
                    row = list(r) if r else list(map(make_parent(parent, depth).get, pcols))
            for local, val in zip(rel.fields, row):
                cols[model.column(local)] = val
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
                v, typ = _value(f, schema, token, db_schema)
                cols[col], casts[col] = (v if not f.is_updated_at else "now"), typ
                continue
            if f.has_default or f.optional:
                continue
            cols[col], casts[col] = _value(f, schema, token, db_schema)
        names = list(cols)
        vals = ", ".join(f"CAST(%s AS {casts[c]})" if c in casts else "%s" for c in names)
        pk = [model.column(x) for x in model.id_fields] or names[:1]
        sql = (f"INSERT INTO {_table(model, db_schema)} ({', '.join(q(c) for c in names)}) VALUES ({vals})"
               if names else f"INSERT INTO {_table(model, db_schema)} DEFAULT VALUES")
        with conn.cursor() as cur:
            cur.execute(sql + f" RETURNING {', '.join(q(c) for c in pk)}", [cols[c] for c in names])
            key = dict(zip(pk, cur.fetchone()))
        row = {**cols, **key}
        created[model.name] = row
        order.append((model, key))
        return row

    def make_parent(parent, depth):
        return make(parent, depth + 1, aux=True)

    for i, model in enumerate(written):
        table = _table(model, db_schema)
        with conn.cursor() as cur:
            cur.execute(f"SAVEPOINT runbook_crud_{i}")
        mark = len(order)
        try:
            make(model)
            key = dict(order[[m.name for m, _ in order].index(model.name)][1])
            where = " AND ".join(f"{q(c)} = %s" for c in key)
            known = [f.db_name for f in model.scalar_fields() if f.kind != "unsupported"]
            with conn.cursor() as cur:
                cur.execute(f"SELECT {', '.join(q(c) for c in known)} FROM {table} WHERE {where}", list(key.values()))
                if cur.fetchone() is None:
                    raise RuntimeError("the row just created cannot be read back")
                upd = next((c for c in known if c not in key), known[0])
                cur.execute(f"UPDATE {table} SET {q(upd)} = {q(upd)} WHERE {where}", list(key.values()))
                # delete what this model's check created, children (created later) first
                for m, k in reversed(order[mark:]):
                    cur.execute(f"DELETE FROM {_table(m, db_schema)} WHERE "
                                + " AND ".join(f"{q(c)} = %s" for c in k), list(k.values()))
                    created.pop(m.name, None)
            del order[mark:]
            out.results.append(ModelResult(model.name, table, "ok"))
        except _Skip as exc:
            out.results.append(ModelResult(model.name, table, "skipped", str(exc)))
            _rollback_to(conn, i, order, created, mark)
        except psycopg2.Error as exc:
            code = exc.pgcode or ""
            first = (str(exc).strip().splitlines() or ["?"])[0]
            if code in _VALUE_ERRORS or code.startswith("22"):
                why = _VALUE_ERRORS.get(code, "our value does not fit")
                out.results.append(ModelResult(model.name, table, "inconclusive", f"{why} ({code}): {first}"))
            else:
                why = _BREAKS.get(code, f"SQLSTATE {code}")
                out.results.append(ModelResult(model.name, table, "failed", f"{why}: {first}"))
            _rollback_to(conn, i, order, created, mark)
        except RuntimeError as exc:
            out.results.append(ModelResult(model.name, table, "failed", str(exc)))
            _rollback_to(conn, i, order, created, mark)
    return out


def _rollback_to(conn, i, order, created, mark) -> None:
    with conn.cursor() as cur:
        cur.execute(f"ROLLBACK TO SAVEPOINT runbook_crud_{i}")
    for m, _ in order[mark:]:
        created.pop(m.name, None)
    del order[mark:]


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
