"""The fleet's state file (``<output_dir>/state.json``): where each database stands, the
approved plans, and every rollout run, written as the rollout goes.

``runbook fleet status`` reads only this file (no database, no Dagster). The ops of a
rollout may run in several processes (Dagster's multiprocess executor): every change is
a read-modify-write under an exclusive ``flock`` on ``state.json.lock``, written to a
temporary file, fsynced and renamed over the old one, so a reader or a killed writer
never sees half a file.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["STATES", "DONE", "FAILED", "now", "read", "update", "set_database", "counts"]

#: what ``runbook fleet status`` shows for a database
STATES = ("pending", "held", "blocked", "already migrated", "running", "migrated", "failed", "rolled back")
#: states a rollout does not run again
DONE = ("migrated", "already migrated")
#: outcomes that spend the failure budget
FAILED = ("failed",)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _empty() -> dict:
    return {"runbook_fleet": 1, "approved": [], "databases": {}, "runs": [], "events": []}


def read(path: Path) -> dict:
    """The state (an empty one when there is no file yet)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _empty()
    for k, v in _empty().items():
        data.setdefault(k, v)
    return data


@contextmanager
def update(path: Path):
    """``with update(p) as st:`` change ``st`` in place; written atomically at the end."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        st = read(path)
        yield st
        st["updated_at"] = now()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(st, f, indent=2, default=str)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


def set_database(path: Path, name: str, **fields) -> dict:
    """Merge ``fields`` into the database's entry; a change of ``state`` is also an event
    (the rollout chart is drawn from the events)."""
    with update(path) as st:
        entry = st["databases"].setdefault(name, {})
        if "state" in fields and fields["state"] != entry.get("state"):
            st["events"].append({"at": now(), "database": name, "state": fields["state"],
                                 "run": fields.get("run") or entry.get("run")})
        entry.update(fields)
        return dict(entry)


def counts(st: dict, names) -> dict[str, int]:
    """How many of the databases ``names`` are in each state (``pending`` before any plan)."""
    out = {s: 0 for s in STATES}
    for n in names:
        out[st["databases"].get(n, {}).get("state", "pending")] += 1
    return out


def orphaned(st: dict, entry: dict) -> bool:
    """A database left ``running`` by a rollout whose orchestrator process is gone (on
    this host; one elsewhere cannot be told)."""
    import socket

    if entry.get("state") != "running":
        return False
    run = next((r for r in st.get("runs", []) if r["id"] == entry.get("run")), None)
    if run is None or run.get("finished_at"):
        return True
    if run.get("host") != socket.gethostname() or not run.get("pid"):
        return False
    try:
        os.kill(run["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextmanager
def exclusive_run(path: Path):
    """Held for the whole of a rollout (or rollback) of this state file: a second one is
    refused while it runs. A ``flock``: the kernel drops it when the process dies."""
    from ..errors import WrongState

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".run-lock"), "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            who = f.read().strip() or "another process"
            raise WrongState(f"another fleet run or rollback of {path.parent} is in progress ({who}); "
                                "nothing was started") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}")
        f.flush()
        yield
