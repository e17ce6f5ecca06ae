"""``runbook status``: where the database stands (as ``flyway info`` or ``sqitch status``).

Everything is read from the database itself, in one read-only transaction that changes
nothing (not even the ``runbook`` schema is created): which of the mapping's tables exist
under their old and their new names (the catalog), the runs recorded in ``runbook.runs``,
and whether a runbook session holds runbook's advisory lock (a run marked ``running`` or
``restoring`` without one is dead: interrupted).

States: ``not migrated``, ``migrated``, ``rolled back``, ``half-migrated``,
``interrupted``, ``running`` (a run in progress), ``inconsistent`` (the record and the
catalog disagree, or no mapped table exists).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone

from .locks import ADVISORY_KEY
from .mapping import Mapping, as_mapping

# (runbook.state and runbook.connection, which load the database driver, are imported in
# the functions that connect: ``import runbook.status`` stays cheap, as ``runbook`` imports it)

STATES = ("not migrated", "migrated", "rolled back", "half-migrated", "interrupted", "running", "inconsistent")
#: statuses that leave the tables renamed (migrated, committed) or put back (rolled back)
_IN_EFFECT = ("migrated", "committed", "rolled back")
#: statuses of a run that has not ended: dead unless a runbook session holds the lock
_UNFINISHED = ("running", "restoring")


@dataclass(frozen=True)
class TableWhere:
    old: str
    new: str
    where: str  # old | new | both (old and new exist) | missing (neither)


@dataclass(frozen=True)
class RunRow:
    """One row of ``runbook.runs``."""

    id: str
    started_at: datetime | None
    finished_at: datetime | None
    status: str
    fingerprint: str
    by: str | None  # the database role that ran it; None: recorded by an older runbook
    summary: dict | None

    @property
    def when(self) -> str:
        return _when(self.finished_at or self.started_at)

    @property
    def by_text(self) -> str:
        return self.by or "unknown"

    def row(self) -> dict:
        s = self.summary or {}
        lock = s.get("lock_window_s")
        note = s.get("error") or s.get("interrupted") or s.get("recovered") or s.get("by") or ""
        return {"id": self.id, "started": _when(self.started_at), "finished": _when(self.finished_at),
                "status": self.status, "plan": self.fingerprint[:12], "by": self.by_text,
                "lock ms": f"{lock * 1000:.1f}" if isinstance(lock, (int, float)) else None,
                "verified": {True: "yes", False: "no"}.get(s.get("verified")), "note": " ".join(str(note).split())[:60]}


@dataclass(frozen=True)
class Status:
    database: str  # redacted
    schema: str
    state: str  # one of STATES
    detail: str
    tables: tuple[TableWhere, ...]
    last_run: RunRow | None  # the newest run recorded
    history: tuple[RunRow, ...]  # newest first
    next_step: str
    verdict: str  # one line
    session: str | None = None  # the runbook session holding the advisory lock (pid, application)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["last_run"] = _run_dict(self.last_run) if self.last_run else None
        d["history"] = [_run_dict(r) for r in self.history]
        return d


def _run_dict(r: RunRow) -> dict:
    d = asdict(r)
    for k in ("started_at", "finished_at"):
        d[k] = d[k].isoformat() if d[k] else None
    return d


def _when(t: datetime | None) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if t else "-"


# -- reading ------------------------------------------------------------------------------

def status(url: str | None = None, mapping=None) -> Status:
    """Where the database stands; changes nothing (a read-only transaction, rolled back)."""
    from .connection import connect, redact, resolve_url

    url = resolve_url(url)
    m = as_mapping(mapping)  # bad input is refused before connecting
    conn = connect(url, application_name="runbook-status", autocommit=False)
    try:
        conn.set_session(readonly=True)
        tables = _tables(conn, m)
        history = _history(conn)
        session = _session(conn)
        st = _decide(m, tables, history, session)
        run = _in_effect(history)
        if st.state == "migrated" and run is not None and run.status == "committed":
            st = _committed(conn, st, run)
    finally:
        conn.rollback()
        conn.close()
    return replace(st, database=redact(url))


def _tables(conn, m: Mapping) -> tuple[TableWhere, ...]:
    names = sorted({n for t in m.tables for n in (t.old, t.new)})
    with conn.cursor() as cur:
        cur.execute("SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND c.relname = ANY(%s)", (m.schema, names))
        present = {r[0] for r in cur.fetchall()}
    where = {(True, False): "old", (False, True): "new", (True, True): "both", (False, False): "missing"}
    return tuple(TableWhere(t.old, t.new, where[(t.old in present, t.new in present)]) for t in m.tables)


def _history(conn) -> tuple[RunRow, ...]:
    from . import state

    if not state.exists(conn):
        return ()
    by = "run_by" if "run_by" in state.columns(conn) else "NULL::text"
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, started_at, finished_at, status, fingerprint, {by}, summary FROM runbook.runs "
                    "ORDER BY started_at DESC, id DESC")
        return tuple(RunRow(*r) for r in cur.fetchall())


def _session(conn) -> str | None:
    """The session holding runbook's advisory lock in this database (a migrate, rollback
    or merge-legacy at work), as ``pid N (application)``; None when none does."""
    with conn.cursor() as cur:
        cur.execute("SELECT l.pid, coalesce(nullif(a.application_name, ''), 'no application name') FROM pg_locks l "
                    "LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.classid = %s AND l.objid = %s AND l.objsubid = 1 "
                    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1",
                    ((ADVISORY_KEY >> 32) & 0xFFFFFFFF, ADVISORY_KEY & 0xFFFFFFFF))
        row = cur.fetchone()
    return f"pid {row[0]} ({row[1]})" if row else None


def _in_effect(history: tuple[RunRow, ...]) -> RunRow | None:
    return next((r for r in history if r.status in _IN_EFFECT), None)


def _committed(conn, st: Status, run: RunRow) -> Status:
    """A committed run with every table renamed: half-migrated while its finish steps
    (``VALIDATE CONSTRAINT`` ...) have not all taken effect, else renamed, not verified."""
    from . import state
    from .ops import FINISH, op_from_dict

    with conn.cursor() as cur:
        cur.execute("SELECT plan FROM runbook.runs WHERE id = %s", (run.id,))
        fin = [o for o in (op_from_dict(d) for d in cur.fetchone()[0]) if o.phase == FINISH]
        cur.execute("SAVEPOINT finish_checks")
    try:
        done = state.finish_done(conn, fin)
    except Exception:  # a check that cannot run has not taken effect
        with conn.cursor() as cur:
            cur.execute("ROLLBACK TO SAVEPOINT finish_checks")
        done = False
    if done:
        return st
    n = len(st.tables)
    return replace(st, state="half-migrated",
                   detail=f"migration {run.id} committed (all {n} tables renamed) but its finish steps "
                          f"({len(fin)}: {'; '.join(o.describe() for o in fin)[:200]}) have not all taken effect",
                   next_step="run `runbook migrate` to finish and verify it, or `runbook rollback` to undo it",
                   verdict=f"half-migrated: {n} of {n} tables renamed, finish steps pending; "
                           "run runbook migrate to finish or runbook rollback")


# -- deciding -----------------------------------------------------------------------------

def _decide(m: Mapping, tables: tuple[TableWhere, ...], history: tuple[RunRow, ...], session: str | None) -> Status:
    def make(state_, detail, next_step, verdict):
        return Status("", m.schema, state_, detail, tables, history[0] if history else None, history,
                      next_step, verdict, session)

    unfinished = next((r for r in history if r.status in _UNFINISHED), None)
    if unfinished is not None:
        return make(*_unfinished(unfinished, session))
    run = _in_effect(history)
    renamed = [t for t in tables if t.where == "new"]
    pending = [t for t in tables if t.where in ("old", "both")]
    missing = [t for t in tables if t.where == "missing"]
    note = f" ({len(missing)} mapped tables exist under neither name)" if missing else ""
    note += f"; a runbook session holds the lock: {session}" if session else ""
    if not renamed and not pending:
        return make("inconsistent", f"none of the mapping's {len(tables)} tables exists in schema {m.schema}",
                    "check the database URL and the mapping (`runbook analyze`)",
                    f"inconsistent: none of the {len(tables)} mapped tables exists in schema {m.schema}")
    if renamed and pending:
        return make(*_half(tables, renamed, run, note))
    if renamed:
        return make(*_renamed(len(tables), run, note))
    return make(*_old(len(tables), run, note))


def _unfinished(run: RunRow, session: str | None) -> tuple[str, str, str, str]:
    what = "migration" if run.status == "running" else "rollback"
    if session:
        return ("running", f"run {run.id} ({what}, started {_when(run.started_at)} by {run.by_text}) is in "
                           f"progress: {session}", "wait for it to end, then `runbook status` again",
                f"running: {what} {run.id} in progress ({session})")
    nxt = ("`runbook migrate` (it first undoes what the interrupted run left, then migrates) "
           "or `runbook rollback` (it only undoes it)" if run.status == "running" else
           "`runbook rollback` (it finishes putting back the NULLs the migration filled)")
    return ("interrupted", f"run {run.id} ({what}, started {_when(run.started_at)} by {run.by_text}) is still "
                           f"marked {run.status!r} but no runbook session holds the lock: it died",
            f"run {nxt}", f"interrupted: {what} {run.id} died while {run.status}; run {nxt.split(' (')[0].strip('`')}")


def _half(tables, renamed, run: RunRow | None, note: str) -> tuple[str, str, str, str]:
    where = "; ".join(f"{t.old} -> {t.new}: {t.where}" for t in tables)
    if run is not None and run.status in ("migrated", "committed"):
        nxt = f"`runbook migrate` to rename the rest, or `runbook rollback` to undo migration {run.id}"
    else:
        nxt = "`runbook migrate` to rename the rest (no migration is recorded to roll back)"
    return ("half-migrated", f"{len(renamed)} of {len(tables)} tables renamed: {where}{note}", f"run {nxt}",
            f"half-migrated: {len(renamed)} of {len(tables)} tables renamed; run runbook migrate to finish"
            + (" or runbook rollback" if "rollback" in nxt else ""))


def _renamed(n: int, run: RunRow | None, note: str) -> tuple[str, str, str, str]:
    if run is None or run.status == "rolled back":
        return ("migrated", f"all {n} tables have their new names, but no runbook migration is in effect "
                            f"(renamed outside runbook, e.g. with the generated SQL script){note}",
                "nothing recorded to verify or roll back: `runbook analyze` shows what remains",
                f"migrated outside runbook: all {n} tables renamed, no run recorded, not verified")
    head = f"migrated {run.when} by {run.by_text}, plan {run.fingerprint[:12]}"
    if run.status == "committed":
        return ("migrated", f"migration {run.id}: all {n} tables renamed and committed, not verified yet{note}",
                "run `runbook verify`", f"{head}, not verified yet: run runbook verify")
    return ("migrated", f"migration {run.id}: all {n} tables renamed and verified{note}",
            "nothing to do (`runbook rollback` undoes it)", f"{head}, verified")


def _old(n: int, run: RunRow | None, note: str) -> tuple[str, str, str, str]:
    if run is not None and run.status in ("migrated", "committed"):
        return ("inconsistent", f"runbook.runs records migration {run.id} as {run.status!r}, but all {n} tables "
                                f"have their old names (renamed back outside runbook?){note}",
                "inspect with `runbook analyze` before running anything",
                f"inconsistent: migration {run.id} is recorded as {run.status} but the tables have their old names")
    if run is not None:
        return ("rolled back", f"migration {run.id} (plan {run.fingerprint[:12]}) was rolled back {run.when}; "
                               f"all {n} tables have their old names{note}",
                "`runbook migrate` migrates again", f"rolled back {run.when} (migration {run.id}, "
                                                     f"plan {run.fingerprint[:12]})")
    return ("not migrated", f"all {n} tables have their old names; no migration is recorded{note}",
            "`runbook analyze`, then `runbook migrate`",
            f"not migrated: {n} tables under their old names; run runbook analyze, then runbook migrate")
