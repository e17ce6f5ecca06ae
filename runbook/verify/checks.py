"""The checks of spec 9.1: the database now against the baseline taken before the plan.

Each check is one small function below that returns :class:`runbook.checks.Check`
rows of one explicit :class:`runbook.checks.Kind`; :func:`verify_state` runs them in
order. A table whose ``relfilenode`` is unchanged and that no data step touched is
proved untouched by the catalog; it is counted but not checksummed unless asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..catalog.inspect import Snapshot
from ..checks import Check, Kind
from ..naming import q, qq
from ..rewrite import rewrite_source
from .baseline import atomic_functions, storage_pairs
from .checksums import count_and_checksum, row_expr
from .result import TableCount, Verification


def _in_schema(snap: Snapshot, con, schema: str) -> bool:
    """Is the constraint on a table of ``schema`` (constraint names are per table)?"""
    t = snap.table_by_oid(con.table_oid)
    return t is not None and t.schema == schema


def _atomic_checks(conn, snap: Snapshot, base: dict, gone: set[str]) -> list[Check]:
    """Each BEGIN ATOMIC body that depends on a plan table reads without an old name,
    and where it ran before the plan, it runs after it."""
    from ..sqlbody import BodyError, atomic_table_refs

    if "atomic" not in base:  # a baseline recorded before this check existed
        return []
    now = atomic_functions(conn, [o for o in base["tables"]])
    checks = []
    for oid_s in sorted(set(base["atomic"]) | set(now), key=int):
        was, cur = base["atomic"].get(oid_s), now.get(oid_s)
        sig = (cur or was)["signature"]
        label = f"function {sig} (BEGIN ATOMIC) still runs"
        if cur is None:
            checks.append(Check(label, False, "it no longer depends on the tables: dropped or replaced",
                                kind=Kind.FUNCTION))
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
        checks.append(Check(label, problem is None, problem or detail, kind=Kind.FUNCTION))
    return checks


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
    from ..rewrite import UnsafeRewrite

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


@dataclass
class _Renames:
    """The plan's renames as the checks need them (all empty when checking the way back)."""

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # by the table's new name
    names: dict[str, str] = field(default_factory=dict)  # constraints, indexes, sequences

    @classmethod
    def of(cls, plan) -> "_Renames":
        from ..ops import RenameColumn, RenameConstraint, RenameIndex, RenameSequence, RenameTable

        r = cls({o.old: o.new for o in plan.ops if isinstance(o, RenameTable)})
        # column renames per table: a column of that name in another table is not renamed
        for o in plan.ops:
            if isinstance(o, RenameColumn):
                r.columns.setdefault(o.table_name, {})[o.old] = o.new
        r.names = {o.old: o.new for o in plan.ops if isinstance(o, (RenameConstraint, RenameIndex, RenameSequence))}
        return r

    def cols(self, table: str | None) -> dict[str, str]:
        """The column renames of a table, given its name before or after the plan."""
        return self.columns.get(self.tables.get(table, table), {}) if table else {}

    def expected(self, rec: dict) -> str:
        """A baseline constraint's or index's definition as it must read now."""
        fk = rec.get("type") == "f"
        ref = _referenced_table(rec["def"]) if fk else None
        return _expected_def(rec["def"], self.tables, self.cols(rec.get("table")), self.names,
                             self.cols(ref) if fk else None)


def _table_checks(snap: Snapshot, base: dict, S: str, fwd: bool) -> list[Check]:
    """1. Tables present under their expected names, old names gone, storage untouched."""
    checks = []
    for oid_s, t in base["tables"].items():
        want = t["new"] if fwd else t["old"]
        gone = t["old"] if fwd else t["new"]
        now = snap.table_by_oid(int(oid_s))
        checks.append(Check(f"table {want} exists", bool(now and now.name == want),
                            f"found {now.name!r}" if now else "table is missing", kind=Kind.TABLE))
        if snap.table(S, gone) and gone != want:
            checks.append(Check(f"name {gone} is free", False, f"a table named {gone!r} still exists", kind=Kind.TABLE))
        if now:
            same, detail = _storage_same(snap, oid_s, t)
            checks.append(Check(f"{want}: storage untouched (relfilenode)", same, detail, kind=Kind.STORAGE))
    return checks


