"""The tables (and the few HTML blocks) the notebooks show, one function each, from the
API's frozen results: an ``Analysis`` (01-analysis), a ``RunResult`` (02-execute,
04-rollback), a ``Verification`` (03-verify). Each returns a :class:`~.display.Table`, an
``HTML`` block, or a short Markdown note when there is nothing to list."""

from __future__ import annotations

import html
from dataclasses import asdict
from pathlib import Path

import pandas as pd
from IPython.display import HTML, Markdown

from ..findings import BLOCKER, WARNING, link, lookup
from ..phases import LOCK
from .display import FAIL, PASS, WARN, Table, kv, note
from .results import focus_table, mib, verification_of

__all__ = [
    "overview", "tables_to_rename", "conflicts", "references", "at_risk", "service_compat", "blockers",
    "plan_steps", "plan_sql", "fingerprint", "estimate",  # 01-analysis
    "run_overview", "preflight", "backup", "steps", "audit_rows",  # 02-execute, 04-rollback
    "verdict", "row_counts", "checksums", "checks",  # 03-verify, 04-rollback
]


def _ok(v: bool) -> str:
    return PASS if v else FAIL


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


# -- analysis (01-analysis) ------------------------------------------------------------------------

def overview(analysis) -> Table:
    """The facts a reviewer reads first."""
    a = analysis
    todo = sum(t.state == "todo" for t in a.tables)
    return kv([
        ("database", a.database), ("server", a.server_version), ("connected as", a.current_user),
        ("role owns the tables", "yes" if a.owns_tables else "NO"),
        ("tables in the mapping", f"{len(a.tables)} ({todo} to rename, "
                                  f"{sum(t.state == 'done' for t in a.tables)} already renamed)"),
        ("PascalCase / snake_case tables in the schema", f"{len(a.pascal_case_tables)} / {len(a.snake_case_tables)}"),
        ("operations in the plan", len(a.plan.ops)),
        ("blockers (they stop the run)", a.count(BLOCKER)),
        ("warnings (they do not stop it)", a.count(WARNING)),
        ("database size", f"{a.database_bytes / 2**20:,.1f} MiB"),
        ("plan fingerprint", f"sha256:{a.fingerprint}"),
    ], caption="Overview")


def tables_to_rename(analysis) -> Table:
    rows = [{"from": t.old, "to": t.new, "state": t.state, "rows": t.rows, "size MiB": mib(t.total_bytes),
             "FKs in": t.fks_in, "FKs out": t.fks_out, "indexes": t.indexes, "sequences": t.sequences,
             "views": t.views, "triggers": t.triggers, "policies": t.policies} for t in analysis.tables]
    return Table(pd.DataFrame(rows), caption=f"Tables to rename ({len(rows)})",
                 numbers={"rows": "{:,.0f}", "size MiB": "{:,.2f}"})


def conflicts(analysis) -> Table | Markdown:
    if not analysis.conflicts:
        return note("**No conflicts**: no target name is taken, no two tables map to one name.")
    rows = [{"code": link(c.code), **{k: v for k, v in asdict(c).items() if k != "code"}} for c in analysis.conflicts]
    return Table(pd.DataFrame(rows), caption=f"Conflicts ({len(rows)}): blockers, they stop the run")


def references(analysis, table: str | None = None) -> Table | Markdown:
    """The foreign keys that point at ``table`` (default: the table most referenced), and at the
    tables that point at it."""
    focus = focus_table(analysis, table)
    if focus is None:
        return note(f"_No foreign key references {table!r}._" if table else "_No foreign key references a table of the plan._")
    renamed = {t.old: t.new for t in analysis.tables}
    direct = [f for f in analysis.foreign_keys if f.references == focus]
    ring = {f.table for f in direct}
    second = [f for f in analysis.foreign_keys if f.references in ring and f.references != focus]
    rows = [{"table": f.table, "renamed to": renamed.get(f.table, ""), "constraint": f.constraint,
             "references": f.references, "ON DELETE": f.on_delete}
            for f in sorted(direct, key=lambda f: (f.on_delete, f.table)) + second]
    by = pd.Series([f.on_delete for f in direct]).value_counts()
    cap = (f"Foreign keys into {focus!r}: {len(direct)} tables "
           f"({', '.join(f'{n} {k}' for k, n in by.items())}), and {len(second)} one step further")
    return Table(pd.DataFrame(rows), caption=cap)


