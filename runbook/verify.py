"""The checks of spec 9.1, each a named pass/fail with its evidence.

Row counts and content checksums are computed in the database, one pass per table
(``count(*)`` and ``sum(hashtextextended(ROW(...)::text, 0))``), never by pulling rows
into Python. A table whose ``relfilenode`` is unchanged and that no data step touched is
proved untouched by the catalog; it is counted but not checksummed unless asked.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .catalog.inspect import Snapshot
from .checks import Check
from .naming import literal, q, qq
from .rewrite import rewrite_source


@dataclass(frozen=True)
class TableCount:
    table_before: str
    table_after: str
    rows_before: int | None
    rows_after: int | None
    checksum_before: str | None
    checksum_after: str | None
    method: str  # checksum | catalog (relfilenode unchanged) | count

    @property
    def ok(self) -> bool:
        if self.rows_before != self.rows_after:
            return False
        return self.checksum_before == self.checksum_after


@dataclass(frozen=True)
class Verification:
    checks: tuple[Check, ...]
    counts: tuple[TableCount, ...] = ()
    notes: tuple[str, ...] = ()  # what was not checked, and why

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checks": [asdict(c) for c in self.checks], "notes": list(self.notes),
                "counts": [asdict(c) | {"ok": c.ok} for c in self.counts]}


def _in_schema(snap: Snapshot, con, schema: str) -> bool:
    """Is the constraint on a table of ``schema`` (constraint names are per table)?"""
    t = snap.table_by_oid(con.table_oid)
    return t is not None and t.schema == schema


def row_expr(columns: list[str], fills: dict[str, str] | None = None) -> str:
    fills = fills or {}
    parts = [f"coalesce({q(c)}, {literal(fills[c])})" if c in fills else q(c) for c in columns]
    return f"ROW({', '.join(parts)})::text"


def count_and_checksum(cur, schema: str, table: str, exprs: list[str] | None) -> tuple[int, list[str]]:
    """``count(*)`` and one checksum per row expression, in one pass over the table."""
    sums = [f"sum(hashtextextended({e}, 0))::text" for e in (exprs or [])]
    cur.execute(f"SELECT count(*){''.join(', ' + s for s in sums)} FROM {qq(schema, table)}")
    row = cur.fetchone()
    return row[0], [r or "0" for r in row[1:]]


def baseline(conn, snap: Snapshot, plan, mapping, *, checksums: str = "auto", progress=None) -> dict:
    """What the verification compares with: per plan table its OID, relfilenode, row
    count and checksums (raw, and as it must read after the data steps), and the
    definitions of its constraints and indexes by OID."""
    from .ops import FillNulls

    fills_by_table: dict[str, dict[str, str]] = {}
    for op in plan.ops:
        if type(op) is FillNulls:
            fills_by_table.setdefault(op.table_name, {})[op.column] = op.value
    out = {"tables": {}, "constraints": {}, "indexes": {}, "checksums": checksums}
    with conn.cursor() as cur:
        for st in plan.tables:
            if st.oid is None:
                continue
            t = snap.table_by_oid(st.oid)
            cols = [c.name for c in t.columns]
            fills = fills_by_table.get(t.name, {})
            want = checksums == "all" or (checksums == "auto" and fills)
            exprs = [row_expr(cols), row_expr(cols, fills)] if want else []
            n, sums = count_and_checksum(cur, t.schema, t.name, exprs)
            out["tables"][str(t.oid)] = {
                "old": st.old, "new": st.new, "name": t.name, "relfilenode": t.relfilenode, "rows": n,
                # the storage the count read: a partitioned table's relfilenode is 0, its
                # leaves hold the rows; an inheritance parent's count reads its children too
                "storage": {str(x.oid): x.relfilenode for x in snap.storage_tables(t.oid)},
                "columns": cols, "checksum_raw": sums[0] if sums else None,
                "checksum_expected": sums[1] if sums else None, "fills": fills,
            }
            for con in snap.constraints_of(t.oid):
                out["constraints"][str(con.oid)] = {"name": con.name, "table": t.name, "def": con.definition,
                                                     "type": con.type}
            for con in snap.foreign_keys_in(t.oid):
                out["constraints"][str(con.oid)] = {"name": con.name, "table": snap.table_by_oid(con.table_oid).name,
                                                     "def": con.definition, "type": con.type}
            for idx in snap.indexes_of(t.oid):
                out["indexes"][str(idx.oid)] = {"name": idx.name, "table": t.name, "def": idx.definition}
            if progress:
                progress(t.name)
    out["atomic"] = atomic_functions(conn, [o for o in out["tables"]])
    return out


_ATOMIC_SQL = """
SELECT DISTINCT p.oid, n.nspname, p.proname, p.oid::regprocedure::text,
       p.pronargs = 0 AND p.prokind = 'f' AND p.provolatile <> 'v' AS callable
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
WHERE p.prosqlbody IS NOT NULL AND d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY(%s::oid[])
ORDER BY p.oid"""


def _call_rolled_back(conn, sql: str) -> str | None:
    """Run ``sql`` and undo whatever it did; the error it raised, or None."""
    import psycopg2

    with conn.cursor() as cur:
        own = conn.autocommit
        cur.execute("BEGIN" if own else "SAVEPOINT runbook_atomic_call")
        try:
            cur.execute("SET LOCAL statement_timeout = '5s'")
            cur.execute(sql)
            cur.fetchall()
            err = None
        except psycopg2.Error as exc:
            err = (exc.pgerror or str(exc)).strip().splitlines()[0]
        cur.execute("ROLLBACK" if own else "ROLLBACK TO SAVEPOINT runbook_atomic_call")
    return err


def atomic_functions(conn, table_oids) -> dict[str, dict]:
    """SQL-standard bodies (``BEGIN ATOMIC``) that depend on these tables: they follow
    a rename by OID, so nothing rewrites them; the verification checks that they still
    run. A function without arguments that is not volatile is called (and undone);
    ``ran`` is the error it raised, or None."""
    oids = [int(o) for o in table_oids]
    if not oids or conn.server_version < 140000:  # prosqlbody is 14's
        return {}
    with conn.cursor() as cur:
        cur.execute(_ATOMIC_SQL, (oids,))
        rows = cur.fetchall()
    out = {}
    for oid, schema, name, sig, callable_ in rows:
        err = _call_rolled_back(conn, f"SELECT count(*) FROM {qq(schema, name)}()") if callable_ else None
        out[str(oid)] = {"signature": sig, "called": bool(callable_), "error": err}
    return out


def _atomic_checks(conn, snap: Snapshot, base: dict, gone: set[str]) -> list[Check]:
    """Each BEGIN ATOMIC body that depends on a plan table reads without an old name,
    and where it ran before the plan, it runs after it."""
    from .sqlbody import BodyError, atomic_table_refs

    if "atomic" not in base:  # a baseline recorded before this check existed
        return []
    now = atomic_functions(conn, [o for o in base["tables"]])
    checks = []
    for oid_s in sorted(set(base["atomic"]) | set(now), key=int):
        was, cur = base["atomic"].get(oid_s), now.get(oid_s)
        sig = (cur or was)["signature"]
        label = f"function {sig} (BEGIN ATOMIC) still runs"
        if cur is None:
            checks.append(Check(label, False, "it no longer depends on the tables: dropped or replaced"))
            continue
        f = next((x for x in snap.functions if x.oid == int(oid_s)), None)
        try:
            refs = atomic_table_refs(f.definition or "") if f else []
            old = sorted({n for _, n in refs if n in gone})
            problem = f"its body still names {', '.join(old)}" if old else None
        except BodyError as exc:
            problem = f"its body as PostgreSQL writes it cannot be parsed: {exc}"
        if problem is None and cur["called"] and was and was["called"] and was["error"] is None and cur["error"]:
            problem = f"it ran before, now it fails: {cur['error']}"
        detail = ("called, ran" if cur["called"] and not cur["error"] else
                  "called, fails as it did before" if cur["called"] else "body reads the new names (not called: it takes arguments or is volatile)")
        checks.append(Check(label, problem is None, problem or detail))
    return checks


def storage_pairs(oid: int | str, base_table: dict) -> list[tuple[int, int]]:
    """(oid, relfilenode) of the storage a baseline table's rows live in: the table
    itself, or for a partitioned table (relfilenode 0) its leaf partitions, and for an
    inheritance parent its children too. A baseline recorded before runbook knew
    partitions has only the table's own."""
    storage = base_table.get("storage")
    if storage is None:
        return [(int(oid), int(base_table["relfilenode"]))]
    return [(int(o), int(f)) for o, f in storage.items()]