def _constraint_checks(snap: Snapshot, base: dict, S: str, r: _Renames) -> list[Check]:
    """2a. Every constraint that existed exists, with the definition the plan gives it."""
    checks = []
    for oid_s, c in base["constraints"].items():
        want_name = r.names.get(c["name"], c["name"])
        now = next((x for x in snap.constraints if x.oid == int(oid_s)), None)
        if now is None:  # re-created by hand with the same name and definition?
            now = next((x for x in snap.constraints if x.name == want_name and _in_schema(snap, x, S)
                        and x.definition == r.expected(c)), None)
        if now is None:
            was = f" (was {c['name']})" if want_name != c["name"] else ""
            checks.append(Check(f"constraint {want_name}", False, f"missing{was}", kind=Kind.CONSTRAINT))
            continue
        want = r.expected(c)
        checks.append(Check(f"constraint {now.name}", now.definition == want,
                            "definition unchanged" if now.definition == want else f"{now.definition!r} != {want!r}",
                            kind=Kind.CONSTRAINT))
        if c["type"] == "f":
            checks.append(Check(f"foreign key {now.name} validated", now.validated, "", kind=Kind.CONSTRAINT))
    return checks


def _index_checks(snap: Snapshot, base: dict, r: _Renames) -> list[Check]:
    """2b. Every index that existed exists, valid, with the definition the plan gives it."""
    checks = []
    for oid_s, i in base["indexes"].items():
        now = next((x for x in snap.indexes if x.oid == int(oid_s)), None)
        if now is None:
            want_name = r.names.get(i["name"], i["name"])
            checks.append(Check(f"index {want_name}", False,
                                f"missing (was {i['name']})" if want_name != i["name"] else "missing", kind=Kind.INDEX))
            continue
        want = r.expected(i)
        checks.append(Check(f"index {now.name}", now.definition == want and now.is_valid,
                            "definition unchanged" if now.definition == want else f"{now.definition!r} != {want!r}",
                            kind=Kind.INDEX))
    return checks


def _old_name_checks(snap: Snapshot, plan) -> list[Check]:
    """3. No object still carries an old name, and no function body names an old table (forward)."""
    from ..ops import RenameConstraint, RenameIndex, RenameSequence, RenameTable

    checks = []
    for o in plan.ops:
        if isinstance(o, (RenameConstraint, RenameIndex, RenameSequence)):
            still = (any(x.name == o.old and _in_schema(snap, x, o.schema) for x in snap.constraints)
                     or f"{o.schema}.{o.old}" in snap.relation_names())
            if still:
                checks.append(Check(f"old name {o.old} gone", False, "an object still carries it", kind=Kind.OLD_NAME))
    stale = list(dict.fromkeys(f.signature for o in plan.ops if isinstance(o, RenameTable)
                               for f in snap.functions_naming(o.old, o.schema)))
    checks.append(Check("no function names an old table", not stale, ", ".join(stale), kind=Kind.FUNCTION))
    return checks


def _step_checks(cur, plan) -> list[Check]:
    """4. Every step after the prepare phase took effect: its own check, all in one query."""
    from ..ops import PREPARE, end_checks

    post = [o for o in plan.ops if o.phase != PREPARE]  # prepare steps name the old tables
    if not post:
        return []
    # (a table's old name held by the plan's compat view is checked as such: end_checks)
    cur.execute("SELECT " + ", ".join(f"({c})" for c in end_checks(post)))
    return [Check(f"step: {o.describe()}", bool(ok), "", kind=Kind.STEP) for o, ok in zip(post, cur.fetchone())]


def _row_checks(cur, snap: Snapshot, base: dict, r: _Renames, fwd: bool, quiesced: bool,
                counts: list[TableCount]) -> list[Check]:
    """5. Row counts and checksums per table (appended to ``counts``); with ``quiesced``
    (no other writers), one that differs is a failure."""
    checks = []
    for oid_s, t in base["tables"].items():
        now = snap.table_by_oid(int(oid_s))
        if now is None:
            continue
        if t["checksum_raw"] is not None:
            orig_cols = [r.cols(t["new"]).get(c, c) if fwd else c for c in t["columns"]]
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
                                 if tc.method == "checksum" else f", proved by {tc.method}"), kind=Kind.ROWS))
    return checks


