"""The rollout as a Dagster job: one op per database, a gate op before each wave.

::

    gate_1 -> w1_<canary> ... -> gate_2 -> w2_<db> w2_<db> ... -> gate_3 -> ...

Each database op runs :func:`runbook.fleet.worker.run_one` (the pipeline of ``runbook
run``, or the engine) and returns its outcome; it fails only on a fault of the fleet
itself. Each gate op reads the outcomes of this run from the state file and raises
:class:`dagster.Failure` when the failure budget is spent: Dagster then skips every op
after it, so no database of a later wave is touched. The concurrency is Dagster's:
one database at a time runs in-process (``execute_in_process``); more run on Dagster's
multiprocess executor (``max_concurrent``, and ``tag_concurrency_limits`` on the
``runbook/server`` tag for ``concurrency_per_server``), the same job the Kubernetes
executor runs one pod per op (docs/fleet.md). Runs are recorded in a Dagster instance in
``<output_dir>/dagster`` (``DAGSTER_HOME`` for ``dagster dev``, which shows them).

This module imports dagster: only ``runbook fleet run``/``rollback``/``demo`` load it.
"""

from __future__ import annotations

import json
import os
import re

import dagster as dg

from . import state as fstate
from .inventory import load_inventory

__all__ = ["build_job", "job_from_spec", "execute"]


def _op_name(wave: int, name: str, taken: set[str]) -> str:
    base = f"w{wave}_" + re.sub(r"\W", "_", name)
    n, out = 2, base
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    taken.add(out)
    return out


def _db_op(spec: dict, wave: int, db: dict, name: str):
    tags = {"runbook/database": db["name"], "runbook/wave": str(wave)}
    if db.get("server"):
        tags["runbook/server"] = db["server"]

    @dg.op(name=name, ins={"after": dg.In(dg.Nothing)}, tags=tags,
           description=f"{spec['action']} database {db['name']} (wave {wave})")
    def database_op(context) -> dict:
        from .worker import run_one

        out = run_one(spec["inventory"], db["name"], db.get("fingerprint"), spec["run"], spec["action"])
        context.add_output_metadata({"state": out.get("state"), "reason": str(out.get("reason", ""))[:500],
                                     "archive": str(out.get("archive") or "")})
        context.log.info(f"{db['name']}: {out.get('state')}: {out.get('reason')}")
        return out

    return database_op


def _gate_op(spec: dict, wave: int):
    label = spec["labels"][wave - 1]

    @dg.op(name=f"gate_{wave}", ins={"after": dg.In(dg.Nothing)},
           description=f"before wave {wave} ({label}): stop when the failure budget is spent")
    def gate(context) -> None:
        if wave == 1:
            return
        inv = load_inventory(spec["inventory"])
        st = fstate.read(inv.state_file)
        mine = [o for o in st.get("outcomes", []) if o["run"] == spec["run"]]
        failed = [o["database"] for o in mine if o["state"] in fstate.FAILED]
        wave_names = {d["name"] for d in spec["waves"][wave - 2]}
        prev = [o for o in mine if o["database"] in wave_names]
        why = inv.budget.spent(len(failed), sum(o["state"] in fstate.FAILED for o in prev), len(prev))
        if why:
            with fstate.update(inv.state_file) as s:
                for r in s["runs"]:
                    if r["id"] == spec["run"]:
                        r["stopped"] = {"before_wave": wave, "why": why, "failed": failed}
            raise dg.Failure(description=f"failure budget spent before wave {wave}: {why} "
                                         f"({', '.join(failed[:5])}); waves {wave}.. not started")
        context.log.info(f"wave {wave} ({label}) may start: {len(failed)} failed so far")

    return gate


def build_job(spec: dict) -> dg.JobDefinition:
    """The job for ``spec``: {inventory, run, action, labels, waves: [[{name, fingerprint,
    server}]], concurrency}; every wave is listed, an empty one too (its gate still runs)."""
    taken: set[str] = set()
    multi = spec.get("concurrency", 1) > 1

    @dg.job(name=f"fleet_{spec['action']}", executor_def=dg.multiprocess_executor if multi else dg.in_process_executor,
            tags={"runbook/run": spec["run"]},
            description=f"runbook fleet {spec['action']}: {sum(map(len, spec['waves']))} databases in "
                        f"{len(spec['waves'])} waves")
    def fleet():
        after = []
        for i, wave in enumerate(spec["waves"], 1):
            g = _gate_op(spec, i)(after=after) if after else _gate_op(spec, i)()
            after = [g] + [_db_op(spec, i, d, _op_name(i, d["name"], taken))(after=g) for d in wave]

    return fleet


def job_from_spec(spec_json: str) -> dg.JobDefinition:
    """What a multiprocess child rebuilds (``build_reconstructable_job``)."""
    return build_job(json.loads(spec_json))


def instance(folder) -> dg.DagsterInstance:
    """The Dagster instance of this fleet (sqlite, in ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    yml = folder / "dagster.yaml"
    if not yml.exists():  # no telemetry; the runs, events and logs stay in the folder
        yml.write_text("telemetry:\n  enabled: false\n")
    return dg.DagsterInstance.from_config(str(folder))


_FORKSERVER_ENV: dict | None = None  # the environment the forkserver was started with


def _start_method() -> dict:
    """forkserver: each op's process is forked from one that imported dagster and runbook's
    engine once (a spawned one imports them again: seconds per op). That server keeps the
    environment of its start, and the URLs are in the environment: when this process runs a
    second rollout with another environment, its ops are spawned instead (never a stale URL)."""
    global _FORKSERVER_ENV
    env = dict(os.environ)
    if _FORKSERVER_ENV is None:
        _FORKSERVER_ENV = env
    if env != _FORKSERVER_ENV:
        return {"spawn": {}}
    return {"forkserver": {"preload_modules": ["dagster", "runbook.fleet.orchestrate", "runbook.fleet.worker",
                                               "runbook.api", "runbook.pipeline"]}}


def execute(spec: dict, folder, *, per_server: int | None = None, log_level: str = "INFO") -> tuple[bool, str | None]:
    """Run the job; (success, the Dagster run id)."""
    inst = instance(folder)
    logs = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if spec.get("concurrency", 1) <= 1:
        r = build_job(spec).execute_in_process(instance=inst, raise_on_error=False, run_config=logs)
        return r.success, r.run_id
    limits = ([{"key": "runbook/server", "value": {"applyLimitPerUniqueValue": True}, "limit": per_server}]
              if per_server else [])
    start = _start_method()
    cfg = {"execution": {"config": {"max_concurrent": spec["concurrency"], "tag_concurrency_limits": limits,
                                    "start_method": start}}, **logs}
    recon = dg.build_reconstructable_job("runbook.fleet.orchestrate", "job_from_spec",
                                         reconstructable_kwargs={"spec_json": json.dumps(spec)})
    with dg.execute_job(recon, instance=inst, run_config=cfg, raise_on_error=False) as r:
        return r.success, r.run_id
