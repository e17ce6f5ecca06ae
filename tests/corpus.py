"""The corpus: Prisma-managed databases runbook was not designed for (tests/data/corpus/).

Each folder holds ``schema.prisma`` (the project's models), ``prisma.sql`` (the DDL
Prisma Migrate generates for it, committed so the suite needs no Node; ``regenerate.sh``
rebuilds it), ``extras.sql`` (what the project adds by hand in later migrations: views,
trigger functions, RLS, partitions, grants) and optionally ``seed.sql``. Every table then
gets a few deterministic rows (:func:`seed`) that satisfy its foreign keys, unique
constraints and CHECKs.

    build(url, "tracker")     # creates the objects and the rows in an empty database
    names()                   # ["cms", "commerce", ...]
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg2
import psycopg2.extras

from runbook.naming import q, qq

ROOT = Path(__file__).parent / "data" / "corpus"
ROWS = 3  # rows per table: every foreign key of row i points at row i of its table


def names() -> list[str]:
    """The corpus schemas, sorted."""
    return sorted(p.name for p in ROOT.iterdir() if (p / "schema.prisma").is_file())


def folder(name: str) -> Path:
    p = ROOT / name
    if not (p / "schema.prisma").is_file():
        raise ValueError(f"no corpus schema named {name!r} (have: {', '.join(names())})")
    return p


def build(url: str, name: str, rows: int = ROWS) -> None:
    """Create corpus database ``name`` in the (empty) database at ``url``: Prisma's DDL,
    the hand-written extras, then the seed."""
    d = folder(name)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        # the role the extras grant to, as a real deployment has it (cluster-wide)
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = 'app_user'")
        if not cur.fetchone():
            try:
                cur.execute("CREATE ROLE app_user NOLOGIN")
            except psycopg2.errors.DuplicateObject:  # another session created it meanwhile
                pass
        for f in ("prisma.sql", "extras.sql"):
            sql = (d / f).read_text() if (d / f).is_file() else ""
            if sql.strip():
                cur.execute(sql)
        if (d / "seed.sql").is_file():
            cur.execute((d / "seed.sql").read_text())
        else:
            seed(conn, rows)
        cur.execute("ANALYZE")
    finally:
        conn.close()


# -- the seed ----------------------------------------------------------------------------

_TABLES = """
SELECT c.oid, n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'runbook') AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
"""

_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, t.typtype,
       a.attidentity <> '' OR a.attgenerated <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%', false),
       d.adbin IS NOT NULL, coalesce(et.typname, t.typname), t.typcategory, a.atttypid, a.atttypmod
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
"""

_FKS = """
SELECT con.conrelid, con.confrelid,
       ARRAY(SELECT attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute ON attrelid = con.conrelid AND attnum = k.n ORDER BY i),
       ARRAY(SELECT attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute ON attrelid = con.confrelid AND attnum = k.n ORDER BY i)
FROM pg_constraint con WHERE con.contype = 'f' AND con.conrelid = ANY(%s) AND con.conparentid = 0
"""


def _value(table: str, col: str, typ: str, base: str, cat: str, i: int, cur, typid: int):
    """A deterministic value of type ``typ`` for row ``i`` (unique per table and column)."""
    tag = f"{table}.{col}.{i}"
    if cat == "A":  # arrays: one element
        return [_value(table, col, base, base, "", i, cur, 0)] if base in ("text", "varchar") else []
    if cat == "E" or (typid and cur is not None and _is_enum(cur, typid)):
        cur.execute("SELECT enumlabel FROM pg_enum WHERE enumtypid = %s ORDER BY enumsortorder", (typid,))
        labels = [r[0] for r in cur.fetchall()]
        return labels[i % len(labels)]
    t = typ.lower()
    if t.startswith(("integer", "bigint", "smallint")):
        return i + 1
    if t.startswith(("numeric", "double", "real", "money")):
        return 10 * (i + 1)
    if t == "boolean":
        return i % 2 == 0
    if t == "uuid":
        return str(uuid.UUID(hashlib.md5(tag.encode()).hexdigest()))
    if t.startswith("timestamp"):
        return datetime(2026, 1, 5, 9, 30) + timedelta(days=i, minutes=7 * i)
    if t == "date":
        return date(2026, 1, 5) + timedelta(days=i)
    if t.startswith("time"):
        return f"{9 + i:02d}:00"
    if t in ("json", "jsonb"):
        return psycopg2.extras.Json({"seed": i})
    if t == "bytea":
        return psycopg2.Binary(tag.encode())
    if t == "inet" or t == "cidr":
        return f"10.0.0.{i + 1}"
    if t == "tsvector":
        return f"seed{i}"
    if t.startswith("interval"):
        return f"{i + 1} hours"
    if t.startswith(("character varying(", "character(", "varchar(")):
        n = int(t.split("(")[1].rstrip(")"))
        s = f"{col[:max(1, n - 3)]}{i}"
        return s[-n:] if len(s) > n else s
    return f"{col} {i + 1}"


