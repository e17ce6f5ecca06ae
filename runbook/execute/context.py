"""What the parts of one run share: the database URL, the mapping and the options; the
run's id and its log file; the steps, timings and audit rows it has collected so far;
and the writes to its record (audit rows, its status in ``runbook.runs``)."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

from .. import state
from ..connection import connect
from ..mapping import Mapping
from . import audit
from .failures import failure_message, pg_message
from .options import Options
from .results import StepResult

log = logging.getLogger("runbook")


class RunLog:
    """``migration-log-<timestamp>.txt``: every step, with times; never a password."""

    def __init__(self, folder: str | Path, stamp: str):
        self.path = None
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.path = Path(folder) / f"migration-log-{stamp}.txt"
            self.fh = open(self.path, "a", encoding="utf-8")
        except OSError:
            self.fh = None

    def __call__(self, msg: str) -> None:
        line = f"{datetime.now(timezone.utc).isoformat(timespec='milliseconds')} {msg}"
        log.info(msg)
        if self.fh:
            self.fh.write(line + "\n")
            self.fh.flush()

    def close(self):
        if self.fh:
            self.fh.close()


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def progress(total: int, desc: str, enabled: bool):
    from ..progress import bar

    return bar(desc, total=total, unit="step", enabled=enabled)


class RunContext:
    """One run's shared facts and what it has collected."""

    def __init__(self, url: str, mapping: Mapping, opt: Options):
        self.url = url
        self.mapping = mapping
        self.opt = opt
        # not the global `random`: a caller that seeds it (a notebook, hypothesis) must not
        # get the same id twice
        self.run_id = f"{_stamp()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.log = RunLog(opt.log_dir, self.run_id.split("-")[0])
        self.steps: list[StepResult] = []
        self.timings: dict[str, float] = {}
        self.audit_rows: list[dict] = []

    def logname(self) -> str | None:
        return str(self.log.path) if self.log.path else None

    def timed(self, name: str, fn, *a, **kw):
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0

    def failure_message(self, exc: BaseException) -> str:
        return failure_message(exc, self.url)

    def audit_details(self, **details) -> dict:
        """An audit row's facts: which run, when, from which host, and ``details``."""
        return {"run_id": self.run_id, "at": datetime.now(timezone.utc).isoformat(), "host": socket.gethostname(),
                **details}

    def audit(self, conn, event: str, **details) -> None:
        at = self.mapping.audit_table
        alt = (self.mapping.final_name(at), self.mapping.old_name(at)) if at else ()
        self.audit_rows.append(audit.write(conn, self.mapping.schema, at, event, self.audit_details(**details),
                                           alternatives=alt))

    def audit_own_tx(self, event: str, **details) -> None:
        try:
            c = connect(self.url, application_name="runbook-audit", autocommit=False)
            try:
                self.audit(c, event, **details)
                c.commit()
            finally:
                c.close()
        except Exception as exc:  # the audit must never hide the real failure
            self.log(f"could not write the {event} audit row: {pg_message(exc)}")

    def set_status(self, status: str, summary: dict, run_id: str | None = None) -> None:
        try:
            c = connect(self.url, application_name="runbook-state", autocommit=True)
            try:
                if state.exists(c):
                    state.set_status(c, run_id or self.run_id, status, summary)
            finally:
                c.close()
        except Exception:
            pass
