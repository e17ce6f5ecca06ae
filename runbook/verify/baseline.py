"""The baseline a verification compares with, recorded before the plan runs: per plan
table its OID, relfilenode (and its partitions'), row count and checksums, the
definitions of its constraints and indexes by OID, and the SQL-standard function bodies
(``BEGIN ATOMIC``) that depend on it."""

from __future__ import annotations

from ..catalog.inspect import Snapshot
from ..naming import qq
from .checksums import count_and_checksum, count_and_checksums


def baseline(conn, snap: Snapshot, plan, mapping, *, checksums: str = "auto", progress=None) -> dict:
    """What the verification compares with: per plan table its OID, relfilenode, row
    count and checksums (raw, and as it must read after the data steps), and the
    definitions of its constraints and indexes by OID."""
    from ..ops import FillNulls

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
            if want:  # each row hashed once (the rows to fill twice)
                n, *sums = count_and_checksums(cur, t.schema, t.name, cols, fills)
            else:
                n, sums = count_and_checksum(cur, t.schema, t.name, [])
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


def storage_pairs(oid: int | str, base_table: dict) -> list[tuple[int, int]]:
    """(oid, relfilenode) of the storage a baseline table's rows live in: the table
    itself, or for a partitioned table (relfilenode 0) its leaf partitions, and for an
    inheritance parent its children too. A baseline recorded before runbook knew
    partitions has only the table's own."""
    storage = base_table.get("storage")
    if storage is None:
        return [(int(oid), int(base_table["relfilenode"]))]
    return [(int(o), int(f)) for o, f in storage.items()]