def at_risk(analysis) -> Table | Markdown:
    if not analysis.at_risk:
        return note("_No view, trigger, policy or function depends on the tables._")
    rows = [{"code": link(r.code), "kind": r.kind, "object": r.name, "table": r.table,
             "follows the rename": "yes" if r.follows_rename else "no", "action": r.action,
             "risk": FAIL if lookup(r.code).severity == BLOCKER else (WARN if not r.follows_rename else PASS)}
            for r in sorted(analysis.at_risk, key=lambda r: (r.follows_rename, r.kind, r.name))]
    return Table(pd.DataFrame(rows), caption=f"Objects at risk ({len(rows)}): views, triggers and policies follow "
                                             "the table by OID; function bodies name it as text",
                 status=("risk",))


def service_compat(analysis) -> HTML | Markdown:
    """The service's models (the mapping's ``[service]``) against the database as the plan
    will leave it: the blockers (they stop the run) and, under their own heading, the
    warnings (a model's writes the service does not make, drift: they do not stop it)."""
    rows = [dict(r) for r in analysis.service_findings]
    notes = "; ".join(analysis.service_notes)
    name = getattr(analysis, "service_name", None)
    if name is None:
        return note(f"**No service check**: {notes or 'the mapping names no target schema'}.")
    if not rows:
        return note(f"**{name}'s Prisma client will find every table, column and key it needs.**"
                     + (f" ({notes})" if notes else ""))
    parts = [f"<p><b>What {html.escape(name)}'s client will find after the migration</b>"
             + (f" ({html.escape(notes)})" if notes else "") + "</p>"]
    for sev, heading, status in ((BLOCKER, "Blockers: they stop the run", FAIL),
                                 (WARNING, "Warnings: they limit what the service could do, they do not stop "
                                           "the run", WARN)):
        group = [{"code": link(r["code"]), **{k: v for k, v in r.items() if k != "code"}, "blocks the run": status}
                 for r in rows if r["severity"].split()[0] == sev]
        parts.append(f"<h4>{heading} ({len(group)})</h4>")
        parts.append(Table(pd.DataFrame(group), status=("blocks the run",))._repr_html_() if group else "<p>None.</p>")
    return HTML("".join(parts))


def blockers(analysis) -> Table | Markdown:
    """What stops the run (the plan's blockers, pg_dump's problems, tables the role does not
    own, the service's blockers), then the sessions that could make the lock wait (warnings)."""
    stop = [f for f in analysis.findings if f.severity == BLOCKER]
    rows = [{"code": link(f.code), "severity": BLOCKER, "what": f.title, "who": f.object, "detail": f.detail,
             "blocks the run": FAIL} for f in stop]
    rows += [{"code": link(b.code), "severity": WARNING, "what": lookup(b.code).title,
              "who": f"pid {b.pid} ({b.application or 'no application name'})",
              "detail": f"{b.state}; transaction open {b.xact_age_s:,.0f}s"
                        + (f"; holds locks on {', '.join(b.tables)}" if b.tables else ""),
              "blocks the run": WARN} for b in analysis.blocking]
    if not rows:
        return note("**No blockers**: no session holds a lock on the tables or has a long open transaction, "
                     "and nothing stops the run.")
    return Table(pd.DataFrame(rows), caption=f"Blockers ({len(stop)}: they stop the run) and sessions that could "
                                             f"make the lock wait ({len(analysis.blocking)} warnings)",
                 status=("blocks the run",))


def plan_steps(analysis_or_plan) -> Table | Markdown:
    plan = getattr(analysis_or_plan, "plan", analysis_or_plan)
    if not plan.ops:
        return note("**Nothing to do**: the database is already in the target state.")
    rows = [{k: r[k] for k in ("step", "phase", "kind", "table", "description")} for r in plan.as_rows()]
    return Table(pd.DataFrame(rows), caption=f"The plan: {len(rows)} operations")


def plan_sql(analysis_or_plan) -> HTML:
    """The migration SQL exactly as it will run, with its fingerprint in the header."""
    plan = getattr(analysis_or_plan, "plan", analysis_or_plan)
    text = plan.render("Migration: rename tables to snake_case (spec 2.2)")
    n = text.count("\n")
    return HTML(f"<p><b>Plan SQL</b> ({n:,} lines; scroll)</p>"
                f"<pre style='max-height: 480px; overflow: auto; border: 1px solid #dadce0; padding: 8px; "
                f"font-size: 11px; font-family: monospace; background: #f8f9fa'>{html.escape(text)}</pre>")


def fingerprint(analysis) -> HTML:
    """The plan fingerprint, and how to approve exactly this plan."""
    fp = analysis.fingerprint
    return HTML(
        "<div style='border: 2px solid #1a73e8; border-radius: 6px; padding: 10px 14px; margin: 6px 0; "
        "background: #e8f0fe'>"
        f"<div style='font-size: 13px'>Plan fingerprint (sha256 of the SQL above)</div>"
        f"<div style='font-family: monospace; font-size: 15px; font-weight: bold; word-break: break-all'>"
        f"sha256:{fp}</div>"
        "<div style='font-size: 12px; margin-top: 6px'>To approve exactly this plan: "
        f"<code>runbook run --env production --approved-fingerprint {fp}</code></div></div>")


