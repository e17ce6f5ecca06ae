"""What the core commands print: the analysis, a dry run, a run, a verification, each
ending on its verdict line. Every number comes from the result object it shows."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from ..errors import BadInput
from ..phases import LOCK
from .output import _print_table, heading, line, notes, passed, verdict


def checks_passed(v) -> str:
    return f"{sum(c.ok for c in v.checks)}/{len(v.checks)} checks"


# -- analyze --------------------------------------------------------------------------------

def analysis(an, code: int) -> None:
    line(f"database {an.database} ({an.server_version}) as {an.current_user}")
    analysis_verdict(an, code, "below")
    heading(f"Tables to rename ({len(an.tables)}):")
    _print_table([{"from": t.old, "to": t.new, "state": t.state, "rows": t.rows, "MiB": (t.total_bytes or 0) / 2**20,
                   "FKs in": t.fks_in, "FKs out": t.fks_out, "indexes": t.indexes, "triggers": t.triggers}
                  for t in an.tables])
    heading(f"Conflicts ({len(an.conflicts)}):")
    _print_table([asdict(c) for c in an.conflicts])
    heading(f"Objects at risk ({len(an.at_risk)}):")
    _print_table([asdict(r) for r in an.at_risk], ["code", "kind", "name", "table", "action"])
    heading(f"{an.service_name or 'The service'}'s client after the migration ({len(an.service_findings)} findings):")
    _print_table([{k: r.get(k) for k in ("code", "model", "column", "severity", "problem", "fix")}
                  for r in an.service_findings])
    notes(an.service_notes, indent=2)
    heading(f"Names kept ({len(an.plan.notes)}):" + ("" if an.plan.notes else " none"))
    notes(an.plan.notes)
    heading(f"Sessions that could block the lock ({len(an.blocking)}):")
    _print_table([asdict(b) for b in an.blocking])
    _analysis_facts(an)
    if an.dump_problems:
        heading(f"The backup cannot be taken: pg_dump would fail ({len(an.dump_problems)} problems):")
        notes(an.dump_problems, label="-", indent=2)
    analysis_verdict(an, code)


def _analysis_facts(an) -> None:
    by_kind: dict[str, int] = {}
    for d in an.dependencies:
        by_kind[d.kind] = by_kind.get(d.kind, 0) + 1
    heading("Summary:")
    line("dependent objects: " + (", ".join(f"{n} {k}" for k, n in sorted(by_kind.items())) or "none")
         + " (--json lists each)")
    line(f"foreign keys into the renamed tables: {len(an.foreign_keys)} "
         f"({sum(f.on_delete == 'CASCADE' for f in an.foreign_keys)} ON DELETE CASCADE)")
    line(f"role owns the tables: {'yes' if an.owns_tables else 'NO'}; free disk for the backup: "
         f"{(an.free_disk_bytes or 0) / 2**30:,.1f} GiB (database {an.database_bytes / 2**20:,.1f} MiB)")
    line(f"estimated backup {an.estimated_backup_s:.1f} s (online); "
         f"estimated lock window (downtime) {_lock_estimate(an)}")
    if an.lock_estimate is not None:
        line(f"  ({an.lock_estimate.detail})")
    line(f"findings: {count(an.count('blocker'), 'blocker')} (they stop the run), "
         f"{count(an.count('warning'), 'warning')}, {an.count('info')} info; each code is explained in docs/findings.md")
    line(f"plan: {len(an.plan.ops)} operations")
    line(f"fingerprint sha256:{an.plan.fingerprint}")


def _lock_estimate(an) -> str:
    return an.lock_estimate.text() if an.lock_estimate is not None else f"{an.estimated_downtime_s * 1000:.0f} ms"


def count(n: int, word: str) -> str:
    """``1 conflict``, ``2 conflicts``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def analysis_verdict(an, code: int, where: str = "above") -> None:
    if code:
        why = []
        if an.plan.blockers:
            why.append(f"{count(len(an.plan.blockers), 'blocker')} in the plan "
                       f"({count(len(an.conflicts), 'conflict')})")
        if an.dump_problems:
            why.append(f"{count(len(an.dump_problems), 'backup problem')}")
        verdict("blocked", "; ".join(why) + f" (listed {where})", "bad")
    elif not an.plan.ops:
        verdict("nothing to do", "the plan has no operations (already migrated)")
    else:  # the role's ownership is checked again by migrate's preflight, which refuses
        owner = "" if an.owns_tables else "; but the role does not own the tables (migrate refuses)"
        verdict("ready", f"{len(an.plan.ops)} operations, estimated lock window "
                         f"{_lock_estimate(an)}, fingerprint {an.plan.fingerprint[:12]}{owner}",
                "ok" if an.owns_tables else "warn")


# -- dry runs ------------------------------------------------------------------------------

def steps_table(plan) -> None:
    """One row per operation: its phase, what it does, its table, whether it runs under
    the exclusive locks."""
    _print_table([{"step": i + 1, "phase": op.phase, "operation": op.describe(), "target": op.table or "-",
                   "lock": "exclusive" if op.phase == LOCK else "online"} for i, op in enumerate(plan.ops)])