_enum_cache: dict[int, bool] = {}


def _is_enum(cur, typid: int) -> bool:
    if typid not in _enum_cache:
        cur.execute("SELECT typtype = 'e' FROM pg_type WHERE oid = %s", (typid,))
        _enum_cache[typid] = cur.fetchone()[0]
    return _enum_cache[typid]


def seed(conn, rows: int = ROWS) -> dict[str, int]:
    """Insert ``rows`` deterministic rows into every table of the database (views,
    partitions and extension tables excluded), parents before children. Row ``i`` of a
    table points at row ``i`` of each table it references, so one-to-one and composite
    keys stay unique; self-references and foreign keys that close a cycle stay NULL.
    Returns the rows inserted per table."""

    cur = conn.cursor()
    cur.execute(_TABLES)
    tables = {oid: (s, t) for oid, s, t in cur.fetchall()}
    cur.execute(_FKS, (list(tables),))
    fks = [(a, b, list(ca), list(cb)) for a, b, ca, cb in cur.fetchall() if b in tables]
    cols = {}
    for oid in tables:
        cur.execute(_COLUMNS, (oid,))
        cols[oid] = cur.fetchall()
    notnull = {oid: {c[0] for c in cols[oid] if c[2]} for oid in tables}

    # parents first; an edge whose columns may be NULL is dropped to break a cycle
    deps = {oid: {b for a, b, _, _ in fks if a == oid and b != oid} for oid in tables}
    order, done = [], set()
    while len(order) < len(tables):
        ready = [o for o in sorted(tables, key=lambda o: tables[o]) if o not in done and deps[o] <= done]
        if not ready:
            # a cycle: the blocked tables whose NOT NULL parents are all seeded give up
            # their nullable foreign keys to unseeded tables (those stay NULL)
            left = [o for o in sorted(tables, key=lambda o: tables[o]) if o not in done]
            hard = {o: {b for a, b, ca, _ in fks if a == o and b != o and b not in done and set(ca) & notnull[o]}
                    for o in left}
            free = [o for o in left if not hard[o]]
            if not free:
                raise RuntimeError(f"seed: a cycle of NOT NULL foreign keys through {qq(*tables[left[0]])}")

            def reaches(start, goal):  # through unseeded tables
                stack, seen_ = [start], set()
                while stack:
                    x = stack.pop()
                    if x == goal:
                        return True
                    if x not in seen_:
                        seen_.add(x)
                        stack.extend(b for b in deps[x] if b not in done)
                return False

            # drop only the edges that close a cycle, of the first table on one
            for o in free:
                cyclic = {b for b in deps[o] if b not in done and reaches(b, o)}
                if cyclic:
                    deps[o] -= cyclic
                    break
            else:
                raise RuntimeError("seed: cannot order the tables")
            continue
        for o in ready:
            order.append(o)
            done.add(o)

    inserted: dict[str, int] = {}
    seen: set[int] = set()
    for oid in order:
        schema, table = tables[oid]
        rels = [(b, ca, cb) for a, b, ca, cb in fks if a == oid and b != oid and b in seen]
        # the referenced rows, in a stable order
        targets = {}
        for b, ca, cb in rels:
            cur.execute(f"SELECT {', '.join(q(c) for c in cb)} FROM {qq(*tables[b])} ORDER BY 1")
            targets[(b, tuple(ca))] = cur.fetchall()
        for i in range(rows):
            names, values = [], []
            fixed: dict[str, object] = {}
            nth: dict[int, int] = {}
            for (b, ca), refrows in targets.items():
                k = nth[b] = nth.get(b, -1) + 1  # the k-th key to the same table: row i + k
                if refrows:
                    for c, v in zip(ca, refrows[(i + k) % len(refrows)]):
                        fixed[c] = v
            fk_cols = {c for a, b, ca, _ in fks if a == oid for c in ca}
            for (col, typ, nn, typtype, generated, has_default, base, cat, typid, _mod) in cols[oid]:
                if generated:
                    continue
                if col in fixed:
                    v = fixed[col]
                elif col in fk_cols:
                    v = None  # self-reference or a cycle: no parent
                    if nn:
                        raise RuntimeError(f"seed: {qq(schema, table)}.{q(col)} references a table not seeded yet")
                else:
                    v = _value(table, col, typ, base, cat, i, cur, typid)
                names.append(q(col))
                values.append(v)
            cur.execute(f"INSERT INTO {qq(schema, table)} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(values))})",
                        values)
        seen.add(oid)
        inserted[f"{schema}.{table}"] = rows
    return inserted


