"""``runbook fleet plan|run|status|rollback|demo``: one rename across many databases, in
waves, on Dagster (``pip install runbook[fleet]``). Nothing here imports dagster at
``runbook --help`` time: ``run``, ``rollback`` and ``demo`` load it inside the command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import BadInput
from .output import _json, _print_table, verdict

INVENTORY_HELP = "the inventory (default fleet.toml)"


def _inventory(a):
    from ..fleet.inventory import load_inventory

    return load_inventory(a.inventory)


def _need_dagster() -> None:
    try:
        import dagster  # noqa: F401
    except ImportError:
        raise BadInput("the fleet runs on Dagster, which is not installed: pip install 'runbook[fleet]'") from None


def _quiet(a):
    """Progress lines: on stdout, or (with --json) on stderr."""
    return (lambda msg: print(msg, file=sys.stderr)) if a.json else print


def cmd_fleet_plan(a) -> int:
    from ..fleet import state as fstate
    from ..fleet.planning import approvals, groups, place_all
    from ..options import approved_fingerprint

    inv = _inventory(a)
    approve = approved_fingerprint(a.approve) if a.approve else None  # checked before connecting
    placed = place_all(inv, workers=max(4, inv.concurrency))
    if approve:
        fps = sorted({p.fingerprint for p in placed if p.fingerprint and p.fingerprint.startswith(approve)})
        if len(fps) != 1:
            raise BadInput(f"--approve {approve[:12]}: {'no' if not fps else 'more than one'} database's plan has this "
                           f"fingerprint (the plans: {', '.join(sorted({(p.fingerprint or '')[:12] for p in placed if p.fingerprint}))})")
        names = [p.name for p in placed if p.fingerprint == fps[0]]
        if any(p.state == "blocked" for p in placed if p.fingerprint == fps[0]):
            raise BadInput(f"--approve {approve[:12]}: that plan is blocked; a blocked plan cannot be approved")
        with fstate.update(inv.state_file) as st:
            if fps[0] not in [x["fingerprint"] for x in st["approved"]]:
                st["approved"].append({"fingerprint": fps[0], "approved_at": fstate.now(),
                                       "by": os.environ.get("USER") or "unknown", "databases": names})
        placed = place_all(inv, workers=max(4, inv.concurrency))
    approved = approvals(inv, fstate.read(inv.state_file))
    g = groups(placed, approved)
    if a.json:
        _json({"inventory": str(inv.path), "approved": approved, "groups": g,
               "databases": [p.to_dict() for p in placed]})
        return 0
    print(f"Plans ({len(g)} fingerprint{'s' if len(g) != 1 else ''} over {len(placed)} database"
          f"{'s' if len(placed) != 1 else ''}):")
    _print_table([{"plan": (x["fingerprint"] or "-")[:12], "approved": "yes" if x["approved"] else "no",
                   "operations": x["operations"] if x["operations"] is not None else "-",
                   "databases": len(x["databases"]),
                   "states": ", ".join(f"{n} {s}" for s, n in x["states"].items()),
                   "names": ", ".join(x["databases"][:4]) + (" ..." if len(x["databases"]) > 4 else "")} for x in g])
    print(f"\nDatabases ({len(placed)}):")
    _print_table([{"database": p.name, "wave": p.wave, "state": p.state, "plan": (p.fingerprint or "-")[:12],
                   "why": p.reason[:90]} for p in placed])
    held = [p.name for p in placed if p.state == "held"]
    runnable = [p for p in placed if p.runnable]
    if not approved:
        can = [x for x in g if x["fingerprint"] and "blocked" not in x["states"] and x["operations"]]
        if can:
            main = max(can, key=lambda x: len(x["databases"]))
            verdict("planned", f"no plan approved yet: review, then runbook fleet plan --approve "
                               f"{main['fingerprint'][:12]}", "warn")
        else:
            verdict("planned", "no database has a plan that could be approved (see why above)", "warn")
    else:
        verdict("planned", f"{len(runnable)} to run, {len(held)} held" +
                (f" ({', '.join(held[:4])})" if held else "") +
                f", {sum(p.state == 'blocked' for p in placed)} blocked, "
                f"{sum(p.state in ('migrated', 'already migrated') for p in placed)} done")
    return 0


def _show_report(a, inv, r) -> int:
    from ..fleet import state as fstate

    st = fstate.read(inv.state_file)
    counts = fstate.counts(st, [d.name for d in inv.databases])
    if a.json:
        _json({"run": r.run_id, "action": r.action, "ok": r.ok, "stopped": r.stopped, "ran": r.started,
               "dagster_run": r.dagster_run, "index": r.index, "counts": counts,
               "databases": {d.name: st["databases"].get(d.name, {}) for d in inv.databases}})
        return r.exit_code
    _status_table(inv, st)
    print(f"\nfleet page: {r.index}")
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if r.stopped:
        verdict("stopped", f"before wave {r.stopped['before_wave']}: {r.stopped['why']}; {parts}", "bad")
    elif not r.ok:
        verdict("failed", f"{r.action} of {len(r.started)} databases: {parts}", "bad")
    else:
        verdict("rolled back" if r.action == "rollback" else "done", parts)
    return r.exit_code


def cmd_fleet_run(a) -> int:
    from ..fleet.rollout import check

    inv = _inventory(a)
    check(inv)  # every URL variable and the profile, before anything connects
    _need_dagster()
    from ..fleet.rollout import run

    return _show_report(a, inv, run(inv, say=_quiet(a)))


def cmd_fleet_rollback(a) -> int:
    inv = _inventory(a)
    if not 1 <= a.wave <= len(inv.waves):
        raise BadInput(f"--wave {a.wave}: the inventory has waves 1 to {len(inv.waves)} (1 is the canary)")
    _need_dagster()
    from ..fleet.rollout import rollback

    return _show_report(a, inv, rollback(inv, a.wave, say=_quiet(a)))


def _status_table(inv, st) -> None:
    from ..fleet import state as fstate

    rows = []
    for d in inv.databases:
        e = st["databases"].get(d.name, {})
        why = " ".join(str(e.get("reason", "")).split())
        if fstate.orphaned(st, e):
            why = "its rollout's process is gone: `runbook fleet run` resumes it"
        rows.append({"database": d.name, "wave": inv.wave_of(d.name), "state": e.get("state", "pending"),
                     "plan": (e.get("fingerprint") or "-")[:12], "why": why[:70],
                     "archive": e.get("archive") or "-"})
    _print_table(rows)


def cmd_fleet_status(a) -> int:
    from ..fleet import state as fstate
    from ..fleet.page import verdict_of

    inv = _inventory(a)
    st = fstate.read(inv.state_file)
    counts = fstate.counts(st, [d.name for d in inv.databases])
    last = st["runs"][-1] if st["runs"] else None
    word, headline = verdict_of(counts, last)
    if a.json:
        _json({"inventory": str(inv.path), "state_file": str(inv.state_file), "verdict": word, "counts": counts,
               "last_run": last, "approved": st.get("approved", []),
               "databases": [{"name": d.name, "wave": inv.wave_of(d.name), "tags": d.tags, "state": "pending",
                              **st["databases"].get(d.name, {}),
                              "orphaned": fstate.orphaned(st, st["databases"].get(d.name, {}))}
                             for d in inv.databases]})
        return 0
    print(f"fleet {inv.path.name}: {len(inv.databases)} databases, {len(inv.waves)} waves; state {inv.state_file}")
    _status_table(inv, st)
    verdict(word, headline, {"migrated": "ok", "failed": "bad"}.get(word, "warn"))
    return 0


def cmd_fleet_demo(a) -> int:
    _need_dagster()
    from ..fleet.demo import build_demo
    from ..fleet.planning import approvals, groups, place_all
    from ..fleet import state as fstate
    from ..fleet.rollout import run

    say = _quiet(a)
    inv = build_demo(Path(a.dir), Path(a.out), databases=a.databases, messages=a.messages, runner=a.runner,
                     concurrency=a.concurrency, say=say)
    placed = place_all(inv)
    for g in groups(placed, approvals(inv, fstate.read(inv.state_file))):
        say(f"plan {(g['fingerprint'] or '-')[:12]}: {len(g['databases'])} databases "
            f"({', '.join(f'{n} {s}' for s, n in g['states'].items())})")
    code = _show_report(a, inv, run(inv, say=say))
    if not a.json:
        print(f"inventory {inv.path}; `runbook fleet status --inventory {inv.path}` reads where it stands; "
              f"the URL variables are in {inv.path.parent / 'env.sh'}")
        print(f"the embedded PostgreSQL is still running (data in {a.dir}); stop it with: "
              f"runbook demo-db --stop --dir {a.dir}")
    return code


def add_commands(sub) -> None:
    """``runbook fleet ...`` (called by :func:`runbook.cli.build_parser`)."""
    from ..options import arg_count, arg_path

    fp = sub.add_parser("fleet", help="one rename across many databases: canary, waves, failure budget, resume "
                                      "(on Dagster: pip install runbook[fleet])")
    fsub = fp.add_subparsers(dest="fleet_command", metavar="FLEET_COMMAND", required=True)

    def inventory(sp):
        sp.add_argument("--inventory", type=arg_path, default="fleet.toml", metavar="FILE", help=INVENTORY_HELP)
        sp.add_argument("--json", action="store_true", help="print JSON only (same exit codes)")

    sp = fsub.add_parser("plan", help="every database's plan fingerprint, grouped; held and blocked databases "
                                      "listed (read-only, but --approve records an approval)")
    inventory(sp)
    sp.add_argument("--approve", metavar="FINGERPRINT",
                    help="approve this plan (12+ hex characters of its fingerprint): the databases whose plan it "
                         "is will run; recorded in the fleet's state file")
    sp.set_defaults(func=cmd_fleet_plan)

    sp = fsub.add_parser("run", help="the waves through Dagster: canary first, stop when the failure budget is "
                                     "spent, resume skipping what is done")
    inventory(sp)
    sp.set_defaults(func=cmd_fleet_run)

    sp = fsub.add_parser("status", help="each database's state from the fleet's state file (no database, no Dagster)")
    inventory(sp)
    sp.set_defaults(func=cmd_fleet_status)

    sp = fsub.add_parser("rollback", help="undo one wave: every database of it the fleet migrated")
    inventory(sp)
    sp.add_argument("--wave", type=arg_count(1, 10_000), required=True, metavar="N",
                    help="the wave to undo (1 is the canary)")
    sp.set_defaults(func=cmd_fleet_rollback)

    sp = fsub.add_parser("demo", help="20 tenant databases on the embedded server in varied states, rolled out "
                                      "in three waves, in-process")
    sp.add_argument("--dir", default=os.environ.get("RUNBOOK_DEMO_DIR", ".runbook/demo"),
                    help="the embedded server's folder (default .runbook/demo)")
    sp.add_argument("--out", type=arg_path, default="outputs/fleet-demo", metavar="DIR",
                    help="where the inventory, the state file, the archives and index.html go "
                         "(default outputs/fleet-demo)")
    sp.add_argument("--databases", type=arg_count(10, 200), default=20, help="tenant databases (default 20)")
    sp.add_argument("--messages", type=arg_count(10, 1_000_000), default=500,
                    help="messages in each tenant's reference database (default 500)")
    sp.add_argument("--runner", choices=["engine", "notebooks"], default="engine",
                    help="engine (default: runbook migrate + verify per database, seconds each) or notebooks "
                         "(runbook run's pipeline per database, about 30 s each)")
    sp.add_argument("--concurrency", type=arg_count(1, 16), default=1,
                    help="databases at a time (default 1: in-process; more: Dagster's multiprocess executor)")
    sp.add_argument("--json", action="store_true", help="print JSON only (same exit codes)")
    sp.set_defaults(func=cmd_fleet_demo)
