"""The public API: what the command line and the notebooks call."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .catalog.inspect import Snapshot, inspect
from .connection import connect, redact, resolve_url
from .errors import WrongState
from .estimate import LockEstimate, calibrate
from .findings import Note
from .execute import Options, Runner, RunResult
from .mapping import Mapping, as_mapping, load_mapping
from .naming import is_pascal_case, is_snake_case, q, qq
from .plan import Blocker, Plan, build_plan
from .status import Status, status  # noqa: F401  (the API: runbook status)
from .verify import Verification, baseline, verify_state


@dataclass(frozen=True)
class TableInfo:
    old: str
    new: str
    state: str
    rows: int | None
    total_bytes: int | None
    owner: str | None
    fks_in: int
    fks_out: int
    indexes: int
    sequences: int
    views: int
    triggers: int
    policies: int


@dataclass(frozen=True)
class ForeignKeyInfo:
    table: str
    constraint: str
    references: str
    on_delete: str
    definition: str


@dataclass(frozen=True)
class AtRisk:
    kind: str  # function | view | trigger | policy
    name: str
    table: str
    follows_rename: bool
    action: str
    code: str = ""  # its finding code (runbook.findings)


@dataclass(frozen=True)
class Dependency:
    """One object that depends on a table of the plan, and what the plan does with it."""

    table: str
    kind: str  # foreign key in | foreign key out | index | constraint | sequence | view | trigger | policy | function
    name: str
    definition: str
    follows_rename: bool
    action: str


@dataclass(frozen=True)
class Conflict:
    object: str
    kind: str
    reason: str
    code: str = ""


@dataclass(frozen=True)
class Blocking:
    pid: int
    application: str
    state: str
    xact_age_s: float
    tables: tuple[str, ...]
    code: str = ""  # RB401: holds a lock on a table of the plan; RB402: a long transaction


@dataclass(frozen=True)
class Reported:
    """One coded finding of an analysis, whatever it came from (:attr:`Analysis.findings`)."""

    code: str
    severity: str  # blocker: stops the run | warning | info
    title: str
    object: str
    detail: str


@dataclass(frozen=True)
class Analysis:
    """Spec 2.1: everything a reviewer needs before anything runs."""

    database: str  # redacted URL
    server_version: str
    current_user: str
    pascal_case_tables: tuple[str, ...]
    snake_case_tables: tuple[str, ...]
    tables: tuple[TableInfo, ...]
    foreign_keys: tuple[ForeignKeyInfo, ...]
    at_risk: tuple[AtRisk, ...]
    conflicts: tuple[Conflict, ...]
    blocking: tuple[Blocking, ...]
    owns_tables: bool
    free_disk_bytes: int | None
    database_bytes: int
    estimated_downtime_s: float
    estimated_backup_s: float
    plan: Plan
    notes: tuple[str, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    #: the service's Prisma schema (the mapping's [service]) against the database as the plan will leave it:
    #: rows of model, column, severity, problem, consequence, fix (spec 3.1)
    service_findings: tuple[dict, ...] = ()
    service_notes: tuple[str, ...] = ()
    service_name: str | None = None  # the mapping's [service] name; None: no service configured
    #: why pg_dump of the database would fail for this role (the backup cannot be taken)
    dump_problems: tuple[str, ...] = ()
    #: the lock window's estimate as a range, calibrated on the server (runbook.estimate);
    #: ``estimated_downtime_s`` is its middle
    lock_estimate: LockEstimate | None = None

    @property
    def fingerprint(self) -> str:
        return self.plan.fingerprint

    @property
    def findings(self) -> tuple[Reported, ...]:
        """Everything the analysis found, each once, with its code and the severity it has
        here: ``blocker`` (stops the run), ``warning``, ``info``."""
        from .findings import lookup

        def one(code: str, obj: str, detail: str, severity: str | None = None) -> Reported:
            c = lookup(code)
            return Reported(c.code, severity or c.severity, c.title, obj, detail)

        out = [one(b.code, b.object, b.reason) for b in self.plan.blockers]
        out += [one(p.code, "pg_dump", str(p)) for p in self.dump_problems]
        if not self.owns_tables:
            out.append(one("RB404", self.current_user, "the role does not own every table of the plan"))
        out += [one(b.code, f"pid {b.pid}", f"{b.state}; transaction open {b.xact_age_s:,.0f}s") for b in self.blocking]
        stops = {(b.code, b.object) for b in self.plan.blockers}  # an unsafe function is listed once
        out += [one(r.code, r.name, r.action) for r in self.at_risk if (r.code, r.name) not in stops]
        out += [one(n.code, "plan", str(n)) for n in self.plan.notes]
        out += [one(r["code"], f"{r['model']}.{r['column']}", r["problem"], r["severity"].split()[0])
                for r in self.service_findings]
        out += [one(n.code, "service", str(n)) for n in self.service_notes]
        return tuple(out)

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "plan"}
        d["plan"] = {"fingerprint": self.plan.fingerprint, "operations": self.plan.as_rows(),
                     "blockers": [asdict(b) for b in self.plan.blockers], "notes": list(self.plan.notes)}
        d["findings"] = [asdict(f) for f in self.findings]
        return d


def analyze(url: str | None = None, mapping=None, *, backup_dir: str = "outputs/backups") -> Analysis:
    """Read the database and build the plan, changing nothing."""
    from .execute.backup import dump_problems, free_bytes

    url = resolve_url(url)
    m = as_mapping(mapping)
    conn = connect(url, application_name="runbook-analyze", autocommit=True)
    try:
        snap = inspect(conn)
        plan = build_plan(snap, m, strict=False)
        rows: dict[int, int] = {}
        with conn.cursor() as cur:
            for st in plan.tables:
                if st.oid:
                    t = snap.table_by_oid(st.oid)
                    cur.execute(f"SELECT count(*) FROM {qq(t.schema, t.name)}")
                    rows[st.oid] = cur.fetchone()[0]
            conflicts = []
            for st in plan.tables:
                tgt = snap.table(m.schema, st.new) if st.state == "conflict" else None
                if tgt:  # (a name taken by another relation: the plan's blocker says which)
                    cur.execute(f"SELECT count(*) FROM {qq(tgt.schema, tgt.name)}")
                    n = cur.fetchone()[0]
                    conflicts.append(Conflict(f"{m.schema}.{st.new}", "target exists",
                                              f"{st.new!r} already exists ({'empty' if n == 0 else f'{n} rows'})",
                                              "RB103"))
        unreadable = tuple(Note(p, "RB403") for p in dump_problems(conn))
        lock_estimate = calibrate(conn, plan)  # a probe on scratch tables, rolled back
    finally:
        conn.close()
    for b in plan.blockers:
        if b.kind != "conflict" or not any(c.object == b.object for c in conflicts):
            conflicts.append(Conflict(b.object, b.kind, b.reason, b.code))
    tables = []
    fks = []
    risk = []
    plan_oids = {st.oid for st in plan.tables if st.oid}
    for st in plan.tables:
        t = snap.table_by_oid(st.oid) if st.oid else None
        if t is None:
            tables.append(TableInfo(st.old, st.new, st.state, None, None, None, 0, 0, 0, 0, 0, 0, 0))
            continue
        fin = snap.foreign_keys_in(t.oid)
        fout = [c for c in snap.constraints_of(t.oid) if c.type == "f"]
        tables.append(TableInfo(st.old, st.new, st.state, rows.get(t.oid), t.total_bytes, t.owner, len(fin),
                                len(fout), len(snap.indexes_of(t.oid)), len(snap.sequences_of(t.oid)),
                                len(snap.views_on(t.oid)), len(snap.triggers_on(t.oid)), len(snap.policies_on(t.oid))))
        for c in fin:
            src = snap.table_by_oid(c.table_oid)
            od = "CASCADE" if "ON DELETE CASCADE" in c.definition else "SET NULL" if "ON DELETE SET NULL" in c.definition \
                else "RESTRICT" if "ON DELETE RESTRICT" in c.definition else "NO ACTION"
            fks.append(ForeignKeyInfo(src.name if src else str(c.table_oid), c.name, t.name, od, c.definition))
        for v in snap.views_on(t.oid):
            risk.append(AtRisk("view", f"{v.schema}.{v.name}", t.name, True, "none: follows the rename (by OID)",
                               "RB203"))
        for tr in snap.triggers_on(t.oid):
            fn = next((f for f in snap.functions if f.oid == tr.function_oid), None)
            risk.append(AtRisk("trigger", tr.name, t.name, True,
                               f"none itself; calls {fn.signature if fn else tr.function_oid}", "RB203"))
        for p in snap.policies_on(t.oid):
            risk.append(AtRisk("policy", p.name, t.name, True, "none: follows the rename (by OID)", "RB203"))
    risk += _function_risks(snap, plan)
    blocking = []
    for a in snap.activity:
        hit = [snap.table_by_oid(o).name for o in a.locked_oids if o in plan_oids and snap.table_by_oid(o)]
        if hit or a.xact_age_s > 60:
            blocking.append(Blocking(a.pid, a.application, a.state, a.xact_age_s, tuple(hit),
                                     "RB401" if hit else "RB402"))
    owns = all(snap.is_superuser or (snap.table_by_oid(o).owner in snap.member_of) for o in plan_oids)
    try:
        free = free_bytes(Path(backup_dir))
    except OSError:
        free = None
    total = sum(t.total_bytes or 0 for t in tables)
    # Downtime = the lock window: catalog-only steps sent in one batch, flat in the data
    # size, its cost calibrated on this server (runbook.estimate; `migrate --rehearse`
    # measures the plan itself); the backup (about 350 MB/s for pg_dump here) runs before
    # it, online.
    est_backup = snap.database_bytes / (350 * 2**20)
    pascal = tuple(sorted(t.name for t in snap.tables if t.schema == m.schema and is_pascal_case(t.name)))
    snake = tuple(sorted(t.name for t in snap.tables if t.schema == m.schema and is_snake_case(t.name)))
    return Analysis(redact(url), snap.server_version_text.split(" on ")[0], snap.current_user, pascal, snake,
                    tuple(tables), tuple(fks), tuple(risk), tuple(conflicts), tuple(blocking), owns, free,
                    snap.database_bytes, round(lock_estimate.mid_s, 4), round(est_backup, 2), plan, plan.notes,
                    tuple(_dependencies(snap, plan)), *_service_prediction(url, m, plan),
                    service_name=(m.service.name or "the service") if m.service.configured else None,
                    dump_problems=unreadable, lock_estimate=lock_estimate)


def _function_risks(snap: Snapshot, plan: Plan) -> list[AtRisk]:
    """The functions whose bodies name a table of the plan as text: rewritten (RB201), a
    blocker (the plan's, RB101 or RB102), or to review (RB202)."""
    from .ops import ReplaceFunction

    rewritten = {o.signature for o in plan.ops if isinstance(o, ReplaceFunction)}
    out = []
    for st in plan.tables:
        for f in snap.functions_naming(st.old, plan.schema):
            unsafe = [b for b in plan.blockers if b.object == f.signature]
            if unsafe:
                out.append(AtRisk("function", f.signature, st.old, False, "BLOCKER: " + unsafe[0].reason,
                                  unsafe[0].code))
                continue
            done = f.signature in rewritten
            out.append(AtRisk("function", f.signature, st.old, False, "body rewritten by the plan" if done else "review",
                              "RB201" if done else "RB202"))
    return out


def _service_prediction(url: str, m: Mapping, plan: Plan) -> tuple[tuple[dict, ...], tuple[str, ...]]:
    """What the mapping's service will find after the plan ran (rehearsed in a
    transaction that is rolled back; it holds the plan's locks for milliseconds and gives
    up at once if they are busy). Only when the mapping's ``[service]`` names a target
    schema."""
    if not m.service.configured:
        return (), (Note("service checks skipped: the mapping's [service] names no target_schema", "RB330"),)
    if plan.blockers:
        return (), (Note("the plan is blocked: fix the conflicts first", "RB330"),)
    from .compat import predict
    from .errors import RunbookError

    try:
        target = m.service.load_schema()
        c = predict(url, m, target, written=m.service.written_models(target), lock_timeout="300ms")
    except (RunbookError, Exception) as exc:  # a busy lock must not fail the analysis
        return (), (Note(f"not predicted: {' '.join(str(exc).split())[:200]}", "RB330"),)
    return tuple(c.rows()), tuple(Note(n, "RB330") for n in c.notes)


def _dependencies(snap: Snapshot, plan: Plan) -> list[Dependency]:
    from .ops import RenameConstraint, RenameIndex, RenameSequence, RenameTrigger, ReplaceFunction

    renamed = {o.old: o.new for o in plan.ops if isinstance(o, (RenameConstraint, RenameIndex, RenameSequence,
                                                                 RenameTrigger))}
    rewritten = {o.signature for o in plan.ops if isinstance(o, ReplaceFunction)}

    def act(name: str, default: str = "kept: follows the table by OID") -> str:
        return f"renamed to {renamed[name]}" if name in renamed else default

    out = []
    for st in plan.tables:
        t = snap.table_by_oid(st.oid) if st.oid else None
        if t is None:
            continue
        for c in snap.foreign_keys_in(t.oid):
            src = snap.table_by_oid(c.table_oid)
            out.append(Dependency(t.name, "foreign key in", f"{src.name if src else c.table_oid}.{c.name}",
                                  c.definition, True, "kept: references the table by OID; verified after"))
        kinds = {"f": "foreign key out", "p": "primary key", "u": "unique", "c": "check", "x": "exclusion",
                 "n": "not null"}
        for c in snap.constraints_of(t.oid):
            out.append(Dependency(t.name, kinds.get(c.type, c.type), c.name, c.definition, True, act(c.name)))
        for i in snap.indexes_of(t.oid):
            if not i.backs_constraint:
                out.append(Dependency(t.name, "index", i.name, i.definition, True, act(i.name)))
        for q_ in snap.sequences_of(t.oid):
            out.append(Dependency(t.name, "sequence", q_.name, f"owned by {t.name}.{q_.column}", True, act(q_.name)))
        for v in snap.views_on(t.oid):
            out.append(Dependency(t.name, "view", f"{v.schema}.{v.name}", v.definition.strip()[:200], True,
                                  "kept: reads the table by OID"))
        for tr in snap.triggers_on(t.oid):
            out.append(Dependency(t.name, "trigger", tr.name, tr.definition, True, act(tr.name)))
        for p in snap.policies_on(t.oid):
            out.append(Dependency(t.name, "policy", p.name, p.using_expr or "", True, "kept: follows the table"))
        for f in snap.functions_naming(st.old, plan.schema):
            out.append(Dependency(t.name, "function", f.signature, f"{f.language} body names {st.old!r} as text",
                                  False, "body rewritten" if f.signature in rewritten else "BLOCKER"))
    return out


def plan(url: str | None = None, mapping=None, *, strict: bool = False) -> Plan:
    url = resolve_url(url)
    m = as_mapping(mapping)  # bad input is refused before connecting
    conn = connect(url, application_name="runbook-plan", autocommit=True)
    try:
        return build_plan(inspect(conn), m, strict=strict)
    finally:
        conn.close()


def migrate(url: str | None = None, mapping=None, *, dry_run: bool = False, rehearse: bool = False,
            approved_fingerprint: str | None = None, compat_views: bool = False, **options) -> RunResult:
    """Back up, migrate in one transaction, verify (spec 2.4). ``compat_views`` (or the
    mapping's ``compat_views``): a view under each old name, for the services not yet
    redeployed (:func:`contract` drops them)."""
    url = resolve_url(url)
    m = as_mapping(mapping)
    if compat_views:
        m = replace(m, compat_views=True)
    return Runner(url, m, Options(**options)).migrate(
        dry_run=dry_run, rehearse=rehearse, approved_fingerprint=approved_fingerprint)


def rollback(url: str | None = None, mapping=None, *, drop_added_columns: bool = False, dry_run: bool = False,
             **options) -> RunResult:
    """Undo the last migration: its own plan, reversed (spec 2.3)."""
    url = resolve_url(url)
    return Runner(url, as_mapping(mapping), Options(**options)).rollback(drop_added=drop_added_columns, dry_run=dry_run)


def contract(url: str | None = None, mapping=None, *, quiet_for: str = "1h", force: bool = False,
             dry_run: bool = False, undo: bool = False, **options):
    """Drop the compat views of the last migration, as an audited run of its own, once they
    are shown unused for ``quiet_for`` (or ``force``); ``undo`` re-creates them."""
    from .execute.context import RunContext
    from .execute.contract import contract as _contract, validate
    from .execute.runner import advisory_lock

    validate(quiet_for)  # bad input is refused before connecting
    url = resolve_url(url)
    ctx = RunContext(url, as_mapping(mapping), Options(**options))
    lock_conn = advisory_lock(url)
    conn = connect(url, application_name="runbook", autocommit=True)
    try:
        return _contract(ctx, conn, quiet_for=quiet_for, force=force, dry_run=dry_run, undo=undo)
    finally:
        conn.close()
        lock_conn.close()
        ctx.log.close()


def verify(url: str | None = None, mapping=None, *, quiesced: bool = True, crud: bool = True) -> Verification:
    """Check the database against the baseline of the last migration (spec 9.1)."""
    from . import state
    from .execute.contract import contracted_views
    from .ops import op_from_dict, without_views

    url = resolve_url(url)
    m = as_mapping(mapping)
    conn = connect(url, application_name="runbook-verify", autocommit=True)
    try:
        run = state.last_run(conn)
        if run is None:
            raise WrongState("nothing to verify: no completed runbook migration is recorded in this database")
        ops = tuple(op_from_dict(d) for d in run["plan"])
        if contracted_views(conn, run["id"]):  # dropped since by a contract run of their own
            ops = without_views(ops)
        snap = inspect(conn)
        p = Plan.from_ops(snap, m, ops)
        v = verify_state(conn, snap, p, run["baseline"], quiesced=quiesced, url=url if crud else None,
                         service=m.service)
        # the names left as they were (custom ones, those with the old table's prefix), and
        # names that differ from Prisma's (the target schema's map:, a hand-made rename)
        now = build_plan(snap, m, strict=False)
        todo = tuple(f"{o.describe()}: still to do, Prisma sees the old name as drift" for o in now.ops
                     if o.kind in ("rename index", "rename constraint", "rename sequence", "rename statistics"))
        v = replace(v, notes=v.notes + now.notes + todo)
        if run["status"] == "committed":  # committed, not verified: record the outcome once finished
            state.record_verified(conn, run["id"], p, v)
        return v
    finally:
        conn.close()


def restore(url: str | None, backup_path: str, *, confirm: bool = False) -> dict:
    """Last resort: ``pg_restore --clean`` the backup over the database.

    Without ``confirm`` it only says what it would overwrite.
    """
    from .execute.backup import list_backup, restore_backup
    from .execute.backup_partial import holds_no_rows
    from .errors import BackupFailed

    url = resolve_url(url)
    path = Path(backup_path)
    if not path.exists():
        raise WrongState(f"backup {path} does not exist")
    toc = list_backup(path)
    if holds_no_rows(toc):
        raise WrongState(f"backup {path.name} holds the definitions of its tables and none of their rows "
                         "(`--backup schema+changed`): restoring it would empty every table, so it is not "
                         "restored; nothing was changed (`runbook rollback` undoes a migration; "
                         "`pg_restore --schema-only` of it into an empty database shows the schema as it was)")
    tables = sorted({l.split(" TABLE DATA ")[1].split()[1] for l in toc if " TABLE DATA " in l})
    conn = connect(url, application_name="runbook-restore", autocommit=True)
    try:
        snap = inspect(conn)
    finally:
        conn.close()
    overwrite = {"database": redact(url), "backup": str(path), "tables_in_backup": tables,
                 "tables_now": sorted(t.name for t in snap.tables),
                 "dropped_and_recreated": sorted(set(tables) & {t.name for t in snap.tables}),
                 "left_alone": sorted({t.name for t in snap.tables} - set(tables))}
    if not confirm:
        return {"restored": False, **overwrite}
    r = restore_backup(url, path, server_version_num=snap.server_version)
    if r.returncode != 0:
        raise BackupFailed(f"pg_restore failed (the restore ran in one transaction, so nothing changed): "
                           f"{(r.stderr.strip().splitlines() or ['?'])[-1]}")
    return {"restored": True, **overwrite}