def dry_run(r, what: str, sql: bool, sql_out: str | None) -> None:
    """The steps, the preflight in words, the SQL only when asked, the verdict."""
    title = f"Dry run: the {what} that would run"
    if r.message:
        line(r.message)
    heading(f"{title} ({len(r.plan.ops)} operations, plan sha256:{r.fingerprint[:12]})")
    steps_table(r.plan)
    if r.preflight:
        heading(f"Preflight ({sum(c.ok for c in r.preflight)}/{len(r.preflight)} pass)")
        _print_table([{"check": c.name, "result": passed(c.ok) if c.blocking or c.ok else "warning",
                       "detail": c.detail} for c in r.preflight])
    text = r.plan.render(title)
    if sql:
        heading("SQL")
        print(text)
    if sql_out:
        try:
            Path(sql_out).write_text(text)
        except OSError as exc:
            raise BadInput(f"cannot write --sql-out {sql_out}: {exc.strerror} (nothing was changed)") from None
        line(f"wrote the SQL to {sql_out}")
    elif not sql:
        line("the SQL: --sql prints it, --sql-out FILE writes it")
    failing = [c for c in r.preflight if not c.ok and c.blocking]
    if failing:
        verdict("dry run", f"{len(r.plan.ops)} operations would run, but {len(failing)} preflight check(s) FAIL: "
                           f"{', '.join(c.name for c in failing)} (nothing changed)", "warn")
    else:
        verdict("dry run", f"{len(r.plan.ops)} operations would run (nothing changed)")


# -- runs ----------------------------------------------------------------------------------

def run_steps(r) -> None:
    from ..execute.results import timed_units

    if r.backup and r.backup.kind == "snapshot":
        line(f"backup: the snapshot command succeeded in {r.backup.seconds:.2f} s (runbook cannot verify a "
             f"snapshot); its output: {' | '.join(r.backup.output.splitlines()[-3:]) or 'none'}")
    elif r.backup and r.backup.kind == "schema+changed":
        from ..execute.backup_partial import CAN_SHORT, CANNOT_SHORT

        line(f"backup {r.backup.path} (schema and changed rows, no table's rows; verified) in "
             f"{r.backup.seconds:.2f} s: {r.backup.output.split('; the rows the plan changes: ')[-1].split('. A restore')[0]}")
        line(f"  a restore from it can bring back: {CAN_SHORT}")
        line(f"  it cannot bring back: {CANNOT_SHORT}")
    elif r.backup:
        line(f"backup {r.backup.path} ({r.backup.bytes / 2**20:,.1f} MiB, verified) in {r.backup.seconds:.2f} s")
    heading(f"Steps ({len(r.steps)})")
    _print_table([{"step": str(u[0].step) if len(u) == 1 else f"{u[0].step}-{u[-1].step}", "phase": u[0].phase,
                   "what": u[0].description if len(u) == 1 else f"{len(u)} steps under the lock, timed together",
                   "ms": sum(s.seconds for s in u) * 1000} for u in timed_units(r.steps)])


def migration(r, seconds: float) -> None:
    """A migration or a rehearsal: its steps, the lock window, the verification, the verdict."""
    run_steps(r)
    line(f"{r.status}: exclusive locks held {r.lock_window_s * 1000:.1f} ms (attempt {r.attempts}); "
         f"plan sha256:{r.fingerprint[:12]}")
    if r.verification:
        notes(r.verification.notes)
        line(f"verification: {checks_passed(r.verification)} passed")
    if r.log_file:
        line(f"log {r.log_file}")
    locks = f"locks held {r.lock_window_s * 1000:.1f} ms"
    checks = f"; {checks_passed(r.verification)}" if r.verification else ""
    if r.status == "rehearsed":
        verdict("rehearsed", f"{len(r.steps)} steps in {seconds:.1f} s, {locks}, rolled back (nothing changed)")
    elif r.ok:
        verdict(r.status, f"in {seconds:.1f} s; {locks}{checks}")
    else:
        verdict("failed", f"rolled back after {seconds:.1f} s{checks}" + (f"; {r.message}" if r.message else ""),
                "bad")


def rollback(r, seconds: float) -> None:
    if r.message:
        line(r.message)
    if r.verification is None:
        verdict(r.status if r.ok else "failed", f"in {seconds:.1f} s" + (f"; {r.message}" if r.message else ""),
                "ok" if r.ok else "bad")
        return
    run_steps(r)
    if r.backup:
        line(f"backup of the tables whose added columns were dropped: {r.backup.path} ({r.backup.bytes:,} bytes, "
             "verified)")
    line(f"{r.status}: locks held {r.lock_window_s * 1000:.1f} ms; "
         f"{checks_passed(r.verification)} against the original pass")
    tail = f"in {seconds:.1f} s; locks held {r.lock_window_s * 1000:.1f} ms; {checks_passed(r.verification)}"
    if r.verification.ok:
        verdict("rolled back", tail)
    else:
        verdict("FAILED", f"rollback check failed: {r.verification.failed[0].name}; {tail}", "bad")


def verification(v) -> None:
    _print_table([{"check": c.name, "ok": passed(c.ok), "detail": c.detail} for c in v.checks])
    notes(v.notes)
    if v.ok:
        verdict("verified", checks_passed(v))
    else:
        verdict("FAILED", f"{checks_passed(v)} pass; first failure: {v.failed[0].name}", "bad")


def restore(info: dict) -> None:
    line(f"backup {info['backup']} -> {info['database']}")
    line(f"tables dropped and recreated from the backup: {', '.join(info['dropped_and_recreated']) or 'none'}")
    line(f"tables in the backup not in the database (recreated): "
         f"{', '.join(sorted(set(info['tables_in_backup']) - set(info['tables_now']))) or 'none'}")
    line(f"tables left alone: {', '.join(info['left_alone']) or 'none'}")
    if info["restored"]:
        verdict("restored", f"{len(info['tables_in_backup'])} tables from {Path(info['backup']).name}")
    else:
        verdict("not restored", "nothing was changed: re-run with --yes to restore", "warn")


def tone(exit_code: int) -> str:
    """A verdict's colour from the command's exit code: 0 ok, 2 refused, 1 failed."""
    return {0: "ok", 2: "warn"}.get(exit_code, "bad")