def _fill_checks(cur, base: dict, S: str, r: _Renames) -> list[Check]:
    """6. The columns the plan filled hold no NULL (forward)."""
    checks = []
    for t in base["tables"].values():
        for c in t.get("fills") or {}:
            newc = r.cols(t["new"]).get(c, c)
            cur.execute(f"SELECT count(*) FROM {qq(S, t['new'])} WHERE {q(newc)} IS NULL")
            nulls = cur.fetchone()[0]
            checks.append(Check(f"{t['new']}.{newc} has no NULL", nulls == 0, f"{nulls} NULL rows", kind=Kind.FILLED))
    return checks


def _start_crud(url: str, service, S: str):
    """The CRUD check through the service's models, on its own connection in a thread:
    it runs while the counts and checksums keep the server busy."""
    from concurrent.futures import ThreadPoolExecutor

    # imported here, before the thread starts: concurrent imports of one package can fail
    from .. import prisma  # noqa: F401
    from ..compat import service as _service

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runbook-crud")
    crud = pool.submit(_service.run_crud_check, url, service, S)
    pool.shutdown(wait=False)
    return crud


def _service_checks(conn, snap: Snapshot, S: str, service, crud, notes: list[str]) -> list[Check]:
    """7. The service's Prisma schema against the catalog (a NOT NULL column without
    default that a model the service writes does not know is a blocker), then the CRUD
    round trip started by :func:`_start_crud`."""
    from ..compat import write_blockers

    target = service.load_schema()
    checks = list(write_blockers(conn, target, db_schema=S, written=service.written_models(target), snapshot=snap))
    ok, detail = crud.result()
    label = f"{service.name or 'the service'}: create/read/update/delete through its models"
    if ok is None:
        notes.append(f"{label}: not run ({detail})")
    else:
        checks.append(Check(label, ok, detail, kind=Kind.SERVICE))
    return checks


def verify_state(conn, snap: Snapshot, plan, base: dict, *, quiesced: bool = True, direction: str = "forward",
                 url: str | None = None, service=None) -> Verification:
    """Compare the database now (``snap``) with the baseline taken before the plan ran.

    ``direction='forward'`` expects the plan's end state; ``'back'`` the original.
    ``service`` (a :class:`runbook.mapping.ServiceSpec`) with ``url``: the service's
    Prisma models are checked against the catalog and used for a CRUD round trip.
    With ``quiesced`` (no other writers), a row count or checksum that differs is a
    failure; otherwise it is reported but the catalog proofs decide.
    """
    counts: list[TableCount] = []
    notes: list[str] = []
    fwd = direction == "forward"
    S = plan.schema  # every check names the plan's schema, never another one's table
    run_service = bool(fwd and url and service is not None and service.configured)
    if fwd and url and not run_service:
        notes.append("service checks skipped: the mapping's [service] names no target_schema")
    crud = _start_crud(url, service, S) if run_service else None
    r = _Renames.of(plan) if fwd else _Renames()
    checks = _table_checks(snap, base, S, fwd)
    checks += _constraint_checks(snap, base, S, r)
    checks += _index_checks(snap, base, r)
    if fwd:
        checks += _old_name_checks(snap, plan)
    gone = set(r.tables) if fwd else {t["new"] for t in base["tables"].values() if t["new"] != t["old"]}
    checks += _atomic_checks(conn, snap, base, gone)
    with conn.cursor() as cur:
        if fwd:
            checks += _step_checks(cur, plan)
        checks += _row_checks(cur, snap, base, r, fwd, quiesced, counts)
        if fwd:
            checks += _fill_checks(cur, base, S, r)
    if run_service:
        checks += _service_checks(conn, snap, S, service, crud, notes)
    return Verification(tuple(checks), tuple(counts), tuple(notes))
