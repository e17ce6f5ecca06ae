"""``runbook fleet run`` and ``runbook fleet rollback --wave N``: check everything, place
every database (:mod:`.planning`), then hand the waves to Dagster (:mod:`.orchestrate`).

Resuming is placing again: a database the fleet migrated is ``migrated`` (skipped), one
it left ``running`` when the orchestrator died is resumed (the engine undoes or finishes
what the dead run left), a failed one with an approved plan runs again.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..errors import BadInput, WrongState
from . import state as fstate
from .inventory import Inventory
from .planning import Placement, approvals, place_all, urls

__all__ = ["Report", "run", "rollback"]


@dataclass
class Report:
    run_id: str
    action: str
    ok: bool
    stopped: dict | None
    placed: list[Placement]
    started: list[str] = field(default_factory=list)
    dagster_run: str | None = None
    index: str | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def _run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")[:-4]


def check(inv: Inventory) -> None:
    """What can be refused before anything connects: every URL variable set, the
    profile of the notebooks' pipeline valid (``runbook run``'s own preflight)."""
    urls(inv)
    if inv.runner == "notebooks":
        from ..pipeline.profiles import load_profile, preflight
        from .worker import _profile_overrides

        preflight(inv.environment, load_profile(inv.environment, inv.profile, _profile_overrides(inv)), dry_run=False)


def _server(url: str) -> str:
    """host:port of a URL (for the per-server limit), never its credentials."""
    from ..connection import parse

    p = parse(url)
    return f"{p.get('host') or 'local'}:{p.get('port') or '5432'}"


def _record_run(inv: Inventory, run_id: str, action: str, **fields) -> None:
    with fstate.update(inv.state_file) as st:
        for r in st["runs"]:
            if r["id"] == run_id:
                r.update(fields)
                return
        st["runs"].append({"id": run_id, "action": action, "started_at": fstate.now(), "pid": os.getpid(),
                           "host": socket.gethostname(), **fields})


def run(inv: Inventory, *, say=print) -> Report:
    check(inv)
    with fstate.exclusive_run(inv.state_file):
        return _run(inv, say)


def _run(inv: Inventory, say) -> Report:
    st = fstate.read(inv.state_file)
    if not approvals(inv, st):
        raise BadInput("no plan is approved: run `runbook fleet plan`, review it, then "
                       "`runbook fleet plan --approve FINGERPRINT` (or list it in the inventory's approved)")
    placed = place_all(inv, workers=max(2, inv.concurrency))
    found = urls(inv)
    run_id = _run_id()
    todo = {p.name: p for p in placed if p.runnable}
    waves = [[{"name": n, "fingerprint": todo[n].fingerprint, "server": _server(found[n])} for n in wave if n in todo]
             for wave in inv.waves]
    spec = {"inventory": str(inv.path), "run": run_id, "action": "migrate", "labels": list(inv.wave_labels),
            "waves": waves, "concurrency": inv.concurrency}
    _record_run(inv, run_id, "migrate", databases=sum(map(len, waves)))
    for i, (label, w) in enumerate(zip(inv.wave_labels, waves), 1):
        say(f"wave {i} ({label}): {len(w)} to run" + (f": {', '.join(d['name'] for d in w[:6])}"
                                                      f"{' ...' if len(w) > 6 else ''}" if w else ""))
    return _execute(inv, spec, placed, say)


def _execute(inv: Inventory, spec: dict, placed: list[Placement], say) -> Report:
    from .orchestrate import execute

    ok, dagster_run = (True, None)
    if any(spec["waves"]):
        ok, dagster_run = execute(spec, inv.output_dir / "dagster", per_server=inv.concurrency_per_server)
    st = fstate.read(inv.state_file)
    run = next(r for r in st["runs"] if r["id"] == spec["run"])
    mine = [o for o in st.get("outcomes", []) if o["run"] == spec["run"]]
    failed = [o["database"] for o in mine if o["state"] in fstate.FAILED or o.get("rollback_failed")]
    ok = ok and not failed
    _record_run(inv, spec["run"], spec["action"], finished_at=fstate.now(), dagster_run=dagster_run,
                outcome="ok" if ok else ("stopped" if run.get("stopped") else "failed"))
    from .page import write_index

    index = write_index(inv)
    return Report(spec["run"], spec["action"], ok, run.get("stopped"), placed, [o["database"] for o in mine],
                  dagster_run, str(index))


def rollback(inv: Inventory, wave: int, *, say=print) -> Report:
    """Undo wave ``wave`` (1 = the canary): every database of it the fleet migrated."""
    if not 1 <= wave <= len(inv.waves):
        raise BadInput(f"--wave {wave}: the inventory has waves 1 to {len(inv.waves)} (1 is the canary)")
    urls(inv, set(inv.waves[wave - 1]))
    with fstate.exclusive_run(inv.state_file):
        return _rollback(inv, wave, say)


def _rollback(inv: Inventory, wave: int, say) -> Report:
    st = fstate.read(inv.state_file)
    names = [n for n in inv.waves[wave - 1] if st["databases"].get(n, {}).get("state") == "migrated"]
    if not names:
        raise WrongState(f"wave {wave} has no database the fleet migrated (states: "
                         + ", ".join(f"{n} {st['databases'].get(n, {}).get('state', 'unknown')}"
                                     for n in inv.waves[wave - 1][:5]) + "); nothing was changed")
    run_id = _run_id()
    waves = [[] for _ in inv.waves]
    waves[wave - 1] = [{"name": n, "fingerprint": st["databases"][n].get("fingerprint")} for n in names]
    spec = {"inventory": str(inv.path), "run": run_id, "action": "rollback", "labels": list(inv.wave_labels),
            "waves": waves, "concurrency": 1}
    _record_run(inv, run_id, "rollback", wave=wave, databases=len(names))
    say(f"rollback of wave {wave} ({inv.wave_labels[wave - 1]}): {len(names)} database(s): {', '.join(names[:6])}"
        f"{' ...' if len(names) > 6 else ''}")
    return _execute(inv, spec, [], say)

