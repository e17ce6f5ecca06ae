"""The preflight checks (spec 6.2): what must hold before anything changes.

Each check is one small function; :func:`preflight` runs them in order (the order of the
report and of the log) and :func:`refusal` turns the first blocking failure into the
error that stops the run, with its exit code.
"""

from __future__ import annotations

from pathlib import Path

import psycopg2

from ..catalog.inspect import Snapshot
from ..connection import redact
from ..errors import DumpNotPossible, MappingError, NotOwner, PreflightFailed, RunbookError, ServerTooOld, ToolMissing
from ..naming import literal, q, qq
from ..ops import PREPARE, AddNotNullCheck, FillNulls, ReplaceFunction
from ..plan import Plan
from .backup import check_pg_dump, dump_problems, estimated_size, free_bytes, free_connections, problems_line
from .failures import pg_message
from .options import Options
from .results import PreflightCheck

MIN_SERVER = 120000  # SET NOT NULL skipping its scan on a validated CHECK: PostgreSQL 12

# the error a failed check stops the run with (else PreflightFailed)
_ERRORS = {"role owns the tables": NotOwner, "role owns the functions the plan rewrites": NotOwner,
           "server version": ServerTooOld,
           "pg_dump version": ToolMissing, "fill value fits its column": MappingError,
           "pg_dump can read the whole database": DumpNotPossible,
           "connections for pg_dump -j": DumpNotPossible,
           "NOT NULL column has no NULL": MappingError}


def preflight(conn, snap: Snapshot, plan: Plan, url: str, opt: Options) -> list[PreflightCheck]:
    out = [PreflightCheck("database connection", True, f"{redact(url)} as {snap.current_user}"),
           _server_version(snap),
           _owns_functions(conn, snap, plan),
           _owns_tables(snap, plan)]
    if opt.backup and not opt.backup_command:  # the operator's snapshot needs neither pg_dump nor disk here
        out.extend(backup_checks(conn, snap.server_version, opt.backup_dir, jobs=opt.backup_jobs,
                                 schema_only=opt.backup_scope == "schema+changed"))
    out.append(_no_lock_holders(snap, plan))
    out.extend(_prepare_checks(conn, snap, plan))
    out.append(PreflightCheck("no naming conflicts", not plan.blockers,
                              "; ".join(f"{b.object}: {b.reason}" for b in plan.blockers) or "none"))
    return out


def refusal(checks: list[PreflightCheck]) -> RunbookError | None:
    """The error of the first blocking check that failed (None: the run may go on)."""
    failed = [c for c in checks if not c.ok and c.blocking]
    if not failed:
        return None
    c = failed[0]
    return _ERRORS.get(c.name, PreflightFailed)(f"preflight: {c.name}: {c.detail}; nothing was changed")


def _server_version(snap: Snapshot) -> PreflightCheck:
    ok_ver = snap.server_version >= MIN_SERVER
    return PreflightCheck("server version", ok_ver, f"PostgreSQL {snap.server_version // 10000} "
                          f"({'>= 12 needed' if not ok_ver else 'supported'})")


def _owns_functions(conn, snap: Snapshot, plan: Plan) -> PreflightCheck:
    """CREATE OR REPLACE FUNCTION needs the function's owner's privileges: refused here,
    before the backup and the prepare steps, not in the lock phase."""
    fns = [o for o in plan.ops if isinstance(o, ReplaceFunction)]
    fn_not_owned = []
    if fns and not snap.is_superuser:
        with conn.cursor() as cur:
            cur.execute("SELECT f, p.proowner::regrole::text FROM unnest(%s::text[]) f "
                        "JOIN pg_proc p ON p.oid = to_regprocedure(f) "
                        "WHERE NOT pg_has_role(p.proowner, 'USAGE')", ([o.regprocedure for o in fns],))
            fn_not_owned = [f"{f} (owner {owner})" for f, owner in cur.fetchall()]
    return PreflightCheck("role owns the functions the plan rewrites", not fn_not_owned,
                          "current role " + snap.current_user + (" does not own " + ", ".join(fn_not_owned)
                          if fn_not_owned else f" owns the {len(fns)} functions the plan rewrites"))