def _storage_same(snap: Snapshot, oid: str, t: dict) -> tuple[bool, str]:
    pairs = storage_pairs(oid, t)
    changed = []
    for oid, before in pairs:
        now = snap.table_by_oid(oid)
        if now is None or now.relfilenode != before:
            changed.append(f"{now.name if now else oid}: {before} -> {now.relfilenode if now else 'gone'}")
    if changed:
        return False, "relfilenode " + "; ".join(changed)
    if len(pairs) == 1:
        return True, f"relfilenode {pairs[0][1]} unchanged"
    return True, f"relfilenode of its {len(pairs)} leaf tables unchanged"


def _expected_def(defn: str, tables: dict[str, str], columns: dict[str, str], names: dict[str, str],
                  ref_columns: dict[str, str] | None = None) -> str:
    """A constraint's or index's definition after the plan: tables and names renamed,
    and the columns of *its own* table (``columns``); in a foreign key, the referenced
    columns are those of the referenced table (``ref_columns``), never the other's."""
    from .rewrite import UnsafeRewrite

    if not defn:
        return defn
    try:
        if ref_columns is not None and " REFERENCES " in defn:
            local, ref = defn.split(" REFERENCES ", 1)
            return (rewrite_source(local, {**tables, **names}, columns) + " REFERENCES "
                    + rewrite_source(ref, {**tables, **names}, ref_columns))
        return rewrite_source(defn, {**tables, **names}, columns)
    except UnsafeRewrite:
        return defn


