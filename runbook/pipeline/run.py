"""``runbook run``: the notebooks in order for one environment, and the archive of what ran.

Order of a run (:meth:`Pipeline.run`): the profile's preflight -> the database URL (or
the embedded demo database) -> plan fingerprint -> analysis -> approval gate
(production) -> maintenance commands -> execute -> verify -> rollback (if the
verification failed and the profile says so) -> maintenance commands -> health URL ->
summary, HTML, manifest -> Slack. A notebook that fails is still saved, with the error
at its top, and stops the run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..connection import password_of, redact, scrub
from ..errors import BadInput, RunbookError
from ..options import approved_fingerprint as _approved, fingerprint_matches
from .evidence import (MANIFEST, SUMMARY, archive_files, backup_evidence, find_staging_evidence, results_summary,
                       scrub_secrets, versions, write_manifest)
from .notebook import NOTEBOOKS, NotebookRun, mark_failed, notebooks_dir, run_notebook
from .pages import INDEX, index_html, to_html
from .notify import notify_slack, poll_health, run_commands
from .profiles import Profile, load_profile, preflight

__all__ = ["EXIT", "Outcome", "Pipeline", "run_pipeline"]

# verdict -> exit code: 0 done, 1 failed (and rolled back), 2 refused (nothing changed)
EXIT = {"migrated": 0, "planned": 0, "nothing to do": 0, "refused": 2, "blocked": 2, "failed": 1,
        "verification failed": 1, "rolled back": 1, "rollback failed": 1}


@dataclass
class Outcome:
    """What ``runbook run`` reports: the verdict, its exit code and the archive folder."""

    environment: str
    verdict: str
    folder: Path | None
    fingerprint: str | None
    message: str = ""
    problems: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        code = EXIT.get(self.verdict, 1)
        return 1 if code == 0 and self.problems else code


class Pipeline:
    """One run of the notebooks for ``env`` (:meth:`run`). ``folder`` is the run's archive,
    ``url`` its database URL (both set by :meth:`run`); ``runs``, ``problems`` and
    ``facts`` collect what the summary reports."""

    def __init__(self, env: str, profile: Profile, *, database_url_env: str = "DATABASE_URL",
                 output_dir: str | Path = "outputs", approved_fingerprint: str | None = None,
                 dry_run: bool | None = None, mapping: str | None = None, notebooks: str | Path | None = None,
                 out=None, err=None):
        self.env = env
        self.profile = profile
        self.url_env = database_url_env
        self.output_root = Path(output_dir).absolute()
        # malformed: refused here, before anything connects; a prefix must be 12+ hex
        self.approved = _approved(approved_fingerprint or None)
        self.dry_run = profile.dry_run_default if dry_run is None else dry_run
        self.mapping = str(Path(mapping).absolute()) if mapping else ""
        self.notebooks = Path(notebooks) if notebooks else notebooks_dir()
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.runs: list[NotebookRun] = []
        self.problems: list[str] = []
        self.facts: dict = {}
        self.url = ""
        self.fingerprint = ""  # the plan's at the start of the run
        self.folder: Path | None = None
        # HTML renders in the background while the next notebook's kernel starts and runs
        self._html = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runbook-html")
        self._html_jobs: dict[str, Future] = {}

    # -- helpers ---------------------------------------------------------------------------
    def say(self, msg: str) -> None:
        print(msg, file=self.out, flush=True)

    def _scrub(self, text: str) -> str:
        return scrub(text, self.url) if self.url else text

    def _load(self, name: str) -> dict | None:
        """What the notebook saved as ``<name>.json`` in the archive (None when it did not)."""
        try:
            return json.loads((self.folder / f"{name}.json").read_text())
        except (OSError, ValueError):
            return None

    # -- one notebook ------------------------------------------------------------------------
    def _params(self, name: str) -> dict:
        p = self.profile
        common = {"environment": self.env, "database_url_env": self.url_env, "mapping": self.mapping,
                  "output_dir": str(self.folder), "allow_demo": False, "verbose": p.verbose_logging}
        backup_dir = str(Path(p.backup_dir).absolute()) if p.backup_dir else ""
        drop = {"drop_added_columns": p.rollback_drop_added_columns}  # the archived rollback.sql is 04-rollback's
        if name == "01-analysis":
            return common | drop | {"backup_dir": backup_dir}
        if name == "02-execute":
            return common | drop | {"dry_run": self.dry_run, "approved_fingerprint": self.approved or "",
                             "auto_backup": p.auto_backup, "backup_mode": p.backup_mode, "backup_jobs": p.backup_jobs,
                             "backup_dir": backup_dir, "lock_timeout": p.lock_timeout,
                             "statement_timeout": p.statement_timeout, "attempts": p.attempts}
        if name == "03-verify":
            return common
        return common | {"drop_added_columns": p.rollback_drop_added_columns, "lock_timeout": p.lock_timeout,
                         "statement_timeout": p.statement_timeout, "attempts": p.attempts}

    def notebook(self, name: str) -> NotebookRun:
        """Run the notebook ``name`` into the archive; its HTML renders in the background."""
        src = self.notebooks / f"{name}.ipynb"
        dst = self.folder / f"{name}.ipynb"
        self.say(f"▶ {name}")
        t0 = time.monotonic()
        run = NotebookRun(name, "ok")
        error = run_notebook(src, dst, self._params(name), cell_timeout=self.profile.cell_timeout,
                             out=self.out, err=self.err)
        if error is not None:
            run.status = "failed"
            run.error = self._scrub(error)
        run.seconds = round(time.monotonic() - t0, 3)
        if run.status == "failed":
            mark_failed(dst, run.error or "failed", [("environment", self.env), ("database", redact(self.url)),
                                                      ("plan fingerprint", f"sha256:{self.fingerprint}")])
        if dst.exists():
            self._html_jobs[name] = self._html.submit(to_html, dst)
        self.say(f"{'✔' if run.status == 'ok' else '✘'} {name} {run.status} ({run.seconds:.1f}s)"
                 + (f": {run.error}" if run.error else ""))
        self.runs.append(run)
        return run

    # -- the gate ----------------------------------------------------------------------------
    def approval(self, fingerprint: str) -> str | None:
        """None when the run may execute; otherwise why not."""
        p = self.profile
        gate: dict = {"required": p.require_approval, "approved_fingerprint": self.approved}
        self.facts["approval"] = gate
        if not p.require_approval:
            return None
        if not self.approved:
            return (f"{self.env} requires approval: review 01-analysis and pass "
                    f"--approved-fingerprint {fingerprint}")
        gate["fingerprint_matches"] = fingerprint_matches(self.approved, fingerprint)
        if not gate["fingerprint_matches"]:
            return (f"the approved fingerprint {self.approved[:12]} is not the plan's ({fingerprint[:12]}): the "
                    "database or the mapping changed since the review; review 01-analysis again")
        if p.require_staging_evidence:
            return self._staging_gate(fingerprint, gate)
        return None

    def _staging_gate(self, fingerprint: str, gate: dict) -> str | None:
        """None when a verified archive of a successful staging run of this plan exists."""
        p = self.profile
        root = Path(p.staging_evidence_dir) if p.staging_evidence_dir else self.output_root / "staging"
        found, problems = find_staging_evidence(root, fingerprint)
        gate["staging_evidence"] = str(found) if found else None
        gate["staging_rejected"] = problems
        if found is None:
            why = f" ({'; '.join(problems[:3])})" if problems else ""
            return (f"no verified archive of a successful staging run of plan {fingerprint[:12]} under "
                    f"{root}{why}: run `runbook run --env staging` first")
        self.say(f"  staging evidence: {found} (manifest verified)")
        return None

    # -- the whole run -------------------------------------------------------------------------
    def run(self) -> Outcome:
        preflight(self.env, self.profile, dry_run=self.dry_run)
        started = datetime.now(timezone.utc)
        t_start = time.monotonic()
        with self._database():
            return self._run(started, t_start)

    @contextmanager
    def _database(self):
        """Set ``url`` from the environment variable; when it is unset and the profile
        allows, start the embedded demo database and put its URL in the variable for the
        kernels to inherit, until the run ends."""
        self.url = (os.environ.get(self.url_env) or "").strip()
        if self.url:
            yield
            return
        if not self.profile.use_demo_when_no_url:
            raise BadInput(f"no database URL: the environment variable {self.url_env} is not set")
        from ..demo.database import demo_dir, demo_server

        previous = os.environ.get(self.url_env)
        info = demo_server(demo_dir())
        self.url = info["url"]
        os.environ[self.url_env] = self.url  # the kernels inherit it
        self.say(f"{self.url_env} is not set: using the embedded demo database ({info['redacted']})")
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(self.url_env, None)
            else:
                os.environ[self.url_env] = previous

    def _run(self, started: datetime, t_start: float) -> Outcome:
        from .. import api

        plan = api.plan(self.url, self.mapping or None)
        fp = self.fingerprint = plan.fingerprint
        self.folder = self._new_folder(started, fp)
        self.say(f"runbook run --env {self.env}: plan sha256:{fp[:12]} ({len(plan.ops)} operations) on "
                 f"{redact(self.url)}; {'dry run' if self.dry_run else 'execute'}")
        self.say(f"archive: {self.folder}")
        verdict, message = self._all_notebooks(fp)
        return self._archive(fp, verdict, message, started, t_start)

    def _new_folder(self, started: datetime, fp: str) -> Path:
        """``<output>/<env>/<UTC timestamp>-<fingerprint, 12 hex>`` (``-2``, ``-3`` ... when taken)."""
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        base = self.output_root / self.env
        folder = base / f"{stamp}-{fp[:12]}"
        n = 2
        while folder.exists():
            folder = base / f"{stamp}-{fp[:12]}-{n}"
            n += 1
        folder.mkdir(parents=True)
        return folder

    def _all_notebooks(self, fp: str) -> tuple[str, str]:
        """The notebooks' verdict and message; a fault of the pipeline itself, or Ctrl-C,
        is a failed run whose evidence is still written."""
        try:
            return self._notebooks(fp)
        except KeyboardInterrupt:  # the evidence of what ran is still written
            return "failed", "interrupted (Ctrl-C)"
        except Exception as exc:  # a fault of the pipeline itself, not of a notebook
            return "failed", self._scrub(f"the pipeline failed: {type(exc).__name__}: {exc}")

    # -- the notebooks in order --------------------------------------------------------------------
    def _notebooks(self, fp: str) -> tuple[str, str]:
        """Run the notebooks in order; the verdict and a one-line message."""
        a = self.notebook("01-analysis")
        if a.status != "ok":
            return "failed", f"the analysis failed: {a.error}"
        fp_now = self._analysed_fingerprint(fp)
        blocked = self._blocked()
        if blocked:  # what the analysis says stops the run: nothing else runs, a dry run neither
            self.say(f"blocked: {blocked}")
            return "blocked", blocked
        if not self.dry_run:
            why = self.approval(fp_now)
            if why:
                self.say(f"refused: {why}")
                return "refused", why
        maintenance = self.profile.maintenance_mode and not self.dry_run
        self.facts["maintenance"] = {"enabled": maintenance}
        secrets = [s for s in (self.url, password_of(self.url)) if s]
        try:
            if maintenance:
                failed = self._maintenance_before(secrets)
                if failed:
                    return "failed", failed
            return self._execute_verify()
        finally:
            if maintenance:
                self._maintenance_after(secrets)
                self._health()

    def _blocked(self) -> str | None:
        """The analysis's blockers (the plan's, and a backup that cannot be taken), in one
        line; None when nothing stops the run."""
        analysis = self._load("analysis") or {}
        found = [f"{b.get('code', '')} {b.get('kind')}: {b.get('object')}: {b.get('reason')}".strip()
                 for b in analysis.get("plan", {}).get("blockers", [])]
        found += [f"RB403 the backup cannot be taken: {p}" for p in analysis.get("dump_problems", [])]
        if not found:
            return None
        more = f" (and {len(found) - 1} more: see 01-analysis)" if len(found) > 1 else ""
        return self._scrub(f"{len(found)} blocker(s) in the analysis: {found[0]}{more}")

    def _analysed_fingerprint(self, fp: str) -> str:
        """The fingerprint of the plan the analysis saw (a problem when not ``fp``, the start's)."""
        analysis = self._load("analysis") or {}
        fp_now = analysis.get("plan", {}).get("fingerprint", fp)
        if fp_now != fp:
            self.problems.append(f"the plan changed between the start ({fp[:12]}) and the analysis ({fp_now[:12]})")
        return fp_now

    def _execute_verify(self) -> tuple[str, str]:
        e = self.notebook("02-execute")
        if e.status != "ok":
            if e.error and e.error.startswith("VerificationFailed"):
                return "rolled back", f"the engine's verification failed and it rolled back: {e.error}"
            return "failed", e.error or "the execute notebook failed"
        status = (self._load("execute") or {}).get("status")
        if self.dry_run or status == "planned":
            return "planned", "dry run: nothing was changed"
        if status == "nothing to do" and not self._has_migration():
            return "nothing to do", "the database is already in the target state"
        return self._verify(status)

    def _verify(self, status: str | None) -> tuple[str, str]:
        """03-verify after the execute notebook ended with ``status``; 04-rollback when it
        fails and the profile says so."""
        v = self.notebook("03-verify")
        if v.status == "ok":
            return ("nothing to do" if status == "nothing to do" else "migrated"), (
                "already migrated; re-verified" if status == "nothing to do" else "")
        if not self.profile.rollback_on_failed_verification:
            return "verification failed", v.error or ""
        r = self.notebook("04-rollback")
        if r.status == "ok":
            return "rolled back", f"verification failed ({v.error}); the migration was rolled back"
        return "rollback failed", (f"verification failed ({v.error}) and the rollback failed ({r.error}): the schema "
                                   "needs manual repair")

    def _has_migration(self) -> bool:
        from .. import state
        from ..connection import connect

        conn = connect(self.url, application_name="runbook-pipeline", autocommit=True)
        try:
            return state.last_run(conn) is not None
        finally:
            conn.close()

    # -- maintenance -------------------------------------------------------------------------------
    def _maintenance_before(self, secrets: list[str]) -> str | None:
        """Run the profile's commands before the change; why the run stops, or None."""
        p = self.profile
        if not p.maintenance_before:
            return None
        self.say("maintenance: before")
        ok, done = run_commands(p.maintenance_before, timeout=p.command_timeout, secrets=secrets, out=self.out)
        self.facts["maintenance"]["before"] = done
        return None if ok else f"maintenance command failed before the change: {done[-1]['command']}"

    def _maintenance_after(self, secrets: list[str]) -> None:
        p = self.profile
        if not p.maintenance_after:
            return
        self.say("maintenance: after")
        ok, done = run_commands(p.maintenance_after, timeout=p.command_timeout, secrets=secrets, out=self.out)
        self.facts["maintenance"]["after"] = done
        if not ok:
            self.problems.append(f"maintenance command failed after the change: {done[-1]['command']}")

    def _health(self) -> None:
        p = self.profile
        if not p.health_url:
            return
        self.say(f"health: polling {p.health_url} (up to {p.health_timeout}s)")
        h = poll_health(p.health_url, p.health_timeout)
        self.facts["maintenance"]["health"] = h
        self.say(f"health: {'ok' if h['ok'] else 'FAILED'} after {h['seconds']:.1f}s "
                 f"({h.get('status') or h.get('error')})")
        if not h["ok"]:
            self.problems.append(f"health check {p.health_url} failed: {h.get('error')}")

    # -- the archive -------------------------------------------------------------------------------
    def _archive(self, fp: str, verdict: str, message: str, started: datetime, t_start: float) -> Outcome:
        """The evidence of the run: HTML, backup facts, summary, secrets guard, Slack, manifest."""
        self._collect_html()
        self._write_findings()
        self._mark_scripts(verdict, message)
        self.facts["backup"] = backup_evidence(self.folder, (self._load("execute") or {}).get("backup"))
        summary = self._summary(fp, verdict, message, started, t_start)
        self._write_summary(summary)
        leaks = scrub_secrets(self.folder, self.url)
        if leaks:
            summary["secrets_scrubbed"] = leaks
            self.problems.append(f"a secret was found and scrubbed in {', '.join(leaks)}")
        if self.profile.notify_slack:
            summary["notification"] = self._notify(fp, verdict)
        summary["problems"] = list(self.problems)
        self._write_summary(summary)
        self._write_index(summary)  # before the manifest, which covers it
        write_manifest(self.folder)
        outcome = Outcome(self.env, verdict, self.folder, fp, message, list(self.problems), summary)
        self.say(f"verdict: {verdict}{f' ({message})' if message else ''}")
        for p in self.problems:
            self.say(f"problem: {p}")
        self.say(f"archive: {self.folder} ({len(archive_files(self.folder))} files + {MANIFEST}); "
                 f"check it with `runbook evidence check {self.folder}`")
        return outcome

    def _write_findings(self) -> None:
        """``findings.html``: what each finding code means (the reports link to its anchors)."""
        from ..findings import render_html

        (self.folder / "findings.html").write_text(render_html(), encoding="utf-8")

    def _mark_scripts(self, verdict: str, message: str) -> None:
        """The scripts 01-analysis wrote say the plan has not run; when 02-execute saved
        none of its own (refused, or failed before it saved), their header says why."""
        from ..report.notebook import MIGRATION_SQL, ROLLBACK_SQL

        if verdict not in ("failed", "refused") or self._load("execute") is not None:
            return
        for name in (MIGRATION_SQL, ROLLBACK_SQL):
            path = self.folder / name
            if path.exists():
                why = self._scrub(" ".join(message.split()))
                path.write_text(f"-- runbook run: {verdict}: {why}\n" + path.read_text())

    def _write_index(self, summary: dict) -> None:
        """``index.html``: the verdict, the timeline, a link to every file (the manifest's too)."""
        files = sorted({p.relative_to(self.folder).as_posix() for p in archive_files(self.folder)} | {INDEX, MANIFEST})
        try:
            page = index_html(self.folder, summary, files)
        except Exception as exc:  # an index that fails to draw must not lose the archive
            self.problems.append(f"{INDEX} failed: {self._scrub(str(exc))}")
            return
        (self.folder / INDEX).write_text(self._scrub(page), encoding="utf-8")

    def _collect_html(self) -> None:
        """Wait for each notebook's HTML; one that failed to render is a problem, not a lost archive."""
        for r in self.runs:
            try:
                r.html = self._html_jobs[r.name].result().name
            except Exception as exc:  # an unrenderable notebook must not lose the archive
                self.problems.append(f"HTML of {r.name} failed: {self._scrub(str(exc))}")
        self._html.shutdown()

    def _row_counts(self) -> list[dict]:
        """Rows per mapped table: before (the migration's baseline, else the analysis) and
        now, measured again at the end of the run."""
        from .. import api

        before: dict[str, int | None] = {}
        for t in (self._load("analysis") or {}).get("tables", []):
            before[t["old"]] = t.get("rows")
        ex = self._load("execute") or {}
        for c in ((ex.get("verification") or {}).get("counts") or []):
            if ex.get("action") == "migrate":
                before[c["table_before"]] = c["rows_before"]
        try:
            now = api.analyze(self.url, self.mapping or None, backup_dir=str(self.folder))
        except RunbookError as exc:
            self.problems.append(f"could not count the rows at the end: {self._scrub(str(exc))}")
            return [{"table": k, "rows_before": v} for k, v in before.items()]
        return [{"table": t.old, "renamed_to": t.new, "name_now": t.new if t.state == "done" else t.old,
                 "state_now": t.state, "rows_before": before.get(t.old), "rows_after": t.rows} for t in now.tables]

    def _summary(self, fp: str, verdict: str, message: str, started: datetime, t_start: float) -> dict:
        """``summary.json``: the run, the notebooks, the row counts, the results, the archive."""
        analysis = self._load("analysis") or {}
        ex = self._load("execute") or {}
        return {
            **self._run_facts(analysis, fp, verdict, message, started, t_start),
            "notebooks": [asdict(r) for r in self.runs]
                         + [{"name": n, "status": "not run"} for n in NOTEBOOKS if n not in {r.name for r in self.runs}],
            "row_counts": self._row_counts(),
            **results_summary(ex, self._load("verify"), self._load("rollback")),
            "backup": self.facts.get("backup"),
            "maintenance": self.facts.get("maintenance"),
            "logs": sorted(p.name for p in self.folder.glob("migration-log-*.txt")),
            "versions": versions(analysis.get("server_version"), (ex.get("backup") or {}).get("pg_dump_version")),
        }

    def _run_facts(self, analysis: dict, fp: str, verdict: str, message: str, started: datetime,
                   t_start: float) -> dict:
        """The summary's head: which run, of what plan, on which database, when, with what profile."""
        return {
            "runbook_evidence": 1,
            "environment": self.env,
            "verdict": verdict,
            "message": message,
            "exit_code": EXIT.get(verdict, 1),
            "fingerprint": analysis.get("plan", {}).get("fingerprint", fp),
            "operations": len(analysis.get("plan", {}).get("operations", [])) or None,
            "database": redact(self.url),
            "database_url_env": self.url_env,
            "dry_run": self.dry_run,
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - t_start, 3),
            "profile": self.profile.to_toml_dict(),
            "approval": self.facts.get("approval"),
        }

    def _write_summary(self, summary: dict) -> None:
        text = json.dumps(summary, indent=2, default=str) + "\n"
        (self.folder / SUMMARY).write_text(self._scrub(text))

    def _notify(self, fp: str, verdict: str) -> dict:
        var = self.profile.slack_webhook_env
        hook = (os.environ.get(var) or "").strip()
        if not hook:
            self.problems.append(f"notifySlack is on but {var} is not set")
            return {"sent": False, "error": f"{var} is not set"}
        text = (f"runbook {self.env}: {verdict} (plan {fp[:12]}) — archive {self.folder}")
        r = notify_slack(hook, text)
        r["webhook_env"] = var
        r["text"] = text
        self.say(f"slack: {'sent' if r.get('sent') else 'NOT sent'} ({r.get('status') or r.get('error')})")
        if not r.get("sent"):
            self.problems.append(f"the Slack notification failed: {r.get('status') or r.get('error')}")
        return r


def run_pipeline(env: str, *, profile: str | Path | None = None, overrides: dict | None = None, **kw) -> Outcome:
    """Run the notebooks for ``env`` and archive the evidence (``runbook run``)."""
    return Pipeline(env, load_profile(env, profile, overrides), **kw).run()