# -- the end-to-end sequence -------------------------------------------------------------

def checksums(url: str, audit_table: str | None = None) -> dict[str, tuple]:
    """Every table's row count and row checksum, keyed by its *current* name, in every
    schema but runbook's. The audit table (which runbook appends to) gives the multiset
    of its rows' hashes instead, so that "before" can be checked as contained in "after"."""
    conn = psycopg2.connect(url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'runbook') "
                    "AND n.nspname NOT LIKE 'pg\\_%' "
                    "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') ORDER BY 1, 2")
        out = {}
        for s, t in cur.fetchall():
            if audit_table and t == audit_table:
                cur.execute(f"SELECT hashtextextended(x::text, 0) FROM {qq(s, t)} x ORDER BY 1")
                out[f"{s}.{t}"] = ("audit", tuple(r[0] for r in cur.fetchall()))
                continue
            cur.execute(f"SELECT count(*), coalesce(sum(hashtextextended(x::text, 0)), 0)::text FROM {qq(s, t)} x")
            out[f"{s}.{t}"] = cur.fetchone()
        return out
    finally:
        conn.close()


def same_rows(before: dict, after: dict) -> list[str]:
    """The tables whose rows differ (the audit table: an original row is missing)."""
    diff = sorted(set(before) ^ set(after))
    for k in sorted(set(before) & set(after)):
        b, a = before[k], after[k]
        if b and b[0] == "audit":
            from collections import Counter
            if Counter(b[1]) - Counter(a[1]):
                diff.append(k)
        elif b != a:
            diff.append(k)
    return diff


