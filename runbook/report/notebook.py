"""The notebooks' plumbing: the session's defaults (:func:`setup`), where the database and
the outputs are (:func:`database_url`, :func:`output_folder`; only :func:`database_url`
may start the embedded demo server), the run's context table, the results saved as JSON
for the pipeline (:func:`save`), and :func:`raise_for_failed`, which fails the notebook
when the verification failed.

No URL is ever displayed as is: :class:`DatabaseURL` shows itself redacted.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from dataclasses import asdict, is_dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from .._version import __version__
from ..connection import redact
from ..demo.database import demo_dir, demo_server, project_root
from ..errors import BadInput, RollbackFailed, VerificationFailed
from .display import Table, kv
from .results import verification_of
from .tables import verdict

with warnings.catch_warnings():
    # Without ipywidgets, tqdm.auto warns once and falls back to text bars, which show
    # in the notebook, in its HTML and, streamed by papermill, on the terminal.
    warnings.simplefilter("ignore")
    import tqdm.auto  # noqa: F401

__all__ = ["setup", "database_url", "DatabaseURL", "output_folder", "project_root", "demo_dir", "context",
           "to_dict", "save", "save_scripts", "MIGRATION_SQL", "ROLLBACK_SQL", "raise_for_failed"]

MIGRATION_SQL, ROLLBACK_SQL = "migration.sql", "rollback.sql"


class DatabaseURL(str):
    """A database URL that displays itself redacted (``repr``, IPython), so that a cell
    ending in ``url`` cannot put a password into a notebook. The value is unchanged."""

    def __repr__(self) -> str:
        return repr(redact(str(self)))

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(repr(self))


def database_url(env_var: str = "DATABASE_URL", *, allow_demo: bool = True, demo_messages: int = 10000) -> DatabaseURL:
    """The URL held by the environment variable named ``env_var``.

    When it is unset or empty and ``allow_demo``, the embedded demo server is started
    (or reused) and its password-less socket URL returned, so a notebook opened with no
    parameters runs top to bottom.
    """
    url = (os.environ.get(env_var) or "").strip()
    if url:
        return DatabaseURL(url)
    if not allow_demo:
        raise BadInput(f"no database URL: the environment variable {env_var} is not set")
    info = demo_server(demo_dir(), messages=demo_messages)
    return DatabaseURL(info["url"])


def output_folder(path: str = "") -> Path:
    """The folder a notebook writes its results to: ``path``, or ``<project>/outputs/notebooks``."""
    folder = Path(path) if path else project_root() / "outputs" / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder.absolute()


def setup(verbose: bool = True) -> None:
    """Notebook defaults: the engine's log lines on stdout when ``verbose`` (papermill
    streams them to the terminal), every table row shown, and queries that an interrupt
    cancels on the server.

    psycopg2 waits for a query in C, where a kernel interrupt (JupyterLab's stop button,
    papermill's cell timeout) cannot reach it; with ``wait_select`` the wait is a Python
    loop that sends the server a cancel request on the interrupt, so a query blocked on a
    lock ends at once and the engine rolls back as after any failed statement.
    """
    import psycopg2.extensions
    import psycopg2.extras

    psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)
    log = logging.getLogger("runbook")
    log.setLevel(logging.INFO if verbose else logging.WARNING)
    if not any(getattr(h, "_runbook", False) for h in log.handlers):
        h = logging.StreamHandler(sys.stdout)  # stdout: plain text; stderr renders as an error
        h.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        h._runbook = True  # type: ignore[attr-defined]
        log.addHandler(h)
        log.propagate = False
    pd.set_option("display.max_rows", 500)
    pd.set_option("display.max_colwidth", 200)


def context(environment: str, url: str, database_url_env: str = "DATABASE_URL") -> Table:
    """Where and when this notebook runs (the URL redacted)."""
    source = f"${database_url_env}" if (os.environ.get(database_url_env) or "").strip() else "embedded demo server"
    return kv([("environment", environment), ("database", redact(str(url))), ("URL from", source),
                ("run at (UTC)", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")),
                ("runbook", __version__), ("python", sys.version.split()[0])], caption="Run context")


def to_dict(obj) -> dict:
    """The JSON form of an API result (Analysis, RunResult, Verification, dict)."""
    if hasattr(obj, "plan") and hasattr(obj, "at_risk"):  # Analysis
        return obj.to_dict()
    if hasattr(obj, "summary") and hasattr(obj, "run_id"):  # RunResult
        d = obj.summary()
        d["audit_rows"] = list(obj.audit_rows)
        return d
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if is_dataclass(obj):
        return asdict(obj)
    return dict(obj)


def save(obj, folder, name: str) -> Path:
    """Write ``obj`` as ``<folder>/<name>.json`` for the pipeline's summary."""
    path = Path(folder) / f"{name}.json"
    path.write_text(json.dumps(to_dict(obj), indent=2, default=str) + "\n")
    return path


def save_scripts(obj, folder, *, drop_added_columns: bool = False) -> tuple[Path, Path]:
    """Write the migration and rollback scripts of the plan of ``obj`` (an ``Analysis``: the
    plan reviewed; a ``RunResult``: the plan that ran) as ``<folder>/migration.sql`` and
    ``<folder>/rollback.sql``, exactly as :meth:`Plan.write_scripts` renders them, under a
    header saying whether the plan ran (a dry run or a blocked plan: what would have run)."""
    import tempfile

    plan = obj.plan
    note_ = _scripts_note(obj)
    with tempfile.TemporaryDirectory() as tmp:
        fwd, back = plan.write_scripts(tmp, drop_added=drop_added_columns)
        out = []
        for src, name in ((fwd, MIGRATION_SQL), (back, ROLLBACK_SQL)):
            dst = Path(folder) / name
            dst.write_text(f"-- runbook evidence: {note_}\n"
                           + src.read_text())
            out.append(dst)
    return out[0], out[1]


def _scripts_note(obj) -> str:
    """What the archived scripts are: the plan that ran, or what would have run, and why not."""
    if hasattr(obj, "at_risk"):  # Analysis
        if obj.plan.blockers or obj.dump_problems:
            return "the plan is BLOCKED and did not run; this is what would have run."
        return "the plan as analysed; it has NOT run (yet); this is what would run."
    if obj.status == "planned":
        return f"DRY RUN ({obj.run_id}): nothing was changed; this is what would have run."
    return f"the plan run {obj.run_id} executed ({obj.action}: {obj.status})."


def raise_for_failed(obj) -> HTML:
    """Raise when the verification (or the rollback's check) failed, so that papermill
    marks the notebook failed and the pipeline reacts; otherwise say it passed."""
    v = verification_of(obj)
    if hasattr(obj, "run_id") and getattr(obj, "status", "") == "failed":
        first = v.failed[0] if v is not None and v.failed else None
        raise RollbackFailed(f"{obj.action} {obj.run_id} failed" + (f": {first.name}: {first.detail}" if first else ""))
    if v is not None and not v.ok:
        first = v.failed[0]
        raise VerificationFailed(f"verification failed: {len(v.failed)} of {len(v.checks)} checks; "
                                 f"first: {first.name}: {first.detail}", failed=[c.name for c in v.failed])
    return verdict(obj)

