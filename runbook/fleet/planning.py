"""``runbook fleet plan``: every database's plan fingerprint and where it stands, read-only.

Each database is read with :func:`runbook.status.status` (one read-only transaction) and,
when its tables still have their old names, :func:`runbook.api.plan`. It is then

* ``pending``: its plan's fingerprint is approved (it runs in its wave);
* ``held``: its plan differs from every approved one (a tenant with an extra table or a
  function of its own), or it is half-migrated, interrupted or in use by another runbook
  run that the fleet did not start: listed for review, never run;
* ``blocked``: its plan has blockers (a target name taken ...);
* ``already migrated``: its tables have their new names and the fleet did not do it;
* ``migrated`` / ``failed`` / ``rolled back``: what an earlier rollout left (a failed
  or rolled-back database with an approved plan runs again).

A database the fleet left ``running`` (the orchestrator was killed) whose migration was
interrupted or committed without its finish steps is ``pending`` again with ``resume``:
``runbook migrate`` first undoes what the interrupted run left (or finishes the
committed one), then checks the approved fingerprint itself.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from ..errors import BadInput, RunbookError
from ..options import fingerprint_matches
from . import state as fstate
from .inventory import Inventory

__all__ = ["Placement", "urls", "place_all", "approvals"]


@dataclass(frozen=True)
class Placement:
    name: str
    wave: int
    state: str  # one of runbook.fleet.state.STATES
    fingerprint: str | None
    reason: str
    db_state: str | None  # runbook status's state
    operations: int | None = None
    resume: bool = False

    @property
    def runnable(self) -> bool:
        return self.state in ("pending", "failed", "rolled back")

    def to_dict(self) -> dict:
        return asdict(self)


def urls(inv: Inventory, names=None) -> dict[str, str]:
    """Each database's URL from its environment variable; refused, before anything
    connects, when one is unset (the message names the variable, never a URL)."""
    out, missing = {}, []
    for d in inv.databases:
        if names is not None and d.name not in names:
            continue
        v = (os.environ.get(d.url_env) or "").strip()
        if v:
            out[d.name] = v
        else:
            missing.append(f"{d.url_env} ({d.name})")
    if missing:
        raise BadInput(f"{len(missing)} database URL variable(s) not set: {', '.join(missing[:3])}"
                       f"{' ...' if len(missing) > 3 else ''}")
    return out


def approvals(inv: Inventory, st: dict) -> list[str]:
    """The approved fingerprints: the inventory's ``approved`` and ``fleet plan --approve``'s."""
    return list(dict.fromkeys([*inv.approved, *(a["fingerprint"] for a in st.get("approved", []))]))


def _approved(fp: str, approved: list[str]) -> bool:
    return any(fingerprint_matches(a, fp) for a in approved)


def place(inv: Inventory, name: str, url: str, prev: dict, approved: list[str]) -> Placement:
    from .. import api
    from ..connection import scrub
    from ..status import status

    wave = inv.wave_of(name)
    try:
        st = status(url, inv.mapping)
        if st.state == "migrated":
            if prev.get("state") in ("running", "failed") and st.last_run and st.last_run.status == "committed":
                return Placement(name, wave, "pending", prev.get("fingerprint"),
                                 "resumes the fleet's run: committed, not verified yet", st.state, resume=True)
            if prev.get("state") in ("migrated", "running"):
                return Placement(name, wave, "migrated", prev.get("fingerprint"), "migrated by the fleet", st.state)
            return Placement(name, wave, "already migrated", None, st.verdict, st.state)
        if st.state in ("interrupted", "half-migrated"):
            if prev.get("state") in ("running", "failed"):
                return Placement(name, wave, "pending", prev.get("fingerprint"),
                                 f"resumes the fleet's interrupted run ({st.state})", st.state, resume=True)
            return Placement(name, wave, "held", None, f"{st.verdict} (not started by this fleet: review it)",
                             st.state)
        if st.state in ("running", "inconsistent"):
            return Placement(name, wave, "held", None, st.verdict, st.state)
        p = api.plan(url, inv.mapping)
    except RunbookError as exc:
        return Placement(name, wave, "held", None, f"cannot be read: {scrub(str(exc), url)}", None)
    if p.blockers:
        b = p.blockers[0]
        more = f" (and {len(p.blockers) - 1} more)" if len(p.blockers) > 1 else ""
        return Placement(name, wave, "blocked", p.fingerprint,
                         scrub(f"{b.code} {b.kind}: {b.object}: {b.reason}{more}", url), st.state, len(p.ops))
    if p.empty:
        return Placement(name, wave, "already migrated", p.fingerprint, "the plan is empty", st.state, 0)
    if not _approved(p.fingerprint, approved):
        return Placement(name, wave, "held", p.fingerprint,
                         f"plan {p.fingerprint[:12]} is not approved (review it, then "
                         f"`runbook fleet plan --approve {p.fingerprint[:12]}`)", st.state, len(p.ops))
    shown = prev.get("state") if prev.get("state") in ("failed", "rolled back") else "pending"
    return Placement(name, wave, shown, p.fingerprint, "approved plan", st.state, len(p.ops))


def place_all(inv: Inventory, *, workers: int = 4, record: bool = True) -> list[Placement]:
    """Every database placed (in the inventory's order); recorded in the state file
    (databases a rollout is running are left as they are)."""
    found = urls(inv)
    st = fstate.read(inv.state_file)
    approved = approvals(inv, st)
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(found)))) as pool:
        placed = list(pool.map(lambda d: place(inv, d.name, found[d.name], st["databases"].get(d.name, {}), approved),
                               inv.databases))
    if record:
        with fstate.update(inv.state_file) as s:
            for p in placed:
                e = s["databases"].setdefault(p.name, {})
                if e.get("state") != p.state:
                    s["events"].append({"at": fstate.now(), "database": p.name, "state": p.state, "run": None})
                e.update(wave=p.wave, state=p.state, fingerprint=p.fingerprint or e.get("fingerprint"),
                         reason=p.reason, db_state=p.db_state, tags=inv.database(p.name).tags,
                         url_env=inv.database(p.name).url_env)
    return placed


def groups(placed: list[Placement], approved: list[str]) -> list[dict]:
    """The databases grouped by plan fingerprint (None: no plan to run)."""
    out: dict = {}
    for p in placed:
        g = out.setdefault(p.fingerprint, {"fingerprint": p.fingerprint, "databases": [], "states": {},
                                           "approved": bool(p.fingerprint and _approved(p.fingerprint, approved)),
                                           "operations": p.operations})
        g["databases"].append(p.name)
        g["states"][p.state] = g["states"].get(p.state, 0) + 1
    return sorted(out.values(), key=lambda g: (-len(g["databases"]), g["fingerprint"] or ""))