def drift_statements(text: str) -> list[str]:
    """The SQL statements of a drift.sh output (its ``--`` lines are comments)."""
    body = "\n".join(l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def toolkit() -> Path | None:
    """The installed Prisma toolkit (``RUNBOOK_PRISMA_TOOLKIT``), or None."""
    import os

    p = os.environ.get("RUNBOOK_PRISMA_TOOLKIT")
    if not p:
        return None
    p = Path(p)
    if not (p / "drift.sh").is_file() or not (p / "node_modules").is_dir():
        raise RuntimeError(f"RUNBOOK_PRISMA_TOOLKIT={p} is not an installed toolkit (drift.sh, node_modules/)")
    return p


class StepFailed(Exception):
    def __init__(self, step: str, message: str):
        super().__init__(f"{step}: {message}")
        self.step, self.message = step, message


def _last_line(text: str) -> str:
    lines = [l for l in (text or "").strip().splitlines() if l.strip()]
    return lines[-1] if lines else ""


def run_sequence(url: str, name: str, work: Path, tk: Path | None, record: dict) -> dict:
    """mapping init -> migrate -> verify -> Prisma drift -> rollback -> "exactly as before",
    on the corpus database ``name`` already built at ``url``. Fills ``record`` as it goes
    (steps, seconds per command, tables renamed, operations, lock window, drift statements)
    and raises :class:`StepFailed` at the first failing step."""
    import json
    import os
    import subprocess
    import sys
    import time
    import tomllib

    from snapshots import schema_dump

    d = folder(name)
    runbook = [str(Path(sys.executable).with_name("runbook"))]
    env = dict(os.environ, NO_COLOR="1")
    env.pop("DATABASE_URL", None)
    record.update(schema=name, steps=[], seconds={}, failed_step=None, message=None)

    def run(step: str, args: list[str], ok=(0,)) -> subprocess.CompletedProcess:
        t0 = time.monotonic()
        p = subprocess.run(args, capture_output=True, text=True, env=env, cwd=work)
        record["seconds"][step] = round(time.monotonic() - t0, 3)
        record["steps"].append(step)
        if p.returncode not in ok:
            msg = _last_line(p.stderr) or _last_line(p.stdout)
            raise StepFailed(step, f"exit {p.returncode}: {msg}")
        return p

    mapping, target = work / "mapping.toml", work / "target.prisma"
    before_dump = schema_dump(url)
    before_rows = None

    run("mapping init", runbook + ["mapping", "init", "--database-url", url, "--convention", "snake_case_plural",
                                   "--prisma-schema", str(d / "schema.prisma"), "--out", str(mapping),
                                   "--target-schema-out", str(target)])
    m = tomllib.loads(mapping.read_text())
    record["tables_renamed"] = len(m.get("tables", []))
    audit = m.get("audit_table", "AuditLog")
    before_rows = checksums(url, audit)
    common = ["--database-url", url, "--mapping", str(mapping)]

    p = run("migrate", runbook + ["migrate", *common, "--backup-dir", str(work / "backups"),
                                  "--log-dir", str(work / "logs"), "--json", "--no-progress"])
    try:
        s = json.loads(p.stdout)
    except ValueError:
        raise StepFailed("migrate", "no JSON summary") from None
    record["operations"] = s.get("operations")
    record["lock_window_ms"] = round(1000 * (s.get("lock_window_s") or 0), 1)
    record["attempts"] = s.get("attempts")
    if s.get("status") != "migrated":
        raise StepFailed("migrate", f"status {s.get('status')!r}: {s.get('message') or ''}")

    run("verify", runbook + ["verify", *common])

    if tk is not None:
        t0 = time.monotonic()
        p = subprocess.run([str(tk / "drift.sh"), url, str(target)], capture_output=True, text=True)
        record["seconds"]["drift"] = round(time.monotonic() - t0, 3)
        record["steps"].append("drift")
        stmts = drift_statements(p.stdout)
        record["drift_statements"] = len(stmts)
        record["drift"] = stmts[:20]
        if p.returncode != 0 or stmts:
            first = stmts[0].splitlines()[0] if stmts else _last_line(p.stderr)
            raise StepFailed("drift", f"exit {p.returncode}, {len(stmts)} statements; first: {first}")
    else:
        record["drift_statements"] = None

    run("rollback", runbook + ["rollback", *common, "--drop-added-columns", "--backup-dir", str(work / "backups"),
                               "--log-dir", str(work / "logs"), "--no-progress"])

    t0 = time.monotonic()
    after_dump = schema_dump(url)
    differ = same_rows(before_rows, checksums(url, audit))
    record["seconds"]["compare"] = round(time.monotonic() - t0, 3)
    record["steps"].append("compare")
    if after_dump != before_dump:
        import difflib

        delta = [l for l in difflib.unified_diff(before_dump.splitlines(), after_dump.splitlines(), lineterm="", n=0)
                 if l[:1] in "+-" and not l.startswith(("+++", "---"))]
        record["dump_diff"] = delta[:40]
        raise StepFailed("compare", f"pg_dump --schema-only differs after rollback ({len(delta)} lines), first: {delta[0] if delta else ''}")
    if differ:
        raise StepFailed("compare", f"rows differ after rollback in {len(differ)} tables: {', '.join(differ[:5])}")
    return record


def report_table(records: list[dict]) -> str:
    """A markdown table of the figures of each schema's run."""
    cols = ["schema", "tables", "renamed", "ops", "lock ms", "drift", "init s", "migrate s", "verify s",
            "drift s", "rollback s", "result"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in records:
        sec = r.get("seconds", {})
        f = lambda k: "" if sec.get(k) is None else f"{sec[k]:.2f}"
        msg = r.get("message") or ""
        msg = msg if len(msg) <= 200 else msg[:197] + "..."
        res = "pass" if not r.get("failed_step") else f"FAIL at {r['failed_step']}: {msg}"
        if r.get("skipped"):
            res = f"pass, {r['skipped']}"
        vals = [r.get("schema"), r.get("tables", ""), r.get("tables_renamed", ""), r.get("operations", ""),
                r.get("lock_window_ms", ""), "" if r.get("drift_statements") is None else r["drift_statements"],
                f("mapping init"), f("migrate"), f("verify"), f("drift"), f("rollback"), res.replace("|", "\\|")]
        lines.append("| " + " | ".join("" if v is None else str(v) for v in vals) + " |")
    return "\n".join(lines)


def row_counts(url: str) -> dict[str, int]:
    """Rows per table (partitioned tables counted as a whole, partitions not listed)."""
    conn = psycopg2.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(_TABLES)
        out = {}
        for _, s, t in cur.fetchall():
            cur.execute(f"SELECT count(*) FROM {qq(s, t)}")
            out[f"{s}.{t}"] = cur.fetchone()[0]
        return out
    finally:
        conn.close()


def table_count(url: str) -> int:
    conn = psycopg2.connect(url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
                    "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'runbook')")
        return cur.fetchone()[0]
    finally:
        conn.close()