def estimate(analysis) -> Table:
    a = analysis
    return kv([
        ("database size", f"{a.database_bytes / 2**20:,.1f} MiB"),
        ("estimated backup (pg_dump, online: no lock on the tables)", f"{a.estimated_backup_s:,.2f} s"),
        ("steps under the exclusive lock", len(a.plan.phase(LOCK))),
        ("estimated lock window (the downtime)", a.lock_estimate.text() if a.lock_estimate is not None
         else f"{a.estimated_downtime_s * 1000:,.0f} ms"),
        ("how it was estimated", a.lock_estimate.detail if a.lock_estimate is not None else "a fixed cost a step"),
        ("free disk for the backup", "unknown" if a.free_disk_bytes is None else f"{a.free_disk_bytes / 2**30:,.1f} GiB"),
    ], caption="Downtime estimate")


# -- execute and rollback (02-execute, 04-rollback) ------------------------------------------------

def run_overview(result) -> Table:
    r = result
    rows = [("status", r.status), ("action", r.action), ("run id", r.run_id), ("plan fingerprint", f"sha256:{r.fingerprint}"),
            ("operations", len(r.plan.ops)), ("steps run", len(r.steps))]
    if r.steps or r.lock_window_s:
        rows += [("exclusive locks held (lock window)", f"{r.lock_window_s * 1000:,.2f} ms"),
                 ("waited for the locks", f"{r.lock_wait_s * 1000:,.2f} ms"), ("attempts", r.attempts)]
    if r.timings:
        rows.append(("timings", ", ".join(f"{k} {v * 1000:,.1f} ms" for k, v in r.timings.items())))
    if r.verification is not None:
        v = r.verification
        rows.append(("verification", f"{sum(c.ok for c in v.checks)}/{len(v.checks)} checks pass"))
    rows.append(("log", Path(r.log_file).name if r.log_file else "–"))
    if r.message:
        rows.append(("message", r.message))
    return kv(rows, caption=f"Run {r.run_id}: {r.status}")


def preflight(result) -> Table | Markdown:
    if not result.preflight:
        return note("_No preflight ran (nothing to do)._")
    rows = [{"check": c.name, "result": PASS if c.ok else (FAIL if c.blocking else WARN), "detail": c.detail}
            for c in result.preflight]
    ok = sum(c.ok for c in result.preflight)
    return Table(pd.DataFrame(rows), caption=f"Preflight (spec 6.2): {ok}/{len(rows)} pass", status=("result",))


def backup(result) -> Table | Markdown:
    b = result.backup
    if b is None:
        why = ("this was a dry run" if result.action == "dry-run" else
               "there was nothing to do" if result.status == "nothing to do" else
               "a rollback reverses the plan; the migration's backup stays where it was" if result.action == "rollback"
               else "backups are off for this run (autoBackup = false, backupMode = none or --no-backup)")
        return note(f"**No backup** in this run: {why}.")
    if b.kind == "snapshot":
        return kv([("made by", b.path), ("ran in", f"{b.seconds:,.2f} s"),
                   ("verified", "no: runbook cannot verify a snapshot it did not take (the command exited 0)"),
                   ("its output", b.output or "none")], caption="Backup (the operator's snapshot command)")
    if b.kind == "schema+changed":
        from ..execute.backup_partial import CAN, CANNOT

        return kv([("file", Path(b.path).name), ("folder", str(Path(b.path).parent)),
                   ("size", f"{b.bytes / 2**20:,.2f} MiB ({b.bytes:,} bytes, with the changed rows' keys)"),
                   ("written in", f"{b.seconds:,.2f} s"),
                   ("verified with pg_restore --list", "yes" if b.verified else "NO"),
                   ("holds", b.output.split(" A restore can")[0]),
                   ("a restore can bring back", "; ".join(CAN)), ("a restore CANNOT bring back", "; ".join(CANNOT)),
                   ("made by", b.pg_dump_version)], caption="Backup (schema and changed rows: no table's rows)")
    fmt = f"directory (pg_dump -Fd -j {b.jobs}, one file per table)" if b.format == "directory" else "custom (one file)"
    return kv([("file", Path(b.path).name), ("folder", str(Path(b.path).parent)), ("format", fmt),
                ("size", f"{b.bytes / 2**20:,.2f} MiB ({b.bytes:,} bytes)"), ("written in", f"{b.seconds:,.2f} s"),
                ("verified with pg_restore --list", "yes" if b.verified else "NO"),
                ("entries in its table of contents", f"{b.toc_entries:,} ({b.tables_in_toc} tables)"),
                ("made by", b.pg_dump_version)], caption="Backup (pg_dump, custom format)")