def _referenced_table(defn: str) -> str | None:
    """The (unqualified, unquoted) table a foreign key definition references."""
    m = re.search(r' REFERENCES ((?:"(?:[^"]|"")*"|[^\s(."]+)\.)?("(?:[^"]|"")*"|[^\s(."]+)\(', defn)
    if not m:
        return None
    name = m.group(2)
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def verify_state(conn, snap: Snapshot, plan, base: dict, *, quiesced: bool = True, direction: str = "forward",
                 url: str | None = None, service=None) -> Verification:
    """Compare the database now (``snap``) with the baseline taken before the plan ran.

    ``direction='forward'`` expects the plan's end state; ``'back'`` the original.
    ``service`` (a :class:`runbook.mapping.ServiceSpec`) with ``url``: the service's
    Prisma models are checked against the catalog and used for a CRUD round trip.
    With ``quiesced`` (no other writers), a row count or checksum that differs is a
    failure; otherwise it is reported but the catalog proofs decide.
    """
    from .ops import RenameColumn, RenameConstraint, RenameIndex, RenameSequence, RenameTable

    checks: list[Check] = []
    counts: list[TableCount] = []
    notes: list[str] = []
    fwd = direction == "forward"
    S = plan.schema  # every check names the plan's schema, never another one's table
    crud = None
    run_service = fwd and url and service is not None and service.configured
    if fwd and url and not run_service:
        notes.append("service checks skipped: the mapping's [service] names no target_schema")
    if run_service:
        # the CRUD check goes through the service's models on its own connection: it runs
        # while the counts and checksums below keep the server busy
        from concurrent.futures import ThreadPoolExecutor

        # imported here, before the thread starts: concurrent imports of one package can fail
        from . import prisma  # noqa: F401
        from .compat import service as _service

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runbook-crud")
        crud = pool.submit(_service.run_crud_check, url, service, S)
        pool.shutdown(wait=False)
    tables = {o.old: o.new for o in plan.ops if isinstance(o, RenameTable)}
    # column renames per table (by its new name): a column of that name in another table is not renamed
    cols_of: dict[str, dict[str, str]] = {}
    for o in plan.ops:
        if isinstance(o, RenameColumn):
            cols_of.setdefault(o.table_name, {})[o.old] = o.new
    names = {o.old: o.new for o in plan.ops if isinstance(o, (RenameConstraint, RenameIndex, RenameSequence))}
    if not fwd:
        tables, cols_of, names = {}, {}, {}

    def cols(table: str | None) -> dict[str, str]:
        """The column renames of a table, given its name before or after the plan."""
        return cols_of.get(tables.get(table, table), {}) if table else {}

    def expected(rec: dict) -> str:
        ref = _referenced_table(rec["def"]) if rec.get("type") == "f" else None
        return _expected_def(rec["def"], tables, cols(rec.get("table")), names,
                             cols(ref) if rec.get("type") == "f" else None)

    # 1. tables present under their expected names, old names gone
    for oid_s, t in base["tables"].items():
        want = t["new"] if fwd else t["old"]
        gone = t["old"] if fwd else t["new"]
        now = snap.table_by_oid(int(oid_s))
        checks.append(Check(f"table {want} exists", bool(now and now.name == want),
                            f"found {now.name!r}" if now else "table is missing"))
        if snap.table(S, gone) and gone != want:
            checks.append(Check(f"name {gone} is free", False, f"a table named {gone!r} still exists"))
        if now:
            same, detail = _storage_same(snap, oid_s, t)
            checks.append(Check(f"{want}: storage untouched (relfilenode)", same, detail))
    # 2. constraints and indexes: every one that existed exists, same definition
    for oid_s, c in base["constraints"].items():
        now = next((x for x in snap.constraints if x.oid == int(oid_s)), None)
        if now is None:  # re-created by hand with the same name and definition?
            want_name = names.get(c["name"], c["name"])
            now = next((x for x in snap.constraints if x.name == want_name and _in_schema(snap, x, S)
                        and x.definition == expected(c)), None)
        if now is None:
            want_name = names.get(c["name"], c["name"])
            was = f" (was {c['name']})" if want_name != c["name"] else ""
            checks.append(Check(f"constraint {want_name}", False, f"missing{was}"))
            continue
        want = expected(c)
        checks.append(Check(f"constraint {now.name}", now.definition == want,
                            "definition unchanged" if now.definition == want else f"{now.definition!r} != {want!r}"))
        if c["type"] == "f":
            checks.append(Check(f"foreign key {now.name} validated", now.validated, ""))
    for oid_s, i in base["indexes"].items():
        now = next((x for x in snap.indexes if x.oid == int(oid_s)), None)
        if now is None:
            want_name = names.get(i["name"], i["name"])
            checks.append(Check(f"index {want_name}", False, f"missing (was {i['name']})" if want_name != i["name"] else "missing"))
            continue
        want = expected(i)
        checks.append(Check(f"index {now.name}", now.definition == want and now.is_valid,
                            "definition unchanged" if now.definition == want else f"{now.definition!r} != {want!r}"))
    # 3. no object still carries an old name
    if fwd:
        for o in plan.ops:
            if isinstance(o, (RenameConstraint, RenameIndex, RenameSequence)):
                still = (any(x.name == o.old and _in_schema(snap, x, o.schema) for x in snap.constraints)
                         or f"{o.schema}.{o.old}" in snap.relation_names())
                if still:
                    checks.append(Check(f"old name {o.old} gone", False, "an object still carries it"))
        stale = list(dict.fromkeys(f.signature for o in plan.ops if isinstance(o, RenameTable)
                                   for f in snap.functions_naming(o.old, o.schema)))
        checks.append(Check("no function names an old table", not stale, ", ".join(stale)))
    checks.extend(_atomic_checks(conn, snap, base, set(tables) if fwd else
                                 {t["new"] for t in base["tables"].values() if t["new"] != t["old"]}))
    # 4. every step of the plan took effect (its own check), or was undone
    with conn.cursor() as cur:
        from .ops import PREPARE

        post = [o for o in plan.ops if o.phase != PREPARE] if fwd else []  # prepare steps name the old tables
        if post:
            cur.execute("SELECT " + ", ".join(f"({o.check()})" for o in post))
            for o, ok in zip(post, cur.fetchone()):
                checks.append(Check(f"step: {o.describe()}", bool(ok), ""))
        # 5. rows and checksums
        for oid_s, t in base["tables"].items():
            now = snap.table_by_oid(int(oid_s))
            if now is None:
                continue
            if t["checksum_raw"] is not None:
                orig_cols = [cols(t["new"]).get(c, c) if fwd else c for c in t["columns"]]
                n, (s,) = count_and_checksum(cur, now.schema, now.name, [row_expr(orig_cols)])
                before = t["checksum_expected"] if fwd else t["checksum_raw"]
                tc = TableCount(t["name"], now.name, t["rows"], n, before, s, "checksum")
            else:
                n, _ = count_and_checksum(cur, now.schema, now.name, [])
                proof = "catalog" if _storage_same(snap, oid_s, t)[0] else "count"
                tc = TableCount(t["name"], now.name, t["rows"], n, None, None, proof)
            counts.append(tc)
            if quiesced:
                checks.append(Check(f"{now.name}: rows and content", tc.ok,
                                    f"{tc.rows_before} -> {tc.rows_after} rows" +
                                    (f", checksum {'equal' if tc.checksum_before == tc.checksum_after else 'DIFFERS'}"
                                     if tc.method == "checksum" else f", proved by {tc.method}")))
        # 6. filled columns hold no NULL (forward)
        for t in base["tables"].values():
            for c in (t.get("fills") or {}) if fwd else {}:
                newc = cols(t["new"]).get(c, c)
                cur.execute(f"SELECT count(*) FROM {qq(S, t['new'])} "
                            f"WHERE {q(newc)} IS NULL")
                nulls = cur.fetchone()[0]
                checks.append(Check(f"{t['new']}.{newc} has no NULL", nulls == 0, f"{nulls} NULL rows"))
    if run_service:
        # the service's Prisma schema against the catalog: a NOT NULL column without
        # default that a model the service writes does not know is a blocker
        from .compat import write_blockers

        target = service.load_schema()
        checks.extend(write_blockers(conn, target, db_schema=S, written=service.written_models(target),
                                     snapshot=snap))
        ok, detail = crud.result()
        label = f"{service.name or 'the service'}: create/read/update/delete through its models"
        if ok is None:
            notes.append(f"{label}: not run ({detail})")
        else:
            checks.append(Check(label, ok, detail))
    return Verification(tuple(checks), tuple(counts), tuple(notes))
