"""One database of a rollout: the same pipeline as ``runbook run`` (runner ``notebooks``),
or ``runbook migrate``'s engine with its verification (runner ``engine``), each in an
archive folder of its own under ``<output_dir>/databases/<name>/``.

A Dagster op calls :func:`run_one`; it never raises for a database that failed (the
outcome is data, recorded in the state file, and the failure budget reads it there):
only a fault of the fleet itself fails the op.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from . import state as fstate
from .inventory import Inventory, load_inventory

__all__ = ["run_one", "archive_root"]

#: the pipeline's verdict -> the fleet's state
_VERDICT = {"migrated": "migrated", "nothing to do": "migrated", "refused": "held", "blocked": "blocked",
            "planned": "failed", "failed": "failed", "verification failed": "failed", "rolled back": "failed",
            "rollback failed": "failed"}


def archive_root(inv: Inventory, name: str) -> Path:
    return inv.output_dir / "databases" / name


def _folder(root: Path, what: str, fp: str | None) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")[:-4]
    f = root / what / f"{stamp}-{(fp or 'none')[:12]}"
    f.mkdir(parents=True, exist_ok=False)
    return f


def run_one(inventory: str, name: str, fingerprint: str | None, run_id: str, action: str = "migrate") -> dict:
    """Migrate (or roll back) the database ``name``; its outcome, also in the state file."""
    inv = load_inventory(inventory)
    db = inv.database(name)
    url = (os.environ.get(db.url_env) or "").strip()
    started = fstate.now()
    t0 = time.monotonic()
    prev = fstate.read(inv.state_file)["databases"].get(name, {})
    fstate.set_database(inv.state_file, name, state="running", run=run_id, started_at=started, action=action,
                        finished_at=None, reason=f"{action} in progress")
    try:
        if not url:
            out = {"state": "failed", "reason": f"{db.url_env} is not set"}
        elif action == "rollback":
            out = _rollback(inv, name, url, fingerprint)
        elif inv.runner == "notebooks":
            out = _pipeline(inv, name, url, fingerprint)
        else:
            out = _engine(inv, name, url, fingerprint)
    except Exception as exc:  # a fault of the fleet around the database: recorded, the op still ends
        from ..connection import scrub

        out = {"state": "failed", "reason": scrub(f"the fleet's worker failed: {type(exc).__name__}: {exc}", url),
               "trace": scrub(traceback.format_exc(limit=5), url)}
    if action == "rollback" and out["state"] != "rolled back":
        out["reason"] = f"rollback failed, still migrated: {out['reason']}"
        out["state"] = "migrated" if out.get("unchanged", True) else "failed"
        out["rollback_failed"] = True
    out.update(seconds=round(time.monotonic() - t0, 3), finished_at=fstate.now(), run=run_id,
               fingerprint=fingerprint or prev.get("fingerprint"))
    out.pop("unchanged", None)
    if out.get("archive"):
        out["archive"] = os.path.relpath(out["archive"], inv.output_dir)
    entry = fstate.set_database(inv.state_file, name, **{k: v for k, v in out.items() if k != "trace"})
    with fstate.update(inv.state_file) as st:
        st.setdefault("outcomes", []).append({"database": name, "run": run_id, "action": action,
                                              "state": out["state"], "started_at": started,
                                              "finished_at": out["finished_at"], "seconds": out["seconds"]})
    return entry


def _pipeline(inv: Inventory, name: str, url: str, fp: str | None) -> dict:
    """``runbook run --env <environment> --execute`` for this database, its output in a log file."""
    from ..pipeline import run_pipeline

    root = archive_root(inv, name)
    root.mkdir(parents=True, exist_ok=True)
    overrides = _profile_overrides(inv)
    with open(root / "pipeline-log.txt", "a", encoding="utf-8") as log:
        o = run_pipeline(inv.environment, profile=inv.profile, overrides=overrides, dry_run=False,
                         database_url_env=inv.database(name).url_env, output_dir=root,
                         approved_fingerprint=fp, mapping=inv.mapping, out=log, err=log)
    state = _VERDICT.get(o.verdict, "failed")
    if o.verdict == "nothing to do":
        reason = "already in the target state"
    else:
        reason = o.message or o.verdict
    folder = o.folder / "index.html" if o.folder else None
    return {"state": state, "verdict": o.verdict, "reason": reason, "archive": str(folder) if folder else None,
            "exit_code": o.exit_code}


def _profile_overrides(inv: Inventory) -> dict:
    o: dict = {}
    if inv.lock_timeout:
        o["lockTimeout"] = inv.lock_timeout
    if inv.statement_timeout:
        o["statementTimeout"] = inv.statement_timeout
    if inv.attempts:
        o["attempts"] = inv.attempts
    o["autoBackup"] = inv.backup
    return o


def _engine_options(inv: Inventory, folder: Path) -> dict:
    opts = dict(backup=inv.backup, backup_dir=str(folder), log_dir=str(folder), progress=False)
    if inv.lock_timeout:
        opts["lock_timeout"] = inv.lock_timeout
    if inv.statement_timeout:
        opts["statement_timeout"] = inv.statement_timeout
    if inv.attempts:
        opts["attempts"] = inv.attempts
    return opts


def _write_summary(folder: Path, url: str, summary: dict) -> Path:
    from ..connection import redact, scrub

    summary = {"runbook_fleet_database": 1, "database": redact(url), **summary}
    path = folder / "summary.json"
    path.write_text(scrub(json.dumps(summary, indent=2, default=str), url) + "\n", encoding="utf-8")
    return path


def _engine(inv: Inventory, name: str, url: str, fp: str | None) -> dict:
    """``runbook migrate --approved-fingerprint FP`` (backup, lock window, verification;
    a failed verification rolls back), its summary and log in the archive folder."""
    from .. import api
    from ..connection import scrub
    from ..errors import RunbookError

    folder = _folder(archive_root(inv, name), "migrate", fp)
    try:
        r = api.migrate(url, inv.mapping, approved_fingerprint=fp, **_engine_options(inv, folder))
    except RunbookError as exc:
        msg = scrub(str(exc), url)
        refused = exc.exit_code == 2  # nothing was changed: held for review
        path = _write_summary(folder, url, {"status": "refused" if refused else "failed", "error": msg,
                                            "kind": exc.kind, "exit_code": exc.exit_code})
        return {"state": "held" if refused else "failed", "verdict": "refused" if refused else "failed",
                "reason": msg, "archive": str(path), "exit_code": exc.exit_code}
    path = _write_summary(folder, url, r.summary())
    if r.status in ("migrated", "nothing to do"):
        v = r.verification
        why = (f"verified {sum(c.ok for c in v.checks)}/{len(v.checks)} checks; locks held "
               f"{r.lock_window_s * 1000:.1f} ms" if v is not None else r.message or r.status)
        return {"state": "migrated", "verdict": r.status, "reason": why, "archive": str(path), "exit_code": 0,
                "lock_window_s": r.lock_window_s}
    return {"state": "failed", "verdict": r.status, "reason": scrub(r.message or r.status, url), "archive": str(path),
            "exit_code": 1}


def _rollback(inv: Inventory, name: str, url: str, fp: str | None) -> dict:
    """``runbook rollback --drop-added-columns``: the stored plan reversed, the added columns
    dropped (dumped first) so that the database is back at the schema the approved plan
    was made for."""
    from .. import api
    from ..connection import scrub
    from ..errors import RunbookError

    folder = _folder(archive_root(inv, name), "rollback", fp)
    try:
        r = api.rollback(url, inv.mapping, drop_added_columns=True, **_engine_options(inv, folder))
    except RunbookError as exc:
        msg = scrub(str(exc), url)
        path = _write_summary(folder, url, {"status": "failed", "error": msg, "kind": exc.kind})
        return {"state": "failed", "reason": msg, "archive": str(path), "unchanged": True}
    path = _write_summary(folder, url, r.summary())
    ok = r.status == "rolled back"
    return {"state": "rolled back" if ok else "failed", "reason": "rolled back" if ok else scrub(r.message, url),
            "archive": str(path), "unchanged": not ok}