def _owns_tables(snap: Snapshot, plan: Plan) -> PreflightCheck:
    not_owned = []
    for st in plan.tables:
        t = snap.table_by_oid(st.oid) if st.oid else None
        if t and not (snap.is_superuser or t.owner in snap.member_of):
            not_owned.append(f"{t.name} (owner {t.owner})")
    return PreflightCheck("role owns the tables", not not_owned,
                          "current role " + snap.current_user + (" does not own " + ", ".join(not_owned)
                                                                 if not_owned else " owns every table in the plan"))


#: room asked for a schema-only backup and the changed rows' keys (``--backup schema+changed``)
SCHEMA_BACKUP_BYTES = 64 * 2**20


def backup_checks(conn, server_version: int, backup_dir: str, *, jobs: int | None = None,
                  schema_only: bool = False) -> list[PreflightCheck]:
    """What must hold before pg_dump starts: a pg_dump as new as the server, room for the
    dump (estimated at 1.2x the database size; a schema-only backup, 64 MiB) in the
    backup folder, and with ``jobs`` (directory format, ``pg_dump -j``) a connection for
    each job and its leader."""
    out = []
    try:
        out.append(PreflightCheck("pg_dump version", True, check_pg_dump(server_version)))
    except Exception as exc:
        out.append(PreflightCheck("pg_dump version", False, str(exc)))
    need = SCHEMA_BACKUP_BYTES if schema_only else int(estimated_size(conn) * 1.2)
    try:
        free = free_bytes(Path(backup_dir))
        out.append(PreflightCheck("disk space for the backup", free >= need,
                                  f"{free / 2**20:,.0f} MiB free, about {need / 2**20:,.0f} MiB needed"))
    except OSError as exc:
        out.append(PreflightCheck("disk space for the backup", False, f"{backup_dir}: {exc.strerror}"))
    if jobs:
        free = free_connections(conn)
        out.append(PreflightCheck("connections for pg_dump -j", free >= jobs + 1,
                                  f"{free} more connections allowed, {jobs + 1} needed (--backup-jobs {jobs}: "
                                  f"give fewer jobs, or 0 for the custom-format file on one)"))
    problems = dump_problems(conn)  # pg_dump would stop at the first of them
    out.append(PreflightCheck("pg_dump can read the whole database", not problems,
                              problems_line(problems) or "every table, sequence and large object is readable"))
    return out


def _no_lock_holders(snap: Snapshot, plan: Plan) -> PreflightCheck:
    """Not blocking: the lock phase waits for them (lock_timeout) and retries."""
    oids = {st.oid for st in plan.tables if st.oid}
    blockers = [a for a in snap.activity if set(a.locked_oids) & oids]
    return PreflightCheck(
        "no session holds locks on the tables", not blockers,
        "; ".join(f"pid {a.pid} ({a.application or 'no application name'}) open {a.xact_age_s:.0f}s" for a in blockers)
        or "none", blocking=False)


def _prepare_checks(conn, snap: Snapshot, plan: Plan) -> list[PreflightCheck]:
    """A NOT NULL column that nothing fills has no NULL; a fill value fits its column."""
    filled = {(o.table_name, o.column) for o in plan.phase(PREPARE) if type(o) is FillNulls}
    out = []
    for op in plan.phase(PREPARE):
        if isinstance(op, AddNotNullCheck) and (op.table_name, op.column) not in filled:
            out.append(_no_nulls(conn, op))
        if type(op) is FillNulls:
            out.append(_fill_value_fits(conn, snap, op))
    return out


def _no_nulls(conn, op: AddNotNullCheck) -> PreflightCheck:
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {qq(op.schema, op.table_name)} WHERE {q(op.column)} IS NULL")
        n = cur.fetchone()[0]
    return PreflightCheck("NOT NULL column has no NULL", n == 0,
                          f"{op.table_name}.{op.column} has {n} NULL rows"
                          + ("; give the mapping a fill_nulls value" if n else ""))


def _fill_value_fits(conn, snap: Snapshot, op: FillNulls) -> PreflightCheck:
    col = snap.table(op.schema, op.table_name).column(op.column)
    ok, why = True, ""
    with conn.cursor() as cur:
        try:
            cur.execute(f"SELECT {literal(op.value)}::{col.type}")
        except psycopg2.Error as exc:
            ok, why = False, pg_message(exc)
    return PreflightCheck("fill value fits its column", ok,
                          f"{op.value!r} for {op.table_name}.{op.column} ({col.type})" + (f": {why}" if why else ""))
