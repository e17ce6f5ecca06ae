"""The pipeline: the notebooks run with papermill per environment, and the evidence archive.

``runbook run --env staging`` runs ``notebooks/01-analysis`` ... ``04-rollback`` in order,
with parameters from the environment's profile (spec 10.1, ``runbook/data/profiles``),
and leaves one folder per run::

    outputs/<env>/<UTC timestamp>-<plan fingerprint, 12 hex>/
        01-analysis.ipynb  01-analysis.html   (and 02-execute, 03-verify, 04-rollback when they ran)
        analysis.json  execute.json  verify.json  rollback.json   (what each notebook saved)
        migration-log-<timestamp>.txt
        backup-<run>.dump   or   backup-pointer.txt (when the profile keeps backups elsewhere)
        summary.json        row counts, step timings, verdicts, fingerprint, versions
        MANIFEST.sha256     sha256 of every other file (``sha256sum -c`` reads it too)

Order of a run: plan fingerprint -> analysis -> approval gate (production) -> maintenance
commands -> execute -> verify -> rollback (if the verification failed and the profile
says so) -> maintenance commands -> health URL -> summary, HTML, manifest -> Slack.
A notebook that fails is still saved, with the error at its top, and stops the run.
No URL with its password, and no webhook URL, is written anywhere in the archive.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from ._version import __version__
from .connection import contains_secret, hide, password_of, redact, scrub
from .errors import BadInput, RunbookError

ENVIRONMENTS = ("development", "staging", "production")
NOTEBOOKS = ("01-analysis", "02-execute", "03-verify", "04-rollback")
MANIFEST = "MANIFEST.sha256"
SUMMARY = "summary.json"
POINTER = "backup-pointer.txt"
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]  # no kernel chatter on the terminal

# verdict -> exit code: 0 done, 1 failed (and rolled back), 2 refused (nothing changed)
EXIT = {"migrated": 0, "planned": 0, "nothing to do": 0, "refused": 2, "failed": 1,
        "verification failed": 1, "rolled back": 1, "rollback failed": 1}


# -- profiles -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    """One environment's settings (spec 10.1 keys first). TOML keys are camelCase."""

    auto_backup: bool
    dry_run_default: bool
    verbose_logging: bool
    notify_slack: bool
    require_approval: bool
    maintenance_mode: bool
    use_demo_when_no_url: bool = False
    cell_timeout: int = 600
    rollback_on_failed_verification: bool = True
    rollback_drop_added_columns: bool = True
    require_staging_evidence: bool = False
    staging_evidence_dir: str = ""
    backup_dir: str = ""
    lock_timeout: str = "5s"
    statement_timeout: str = "60s"
    attempts: int = 5
    slack_webhook_env: str = "SLACK_WEBHOOK_URL"
    maintenance_before: tuple[str, ...] = ()
    maintenance_after: tuple[str, ...] = ()
    command_timeout: int = 300
    health_url: str = ""
    health_timeout: int = 60

    def to_toml_dict(self) -> dict:
        return {_camel(f.name): (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


_TYPES = {f.name: f.type for f in fields(Profile)}


def _apply(base: dict, data: dict, where: str) -> dict:
    out = dict(base)
    for key, value in data.items():
        name = _snake(key)
        if name not in _TYPES:
            known = ", ".join(_camel(n) for n in _TYPES)
            raise BadInput(f"{where}: unknown profile key {key!r} (known: {known})")
        want = _TYPES[name]
        if want == "bool" and not isinstance(value, bool) or want == "int" and (
                not isinstance(value, int) or isinstance(value, bool)) or want == "str" and not isinstance(value, str):
            raise BadInput(f"{where}: {key} must be {want}, not {type(value).__name__}")
        if want.startswith("tuple"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BadInput(f"{where}: {key} must be a list of strings (shell commands)")
            value = tuple(value)
        out[name] = value
    return out


def load_profile(env: str, path: str | Path | None = None, overrides: dict | None = None) -> Profile:
    """The environment's shipped profile, then ``path`` (top-level keys, then the
    ``[env]`` table if any), then ``overrides`` (camelCase keys)."""
    if env not in ENVIRONMENTS:
        raise BadInput(f"unknown environment {env!r} (one of {', '.join(ENVIRONMENTS)})")
    text = (resources.files("runbook.data") / "profiles" / f"{env}.toml").read_text()
    values = _apply({}, tomllib.loads(text), f"profile {env}")
    if path:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise BadInput(f"profile {p}: {exc}") from None
        top = {k: v for k, v in data.items() if not (k in ENVIRONMENTS and isinstance(v, dict))}
        values = _apply(values, top, f"profile {p}")
        if isinstance(data.get(env), dict):
            values = _apply(values, data[env], f"profile {p} [{env}]")
    if overrides:
        values = _apply(values, overrides, "overrides")
    from . import options as v  # the runner's own checks, before any notebook runs

    for k in ("lock_timeout", "statement_timeout"):
        values[k] = v.duration(values.get(k, getattr(Profile, k)), f"profile {env}: {_camel(k)}")
    values["attempts"] = v.count(values.get("attempts", Profile.attempts), f"profile {env}: attempts", 1, 1000)
    return Profile(**values)


def preflight(env: str, profile: Profile, *, dry_run: bool) -> None:
    """Refuse, before anything runs, a profile whose settings would fail only late (after
    the migration): the Slack webhook, the maintenance commands, the health URL, the
    timeouts. :class:`BadInput`, one line; the webhook, a secret, is never echoed."""
    p = profile
    where = f"profile {env}"
    # (lockTimeout and statementTimeout are checked by load_profile, runbook.options)
    for name in ("cell_timeout", "command_timeout", "health_timeout", "attempts"):
        if getattr(p, name) <= 0:
            raise BadInput(f"{where}: {_camel(name)} must be a positive number, not {getattr(p, name)}")
    if p.notify_slack:
        hook = (os.environ.get(p.slack_webhook_env) or "").strip()
        if not hook:
            raise BadInput(f"{where}: notifySlack is on but {p.slack_webhook_env} is not set: set it to the Slack "
                           "webhook URL, or turn notifySlack off")
        if not re.match(r"https?://\S+\Z", hook):
            raise BadInput(f"{where}: {p.slack_webhook_env} does not hold an http:// or https:// URL")
    if p.maintenance_mode and not dry_run:
        if p.health_url and not re.match(r"https?://\S+\Z", p.health_url):
            raise BadInput(f"{where}: healthUrl {p.health_url!r} is not an http:// or https:// URL")
        for cmd in (*p.maintenance_before, *p.maintenance_after):
            missing = _missing_program(cmd)
            if missing:
                raise BadInput(f"{where}: maintenance command {cmd!r}: {missing!r} is not a command this shell finds")


def _missing_program(cmd: str) -> str | None:
    """The program a maintenance command starts, when the shell cannot find it (builtins,
    functions and PATH count, as ``command -v`` says); None when found or not plain."""
    import shlex

    try:
        words = shlex.split(cmd)
    except ValueError:
        return None  # not plain words: the shell will say
    while words and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", words[0]):  # FOO=1 cmd: the program is cmd
        words.pop(0)
    prog = words[0] if words else ""
    if not prog or any(c in prog for c in "$`|&;<>()"):
        return None
    found = subprocess.run(["/bin/sh", "-c", 'command -v -- "$1"', "sh", prog], capture_output=True)
    return None if found.returncode == 0 else prog


# -- the evidence archive -----------------------------------------------------------------------

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def write_manifest(folder: str | Path) -> Path:
    """``MANIFEST.sha256`` over every file in ``folder`` (``sha256sum`` format)."""
    folder = Path(folder)
    lines = [f"{_sha256(p)}  {p.relative_to(folder).as_posix()}" for p in _files(folder)]
    out = folder / MANIFEST
    out.write_text("\n".join(lines) + "\n")
    return out


def check_evidence(folder: str | Path) -> tuple[bool, str]:
    """Does every file match the manifest, with none missing and none added? One line."""
    folder = Path(folder)
    man = folder / MANIFEST
    if not man.is_file():
        return False, f"{folder}: no {MANIFEST}: not an evidence archive"
    listed: dict[str, str] = {}
    for n, line in enumerate(man.read_text().splitlines(), 1):
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if not m or m.group(2).startswith("/") or ".." in Path(m.group(2)).parts:
            return False, f"{folder}: {MANIFEST} line {n} is malformed"
        listed[m.group(2)] = m.group(1)
    present = {p.relative_to(folder).as_posix() for p in _files(folder)}
    for name, digest in listed.items():
        if name not in present:
            return False, f"{folder}: TAMPERED: {name} is missing"
        if _sha256(folder / name) != digest:
            return False, f"{folder}: TAMPERED: {name} does not match its sha256"
    extra = sorted(present - set(listed))
    if extra:
        return False, f"{folder}: TAMPERED: {extra[0]} is not in the manifest"
    what = ""
    try:
        s = json.loads((folder / SUMMARY).read_text())
        what = f" ({s.get('environment')}, plan {str(s.get('fingerprint'))[:12]}, verdict {s.get('verdict')})"
    except (OSError, ValueError):
        pass
    return True, f"{folder}: ok: {len(listed)} files match {MANIFEST}{what}"


def find_staging_evidence(root: str | Path, fingerprint: str) -> tuple[Path | None, list[str]]:
    """The newest archive under ``root`` of a successful staging run of ``fingerprint``
    whose manifest verifies; and why the others were not accepted."""
    root = Path(root)
    problems: list[str] = []
    for d in sorted(root.glob(f"*-{fingerprint[:12]}"), reverse=True):
        try:
            s = json.loads((d / SUMMARY).read_text())
        except (OSError, ValueError):
            problems.append(f"{d.name}: no readable {SUMMARY}")
            continue
        if s.get("environment") != "staging" or s.get("fingerprint") != fingerprint:
            problems.append(f"{d.name}: not a staging run of this plan")
            continue
        if s.get("verdict") != "migrated":
            problems.append(f"{d.name}: verdict {s.get('verdict')!r}, not 'migrated'")
            continue
        ok, msg = check_evidence(d)
        if not ok:
            problems.append(msg)
            continue
        return d, problems
    return None, problems


# -- side effects: commands, health, Slack ------------------------------------------------------------

def run_commands(commands, *, timeout: int, secrets=(), out=None) -> tuple[bool, list[dict]]:
    """Run shell commands in order, stopping at the first that fails."""
    out = out or sys.stdout
    done = []
    for cmd in commands:
        t0 = time.monotonic()
        try:
            r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout)
            rc, text = r.returncode, (r.stdout or "") + (r.stderr or "")
        except subprocess.TimeoutExpired as exc:
            rc, text = None, f"timed out after {timeout}s\n{exc.stdout or ''}"
        text = hide(text, secrets)
        tail = "\n".join(text.strip().splitlines()[-20:])
        rec = {"command": cmd, "exit_code": rc, "seconds": round(time.monotonic() - t0, 3), "output": tail}
        done.append(rec)
        print(f"  $ {cmd}  -> {'timed out' if rc is None else f'exit {rc}'} ({rec['seconds']:.1f}s)", file=out)
        if tail:
            print("    " + tail.replace("\n", "\n    "), file=out)
        if rc != 0:
            return False, done
    return True, done


def poll_health(url: str, timeout: float, interval: float = 1.0) -> dict:
    """GET ``url`` until it answers 2xx/3xx or ``timeout`` seconds pass."""
    t0 = time.monotonic()
    attempts, last = 0, ""
    while True:
        attempts += 1
        left = timeout - (time.monotonic() - t0)
        try:
            with urllib.request.urlopen(url, timeout=max(0.5, min(5.0, left))) as r:
                if 200 <= r.status < 400:
                    return {"url": url, "ok": True, "status": r.status, "attempts": attempts,
                            "seconds": round(time.monotonic() - t0, 3)}
                last = f"HTTP {r.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        if time.monotonic() - t0 + interval > timeout:
            return {"url": url, "ok": False, "error": last, "attempts": attempts,
                    "seconds": round(time.monotonic() - t0, 3)}
        time.sleep(interval)


def notify_slack(webhook: str, text: str, timeout: float = 10.0) -> dict:
    """POST ``{"text": ...}`` to a Slack incoming webhook; never raises."""
    req = urllib.request.Request(webhook, data=json.dumps({"text": text}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return {"sent": 200 <= r.status < 300, "status": r.status}
    except urllib.error.HTTPError as exc:
        return {"sent": False, "status": exc.code}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return {"sent": False, "error": str(getattr(exc, "reason", exc)).replace(webhook, "***")}


def versions(server: str | None = None, pg_dump: str | None = None) -> dict:
    """PostgreSQL, Python, runbook and every dependency, as installed."""
    from importlib import metadata

    names = {"nbclient", "ipykernel", "jupyter_client", "nbformat"}
    try:
        for req in metadata.requires("runbook") or []:
            if "extra ==" not in req:
                names.add(re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0])
    except metadata.PackageNotFoundError:
        pass
    deps = {}
    for n in sorted(names, key=str.lower):
        try:
            deps[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            deps[n] = None
    return {"postgresql": server, "pg_dump": pg_dump, "python": sys.version.split()[0], "runbook": __version__,
            "dependencies": deps}


# -- notebooks -------------------------------------------------------------------------------------

def notebooks_dir() -> Path:
    """``notebooks/`` next to the package (a source checkout or an editable install)."""
    here = Path(__file__).resolve().parent.parent / "notebooks"
    if (here / f"{NOTEBOOKS[0]}.ipynb").is_file():
        return here
    raise BadInput(f"the notebooks folder was not found at {here}; pass --notebooks DIR")


@dataclass
class NotebookRun:
    name: str
    status: str  # ok | failed | not run
    seconds: float = 0.0
    error: str | None = None
    html: str | None = None


_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{#- evidence must open offline: no require.js or MathJax from a CDN -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}" alt="{{ (output | get_metadata('alt', 'image/png') or 'chart') | escape_html }}">
</div>
{%- endblock data_png %}
"""


def to_html(ipynb: Path) -> Path:
    """The executed notebook as one self-contained HTML file (charts as data:image/png)."""
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = nbformat.read(ipynb, as_version=4)
    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"runbook.html.j2": _TEMPLATE})],
                            template_file="runbook.html.j2")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": ipynb.stem}})
    out = ipynb.with_suffix(".html")
    out.write_text(body, encoding="utf-8")
    return out


def _mark_failed(ipynb: Path, message: str) -> None:
    """Put the error at the top of a failed notebook (papermill's error cell, with the
    message added, or a new one when papermill did not write one: timeout, dead kernel)."""
    import html

    import nbformat

    if not ipynb.exists():
        return
    nb = nbformat.read(ipynb, as_version=4)
    line = (f'<div style="font-size:1.2em; margin-top:6px"><b>This notebook failed; the run stopped here.</b></div>'
            f'<pre style="white-space:pre-wrap; color:#c5221f">{html.escape(message)}</pre>')
    top = nb.cells[0] if nb.cells else None
    if top is not None and "papermill-error-cell-tag" in top.get("metadata", {}).get("tags", []):
        top.source = top.source.rstrip() + "\n" + line
    else:
        cell = nbformat.v4.new_markdown_cell(
            '<span style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;">'
            "This notebook did not finish.</span>\n" + line)
        cell.metadata["tags"] = ["papermill-error-cell-tag"]
        nb.cells.insert(0, cell)
    nbformat.write(nb, ipynb)


def _timed_out(ipynb: Path, limit: float) -> bool:
    """Did the failed cell of this executed notebook run into the cell timeout?"""
    import nbformat

    try:
        nb = nbformat.read(ipynb, as_version=4)
    except (OSError, ValueError):
        return False
    for cell in nb.cells:
        pm = cell.get("metadata", {}).get("papermill", {})
        if pm.get("exception") and (pm.get("duration") or 0) >= limit * 0.98:
            return True
    return False


# -- the run --------------------------------------------------------------------------------------------

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
    def __init__(self, env: str, profile: Profile, *, database_url_env: str = "DATABASE_URL",
                 output_dir: str | Path = "outputs", approved_fingerprint: str | None = None,
                 dry_run: bool | None = None, mapping: str | None = None, notebooks: str | Path | None = None,
                 out=None, err=None):
        self.env = env
        self.profile = profile
        self.url_env = database_url_env
        self.output_root = Path(output_dir).absolute()
        from .options import approved_fingerprint as _approved

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
        self.folder: Path | None = None
        # HTML renders in the background while the next notebook's kernel starts and runs
        self._html = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runbook-html")
        self._html_jobs: dict[str, Future] = {}

    # -- helpers ---------------------------------------------------------------------------
    def say(self, msg: str) -> None:
        print(msg, file=self.out, flush=True)

    def _scrub(self, text: str) -> str:
        return scrub(text, self.url) if self.url else text

    def _params(self, name: str) -> dict:
        p = self.profile
        common = {"environment": self.env, "database_url_env": self.url_env, "mapping": self.mapping,
                  "output_dir": str(self.folder), "allow_demo": False, "verbose": p.verbose_logging}
        backup_dir = str(Path(p.backup_dir).absolute()) if p.backup_dir else ""
        if name == "01-analysis":
            return common | {"backup_dir": backup_dir}
        if name == "02-execute":
            return common | {"dry_run": self.dry_run, "approved_fingerprint": self.approved or "",
                             "auto_backup": p.auto_backup, "backup_dir": backup_dir, "lock_timeout": p.lock_timeout,
                             "statement_timeout": p.statement_timeout, "attempts": p.attempts}
        if name == "03-verify":
            return common
        return common | {"drop_added_columns": p.rollback_drop_added_columns, "lock_timeout": p.lock_timeout,
                         "statement_timeout": p.statement_timeout, "attempts": p.attempts}

    def notebook(self, name: str) -> NotebookRun:
        import papermill as pm
        from papermill.exceptions import PapermillExecutionError

        src = self.notebooks / f"{name}.ipynb"
        dst = self.folder / f"{name}.ipynb"
        self.say(f"▶ {name}")
        t0 = time.monotonic()
        run = NotebookRun(name, "ok")
        # On timeout the kernel is interrupted (report.setup makes that cancel the running
        # query) and the run goes on at once with this error, without waiting for the cell.
        timeout = (f"a cell ran longer than cellTimeout = {self.profile.cell_timeout}s; the kernel was interrupted "
                   "and its running query cancelled")
        try:
            pm.execute_notebook(str(src), str(dst), parameters=self._params(name), kernel_name="python3",
                                execution_timeout=self.profile.cell_timeout, progress_bar=False,
                                stdout_file=self.out, stderr_file=self.err, extra_arguments=KERNEL_ARGS,
                                coalesce_streams=True, interrupt_on_timeout=True,
                                error_on_timeout={"ename": "CellTimeoutError", "evalue": timeout, "traceback": []})
        except PapermillExecutionError as exc:
            run.status = "failed"
            # a timed-out cell ends with nbclient's error reply, which leaves no error output:
            # papermill then reports a bare CellExecutionError
            bare = exc.ename == "CellExecutionError" and not exc.evalue
            error = "" if bare else f"{exc.ename}: {exc.evalue}"
            if bare or _timed_out(dst, self.profile.cell_timeout):
                error = f"CellTimeoutError: {timeout}" + (f"; then {error}" if error else "")
            run.error = self._scrub(error)
        except Exception as exc:  # a dead kernel, one that did not start ...: papermill marked nothing
            run.status = "failed"
            what = (str(exc).strip().splitlines() or [""])[0]
            run.error = self._scrub(f"{type(exc).__name__}: {what}")
        run.seconds = round(time.monotonic() - t0, 3)
        if run.status == "failed":
            _mark_failed(dst, run.error or "failed")
        if dst.exists():
            self._html_jobs[name] = self._html.submit(to_html, dst)
        self.say(f"{'✔' if run.status == 'ok' else '✘'} {name} {run.status} ({run.seconds:.1f}s)"
                 + (f": {run.error}" if run.error else ""))
        self.runs.append(run)
        return run

    def _load(self, name: str) -> dict | None:
        try:
            return json.loads((self.folder / f"{name}.json").read_text())
        except (OSError, ValueError):
            return None

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
        from .options import fingerprint_matches

        gate["fingerprint_matches"] = fingerprint_matches(self.approved, fingerprint)
        if not gate["fingerprint_matches"]:
            return (f"the approved fingerprint {self.approved[:12]} is not the plan's ({fingerprint[:12]}): the "
                    "database or the mapping changed since the review; review 01-analysis again")
        if p.require_staging_evidence:
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
        from . import api

        preflight(self.env, self.profile, dry_run=self.dry_run)
        started = datetime.now(timezone.utc)
        t_start = time.monotonic()
        self.url = (os.environ.get(self.url_env) or "").strip()
        previous = os.environ.get(self.url_env)
        set_env = False
        if not self.url:
            if not self.profile.use_demo_when_no_url:
                raise BadInput(f"no database URL: the environment variable {self.url_env} is not set")
            from .demo.database import demo_dir, demo_server

            info = demo_server(demo_dir())
            self.url = info["url"]
            os.environ[self.url_env] = self.url  # the kernels inherit it
            set_env = True
            self.say(f"{self.url_env} is not set: using the embedded demo database ({info['redacted']})")
        try:
            return self._run(api, started, t_start)
        finally:
            if set_env:
                if previous is None:
                    os.environ.pop(self.url_env, None)
                else:
                    os.environ[self.url_env] = previous

    def _run(self, api, started, t_start) -> Outcome:
        plan = api.plan(self.url, self.mapping or None)
        fp = plan.fingerprint
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        base = self.output_root / self.env
        folder = base / f"{stamp}-{fp[:12]}"
        n = 2
        while folder.exists():
            folder = base / f"{stamp}-{fp[:12]}-{n}"
            n += 1
        folder.mkdir(parents=True)
        self.folder = folder
        self.say(f"runbook run --env {self.env}: plan sha256:{fp[:12]} ({len(plan.ops)} operations) on "
                 f"{redact(self.url)}; {'dry run' if self.dry_run else 'execute'}")
        self.say(f"archive: {folder}")
        try:
            verdict, message = self._notebooks(fp)
        except KeyboardInterrupt:  # the evidence of what ran is still written
            verdict, message = "failed", "interrupted (Ctrl-C)"
        except Exception as exc:  # a fault of the pipeline itself, not of a notebook
            verdict, message = "failed", self._scrub(f"the pipeline failed: {type(exc).__name__}: {exc}")
        # -- the evidence ---------------------------------------------------------------------
        for r in self.runs:
            try:
                r.html = self._html_jobs[r.name].result().name
            except Exception as exc:  # an unrenderable notebook must not lose the archive
                self.problems.append(f"HTML of {r.name} failed: {self._scrub(str(exc))}")
        self._html.shutdown()
        self._backup_evidence()
        summary = self._summary(fp, verdict, message, started, t_start)
        self._write_summary(summary)
        leaks = self._secrets_guard()
        if leaks:
            summary["secrets_scrubbed"] = leaks
            self.problems.append(f"a secret was found and scrubbed in {', '.join(leaks)}")
        if self.profile.notify_slack:
            summary["notification"] = self._notify(fp, verdict)
        summary["problems"] = list(self.problems)
        self._write_summary(summary)
        write_manifest(folder)
        outcome = Outcome(self.env, verdict, folder, fp, message, list(self.problems), summary)
        self.say(f"verdict: {verdict}{f' ({message})' if message else ''}")
        for p in self.problems:
            self.say(f"problem: {p}")
        self.say(f"archive: {folder} ({len(_files(folder))} files + {MANIFEST}); "
                 f"check it with `runbook evidence check {folder}`")
        return outcome

    def _notebooks(self, fp: str) -> tuple[str, str]:
        """Run the notebooks in order; the verdict and a one-line message."""
        p = self.profile
        a = self.notebook("01-analysis")
        if a.status != "ok":
            return "failed", f"the analysis failed: {a.error}"
        analysis = self._load("analysis") or {}
        fp_now = analysis.get("plan", {}).get("fingerprint", fp)
        if fp_now != fp:
            self.problems.append(f"the plan changed between the start ({fp[:12]}) and the analysis ({fp_now[:12]})")
        if not self.dry_run:
            why = self.approval(fp_now)
            if why:
                self.say(f"refused: {why}")
                return "refused", why
        maintenance = p.maintenance_mode and not self.dry_run
        self.facts["maintenance"] = {"enabled": maintenance}
        secrets = [s for s in (self.url, password_of(self.url)) if s]
        try:
            if maintenance and p.maintenance_before:
                self.say("maintenance: before")
                ok, done = run_commands(p.maintenance_before, timeout=p.command_timeout, secrets=secrets, out=self.out)
                self.facts["maintenance"]["before"] = done
                if not ok:
                    return "failed", f"maintenance command failed before the change: {done[-1]['command']}"
            return self._execute_verify(fp_now)
        finally:
            if maintenance:
                if p.maintenance_after:
                    self.say("maintenance: after")
                    ok, done = run_commands(p.maintenance_after, timeout=p.command_timeout, secrets=secrets,
                                            out=self.out)
                    self.facts["maintenance"]["after"] = done
                    if not ok:
                        self.problems.append(f"maintenance command failed after the change: {done[-1]['command']}")
                if p.health_url:
                    self.say(f"health: polling {p.health_url} (up to {p.health_timeout}s)")
                    h = poll_health(p.health_url, p.health_timeout)
                    self.facts["maintenance"]["health"] = h
                    self.say(f"health: {'ok' if h['ok'] else 'FAILED'} after {h['seconds']:.1f}s "
                             f"({h.get('status') or h.get('error')})")
                    if not h["ok"]:
                        self.problems.append(f"health check {p.health_url} failed: {h.get('error')}")

    def _execute_verify(self, fp: str) -> tuple[str, str]:
        p = self.profile
        e = self.notebook("02-execute")
        if e.status != "ok":
            if e.error and e.error.startswith("VerificationFailed"):
                return "rolled back", f"the engine's verification failed and it rolled back: {e.error}"
            return "failed", e.error or "the execute notebook failed"
        result = self._load("execute") or {}
        status = result.get("status")
        if self.dry_run or status == "planned":
            return "planned", "dry run: nothing was changed"
        if status == "nothing to do" and not self._has_migration():
            return "nothing to do", "the database is already in the target state"
        v = self.notebook("03-verify")
        if v.status == "ok":
            return ("nothing to do" if status == "nothing to do" else "migrated"), (
                "already migrated; re-verified" if status == "nothing to do" else "")
        if not p.rollback_on_failed_verification:
            return "verification failed", v.error or ""
        r = self.notebook("04-rollback")
        if r.status == "ok":
            return "rolled back", f"verification failed ({v.error}); the migration was rolled back"
        return "rollback failed", (f"verification failed ({v.error}) and the rollback failed ({r.error}): the schema "
                                   "needs manual repair")

    def _has_migration(self) -> bool:
        from . import state
        from .connection import connect

        conn = connect(self.url, application_name="runbook-pipeline", autocommit=True)
        try:
            return state.last_run(conn) is not None
        finally:
            conn.close()

    # -- archive pieces --------------------------------------------------------------------------
    def _backup_evidence(self) -> None:
        ex = self._load("execute") or {}
        b = ex.get("backup")
        if not b:
            self.facts["backup"] = None
            return
        path = Path(b["path"])
        inside = path.parent.resolve() == self.folder.resolve()
        info = {"file": path.name if inside else str(path), "in_archive": inside, "bytes": b.get("bytes"),
                "verified": b.get("verified"), "pg_dump_version": b.get("pg_dump_version")}
        if not inside:
            info["sha256"] = _sha256(path) if path.exists() else None
            (self.folder / POINTER).write_text(
                "The backup of this run is kept outside the archive (profile backupDir).\n"
                f"path: {path}\nbytes: {b.get('bytes')}\nsha256: {info['sha256']}\n"
                f"verified with pg_restore --list: {b.get('verified')}\nmade by: {b.get('pg_dump_version')}\n")
            info["pointer"] = POINTER
        self.facts["backup"] = info

    def _row_counts(self) -> list[dict]:
        """Rows per mapped table: before (the migration's baseline, else the analysis) and
        now, measured again at the end of the run."""
        from . import api

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

    def _summary(self, fp: str, verdict: str, message: str, started, t_start) -> dict:
        analysis = self._load("analysis") or {}
        ex = self._load("execute") or {}
        ver = self._load("verify")
        rb = self._load("rollback")
        last_ver = (rb or {}).get("verification") or ver or ex.get("verification")

        def steps(d):
            return [{k: s[k] for k in ("step", "phase", "kind", "description", "seconds", "lock_wait_s", "attempt")}
                    for s in (d or {}).get("steps", [])]

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
            "notebooks": [asdict(r) for r in self.runs]
                         + [{"name": n, "status": "not run"} for n in NOTEBOOKS if n not in {r.name for r in self.runs}],
            "row_counts": self._row_counts(),
            "execute": {k: ex.get(k) for k in ("run_id", "action", "status", "lock_window_s", "lock_wait_s",
                                               "attempts", "timings")} if ex else None,
            "steps": steps(ex),
            "verification": _verdict_of(ex.get("verification")),
            "reverification": _verdict_of(ver),
            "rollback": ({"status": rb.get("status"), "steps": steps(rb), "verification": _verdict_of(rb.get("verification"))}
                         if rb else None),
            "final_verification_ok": last_ver.get("ok") if last_ver else None,
            "backup": self.facts.get("backup"),
            "maintenance": self.facts.get("maintenance"),
            "logs": sorted(p.name for p in self.folder.glob("migration-log-*.txt")),
            "versions": versions(analysis.get("server_version"), (ex.get("backup") or {}).get("pg_dump_version")),
        }

    def _write_summary(self, summary: dict) -> None:
        text = json.dumps(summary, indent=2, default=str) + "\n"
        (self.folder / SUMMARY).write_text(self._scrub(text))

    def _secrets_guard(self) -> list[str]:
        """Last line of defence: no text file of the archive may hold the password or the
        full URL. Scrubs and reports any that does (the tests expect none)."""
        found = []
        for f in _files(self.folder):
            if f.suffix not in (".ipynb", ".html", ".json", ".txt", ".log"):
                continue
            text = f.read_text(errors="replace")
            if contains_secret(text, self.url):
                f.write_text(self._scrub(text))
                found.append(f.name)
        return found

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


def _verdict_of(v: dict | None) -> dict | None:
    if not v:
        return None
    checks = v.get("checks", [])
    return {"ok": v.get("ok"), "checks": len(checks), "passed": sum(bool(c.get("ok")) for c in checks),
            "failed": [f"{c['name']}: {c.get('detail', '')}" for c in checks if not c.get("ok")][:20]}


def run_pipeline(env: str, *, profile: str | Path | None = None, overrides: dict | None = None, **kw) -> Outcome:
    """Run the notebooks for ``env`` and archive the evidence (``runbook run``)."""
    return Pipeline(env, load_profile(env, profile, overrides), **kw).run()