def steps(result) -> Table | Markdown:
    if result.action == "dry-run":
        t = plan_steps(result.plan)
        if isinstance(t, Table):
            t.caption = f"Dry run: the {len(t)} steps that would run (nothing was changed)"
        return t
    if not result.steps:
        return note(f"_No step ran ({result.status})._")
    rows = [{"step": s.step, "phase": s.phase, "kind": s.kind, "description": s.description, "ms": _ms(s.seconds),
             "timed with": s.shared, "lock wait ms": _ms(s.lock_wait_s), "attempt": s.attempt} for s in result.steps]
    total = sum(s.seconds for s in result.steps)
    together = any(s.shared > 1 for s in result.steps)
    return Table(pd.DataFrame(rows), caption=f"Steps ({len(rows)}, {total * 1000:,.1f} ms in all)" + (
        "; the lock window times its steps together: each shows its share of its group's time, "
        "'timed with' how many steps share it" if together else ""),
                 numbers={"ms": "{:,.3f}", "lock wait ms": "{:,.3f}"})


def audit_rows(result) -> Table | Markdown:
    if not result.audit_rows:
        return note("_No audit row was written by this run._")
    rows = []
    for r in result.audit_rows:
        extra = {k: v for k, v in r.items() if k not in ("table", "event", "run_id", "at", "host")}
        if "fingerprint" in extra:
            extra["fingerprint"] = str(extra["fingerprint"])[:12]
        rows.append({"event": r.get("event"), "at": r.get("at"), "table": r.get("table"), "run": r.get("run_id"),
                     "host": r.get("host"), "details": ", ".join(f"{k}={v}" for k, v in extra.items())})
    return Table(pd.DataFrame(rows), caption=f"Audit rows written ({len(rows)})")


# -- verify (03-verify, 04-rollback) ---------------------------------------------------------------

def verdict(obj) -> HTML:
    """One line: how many checks pass."""
    v = verification_of(obj)
    if v is None:
        return HTML("<p>No verification ran.</p>")
    n, bad = len(v.checks), v.failed
    if not bad:
        return HTML(f"<div style='font-size: 16px; color: #137333; font-weight: bold; margin: 6px 0'>"
                    f"&#10004; all {n} checks pass</div>")
    first = "; ".join(f"{c.name}: {c.detail}" for c in bad[:3])
    return HTML(f"<div style='font-size: 16px; color: #c5221f; font-weight: bold; margin: 6px 0'>&#10008; "
                f"{len(bad)} of {n} checks FAIL</div><div>{html.escape(first)}</div>")


def row_counts(obj) -> Table | Markdown:
    """Rows per table before and after (from the baseline taken before the plan ran)."""
    v = verification_of(obj)
    if v is None or not v.counts:
        return note("_No row counts (no verification ran)._")
    rows = [{"table before": c.table_before, "table after": c.table_after, "rows before": c.rows_before,
             "rows after": c.rows_after,
             "difference": (c.rows_after - c.rows_before) if None not in (c.rows_after, c.rows_before) else None,
             "content proved by": c.method, "result": _ok(c.ok)} for c in v.counts]
    return Table(pd.DataFrame(rows), caption="Row counts before and after", status=("result",),
                 numbers={"rows before": "{:,.0f}", "rows after": "{:,.0f}", "difference": "{:+,.0f}"})


def checksums(obj) -> Table | Markdown:
    """How each table's content was proved unchanged: a checksum of every row, or the
    catalog (same storage file, no data step touched it)."""
    v = verification_of(obj)
    if v is None or not v.counts:
        return note("_No content checks._")
    rows = [{"table": c.table_after, "proof": c.method,
             "checksum before": c.checksum_before or "–", "checksum after": c.checksum_after or "–",
             "result": _ok(c.ok)} for c in v.counts]
    return Table(pd.DataFrame(rows), caption="Content: checksums (sum of row hashes) and catalog proofs",
                 status=("result",))


def checks(obj) -> Table | Markdown:
    """Every check, pass or FAIL, failures first."""
    v = verification_of(obj)
    if v is None:
        return note("_No verification ran._")
    rows = [{"check": c.name, "kind": str(c.kind), "result": _ok(c.ok), "detail": c.detail}
            for c in sorted(v.checks, key=lambda c: c.ok)]
    notes = "".join(f"; note: {n}" for n in getattr(v, "notes", ()))
    return Table(pd.DataFrame(rows), caption=f"Checks: {sum(c.ok for c in v.checks)}/{len(rows)} pass{notes}",
                 status=("result",))

