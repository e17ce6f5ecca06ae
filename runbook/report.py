"""Tables and charts for the notebooks, built from the API's frozen results.

Every function takes what the API returned (an ``Analysis``, a ``RunResult``, a
``Verification``) and returns one thing a notebook cell displays: a :class:`Table`
(pandas, rendered as HTML) or a :class:`Chart` (matplotlib, rendered as PNG, so the
nbconvert HTML of an executed notebook embeds it as ``data:image/png``), or a short
Markdown note when there is nothing to show. Nothing here queries the database; only
:func:`database_url` may start the embedded demo server.

No URL is ever displayed as is: :class:`DatabaseURL` shows itself redacted.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import warnings
from dataclasses import asdict, is_dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from IPython.display import HTML, Markdown
from matplotlib.figure import Figure

from ._version import __version__
from .connection import redact
from .demo.database import demo_dir, demo_server, project_root
from .errors import BadInput, RollbackFailed, VerificationFailed

with warnings.catch_warnings():
    # Without ipywidgets, tqdm.auto warns once and falls back to text bars, which show
    # in the notebook, in its HTML and, streamed by papermill, on the terminal.
    warnings.simplefilter("ignore")
    import tqdm.auto  # noqa: F401

PHASE_COLORS = {"prepare": "#1a73e8", "lock": "#d93025", "finish": "#188038"}
ON_DELETE_COLORS = {"CASCADE": "#d93025", "RESTRICT": "#1a73e8", "SET NULL": "#f29900", "NO ACTION": "#80868b"}
PASS, FAIL, WARN = "pass", "FAIL", "warn"


# -- display objects -------------------------------------------------------------------------

class Table:
    """A pandas DataFrame shown as an HTML table (every row, no index).

    ``status`` columns holding ``pass``/``FAIL``/``warn`` are coloured.
    """

    def __init__(self, df: pd.DataFrame, *, caption: str | None = None, status: tuple[str, ...] = (),
                 numbers: dict[str, str] | None = None, wide: tuple[str, ...] = (), header: bool = True):
        self.df = df
        self.header = header
        self.caption = caption
        self.status = tuple(c for c in status if c in df.columns)
        self.numbers = {k: v for k, v in (numbers or {}).items() if k in df.columns}
        self.wide = tuple(c for c in wide if c in df.columns)

    def __len__(self) -> int:
        return len(self.df)

    def __repr__(self) -> str:
        head = f"{self.caption}\n" if self.caption else ""
        return head + (self.df.to_string(index=False) if len(self.df) else "(none)")

    def _repr_html_(self) -> str:
        st = self.df.style.hide(axis="index").format(na_rep="–")
        if not self.header:
            st = st.hide(axis="columns")
        if self.numbers:
            st = st.format(self.numbers, na_rep="–")
            st = st.set_properties(subset=list(self.numbers), **{"text-align": "right"})
        if self.status:
            st = st.map(_status_css, subset=list(self.status))
        if self.wide:
            st = st.set_properties(subset=list(self.wide), **{"white-space": "pre-wrap", "font-family": "monospace",
                                                              "font-size": "11px"})
        st = st.set_table_styles([
            {"selector": "", "props": "border-collapse: collapse; font-size: 12px; margin: 4px 0 12px 0;"},
            {"selector": "th", "props": "text-align: left; background: #f1f3f4; padding: 4px 8px; "
                                        "border-bottom: 1px solid #bdc1c6;"},
            {"selector": "td", "props": "text-align: left; padding: 3px 8px; border-bottom: 1px solid #e8eaed; "
                                        "vertical-align: top;"},
            {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: bold; "
                                             "padding: 4px 0; color: #202124;"},
        ])
        if self.caption:
            st = st.set_caption(self.caption)
        return st.to_html()


def _status_css(v) -> str:
    if v == PASS:
        return "background-color: #e6f4ea; color: #137333; font-weight: bold;"
    if v == FAIL:
        return "background-color: #fce8e6; color: #c5221f; font-weight: bold;"
    if v == WARN:
        return "background-color: #fef7e0; color: #b06000; font-weight: bold;"
    return ""


class Chart:
    """A matplotlib figure shown as a PNG (so HTML exports embed it as data:image/png)."""

    def __init__(self, figure: Figure, title: str):
        self.figure = figure
        self.title = title
        self._png: bytes | None = None

    def __repr__(self) -> str:
        return f"<chart: {self.title}>"

    def png(self) -> bytes:
        if self._png is None:
            buf = io.BytesIO()
            self.figure.savefig(buf, format="png", dpi=100, bbox_inches="tight", facecolor="white")
            self._png = buf.getvalue()
        return self._png

    def _repr_png_(self) -> tuple[bytes, dict]:
        return self.png(), {"alt": self.title}


def _note(text: str) -> Markdown:
    return Markdown(text)


def _ok(v: bool) -> str:
    return PASS if v else FAIL


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


def _mib(n: int | None) -> float | None:
    return None if n is None else n / 2**20


def _kv(rows: list[tuple[str, object]], caption: str | None = None) -> Table:
    df = pd.DataFrame([{"": k, "value": "–" if v is None else str(v)} for k, v in rows])
    return Table(df, caption=caption, header=False)


# -- notebook plumbing ---------------------------------------------------------------------

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
    return _kv([("environment", environment), ("database", redact(str(url))), ("URL from", source),
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


# -- analysis ----------------------------------------------------------------------------------

def overview(analysis) -> Table:
    """The facts a reviewer reads first."""
    a = analysis
    todo = sum(t.state == "todo" for t in a.tables)
    return _kv([
        ("database", a.database), ("server", a.server_version), ("connected as", a.current_user),
        ("role owns the tables", "yes" if a.owns_tables else "NO"),
        ("tables in the mapping", f"{len(a.tables)} ({todo} to rename, "
                                  f"{sum(t.state == 'done' for t in a.tables)} already renamed)"),
        ("PascalCase / snake_case tables in the schema", f"{len(a.pascal_case_tables)} / {len(a.snake_case_tables)}"),
        ("operations in the plan", len(a.plan.ops)),
        ("conflicts and blockers", len(a.conflicts) + len(a.blocking)),
        ("database size", f"{a.database_bytes / 2**20:,.1f} MiB"),
        ("plan fingerprint", f"sha256:{a.fingerprint}"),
    ], caption="Overview")


def tables_to_rename(analysis) -> Table:
    rows = [{"from": t.old, "to": t.new, "state": t.state, "rows": t.rows, "size MiB": _mib(t.total_bytes),
             "FKs in": t.fks_in, "FKs out": t.fks_out, "indexes": t.indexes, "sequences": t.sequences,
             "views": t.views, "triggers": t.triggers, "policies": t.policies} for t in analysis.tables]
    return Table(pd.DataFrame(rows), caption=f"Tables to rename ({len(rows)})",
                 numbers={"rows": "{:,.0f}", "size MiB": "{:,.2f}"})


def table_sizes_chart(analysis) -> Chart | Markdown:
    ts = [t for t in analysis.tables if t.rows is not None]
    if not ts:
        return _note("_None of the mapped tables exists._")
    fig = Figure(figsize=(11, 0.45 * len(ts) + 1.4))
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    labels = [f"{t.old} → {t.new}" if t.old != t.new else t.new for t in ts]
    y = range(len(ts))
    ax1.barh(y, [t.rows for t in ts], color="#1a73e8")
    ax2.barh(y, [_mib(t.total_bytes) or 0 for t in ts], color="#188038")
    for i, t in enumerate(ts):
        ax1.text(t.rows, i, f" {t.rows:,}", va="center", fontsize=8)
        ax2.text(_mib(t.total_bytes) or 0, i, f" {(_mib(t.total_bytes) or 0):,.2f}", va="center", fontsize=8)
    ax1.set_yticks(list(y), labels, fontsize=9)
    ax1.invert_yaxis()
    ax1.set_title("rows", fontsize=10)
    ax2.set_title("size on disk (MiB, with indexes and TOAST)", fontsize=10)
    for ax in (ax1, ax2):
        ax.margins(x=0.25)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle("Tables to rename", fontsize=12, x=0.02, ha="left")
    fig.tight_layout()
    return Chart(fig, "tables to rename: rows and sizes")


def conflicts(analysis) -> Table | Markdown:
    if not analysis.conflicts:
        return _note("**No conflicts**: no target name is taken, no two tables map to one name.")
    return Table(pd.DataFrame([asdict(c) for c in analysis.conflicts]), caption=f"Conflicts ({len(analysis.conflicts)})")


def _focus(analysis, table: str | None) -> str | None:
    names = {f.references for f in analysis.foreign_keys}
    if table and table in names:
        return table
    if table:
        t = next((t for t in analysis.tables if table in (t.old, t.new)), None)
        if t and (t.old in names or t.new in names):
            return t.old if t.old in names else t.new
    counts: dict[str, int] = {}
    for f in analysis.foreign_keys:
        counts[f.references] = counts.get(f.references, 0) + 1
    return max(counts, key=counts.get) if counts else None


def references(analysis, table: str | None = None) -> Table | Markdown:
    """The foreign keys that point at ``table`` (default: the table most referenced), and at the
    tables that point at it."""
    focus = _focus(analysis, table)
    if focus is None:
        return _note(f"_No foreign key references {table!r}._" if table else "_No foreign key references a table of the plan._")
    renamed = {t.old: t.new for t in analysis.tables}
    direct = [f for f in analysis.foreign_keys if f.references == focus]
    ring = {f.table for f in direct}
    second = [f for f in analysis.foreign_keys if f.references in ring and f.references != focus]
    rows = [{"table": f.table, "renamed to": renamed.get(f.table, ""), "constraint": f.constraint,
             "references": f.references, "ON DELETE": f.on_delete}
            for f in sorted(direct, key=lambda f: (f.on_delete, f.table)) + second]
    by = pd.Series([f.on_delete for f in direct]).value_counts()
    cap = (f"Foreign keys into {focus!r}: {len(direct)} tables "
           f"({', '.join(f'{n} {k}' for k, n in by.items())}), and {len(second)} one step further")
    return Table(pd.DataFrame(rows), caption=cap)


def references_chart(analysis, table: str | None = None) -> Chart | Markdown:
    """A fan diagram: ``table`` in the middle, every table referencing it on either side,
    coloured by ON DELETE action; tables that reference those (one step further) next to
    the table they reference."""
    focus = _focus(analysis, table)
    if focus is None:
        return _note(f"_No foreign key references {table!r}._" if table else "_No foreign key references a table of the plan._")
    renamed = {t.old: t.new for t in analysis.tables}
    direct = [f for f in analysis.foreign_keys if f.references == focus]
    children: dict[str, list] = {}
    for f in analysis.foreign_keys:
        if f.references != focus and f.references in {d.table for d in direct}:
            children.setdefault(f.references, []).append(f)
    order = {"CASCADE": 0, "SET NULL": 1, "NO ACTION": 2, "RESTRICT": 3}
    direct.sort(key=lambda f: (f.table not in renamed, order.get(f.on_delete, 9), f.table))
    rows: list[tuple[int, object]] = []  # (level, fk)
    for f in direct:
        rows.append((1, f))
        rows.extend((2, c) for c in sorted(children.get(f.table, []), key=lambda c: c.table))
    half = (len(rows) + 1) // 2
    sides = [rows[:half], rows[half:]]
    per = max(len(sides[0]), 1)
    fig = Figure(figsize=(12, max(5.0, 0.22 * per + 1.6)))
    ax = fig.subplots()
    ax.axis("off")
    ax.set_xlim(-3.0, 3.0)
    ax.set_ylim(-0.6, per - 0.4)
    mid = (per - 1) / 2
    pos: dict[str, tuple[float, float]] = {}
    for side, items in zip((-1, 1), sides):
        for i, (level, f) in enumerate(items):
            y = per - 1 - i
            x = side * (1.0 if level == 1 else 1.45)
            color = ON_DELETE_COLORS.get(f.on_delete, "#80868b")
            inplan = f.table in renamed
            if level == 1:
                ax.plot([side * 0.32, x], [mid, y], color=color, lw=1.0, alpha=0.75, zorder=1)
            else:
                px, py = pos[f.references]
                ax.annotate("", xy=(px, py), xytext=(x, y),
                            arrowprops=dict(arrowstyle="->", color=color, lw=1.2, shrinkA=3, shrinkB=4))
            pos[f.table] = (x, y)
            ax.scatter([x], [y], s=46 if inplan else 18, marker="s" if inplan else "o", color=color, zorder=3,
                       edgecolor="black" if inplan else color, linewidth=0.9)
            label = f.table + (f" → {renamed[f.table]}" if inplan else "")
            if level == 2:
                label += f"  (refs {f.references})"
            ax.text(x + side * 0.06, y, label, ha="left" if side > 0 else "right", va="center", fontsize=8,
                    fontweight="bold" if inplan else "normal")
    centre = focus + (f"\n→ {renamed[focus]}" if focus in renamed else "")
    ax.text(0, mid, centre, ha="center", va="center", fontsize=13, fontweight="bold",
            bbox=dict(boxstyle="round,pad=0.6", fc="#fef7e0", ec="#b06000"), zorder=4)
    from matplotlib.lines import Line2D

    counts = pd.Series([f.on_delete for f in direct]).value_counts()
    handles = [Line2D([0], [0], color=c, lw=3, label=f"ON DELETE {k} ({counts.get(k, 0)})")
               for k, c in ON_DELETE_COLORS.items() if counts.get(k, 0)]
    handles.append(Line2D([0], [0], marker="s", lw=0, markeredgecolor="black", markerfacecolor="#bdc1c6",
                          markersize=8, label="renamed by this plan too"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles), fontsize=9,
              frameon=False)
    ax.set_title(f"{len(direct)} tables reference {focus!r}. The foreign keys point at the table by OID, so they "
                 "follow the rename;\nonly the constraint names change.", fontsize=11)
    fig.tight_layout()
    return Chart(fig, f"foreign keys around {focus}")


def at_risk(analysis) -> Table | Markdown:
    if not analysis.at_risk:
        return _note("_No view, trigger, policy or function depends on the tables._")
    rows = [{"kind": r.kind, "object": r.name, "table": r.table,
             "follows the rename": "yes" if r.follows_rename else "no", "action": r.action,
             "risk": FAIL if r.action.startswith("BLOCKER") else (WARN if not r.follows_rename else PASS)}
            for r in sorted(analysis.at_risk, key=lambda r: (r.follows_rename, r.kind, r.name))]
    return Table(pd.DataFrame(rows), caption=f"Objects at risk ({len(rows)}): views, triggers and policies follow "
                                             "the table by OID; function bodies name it as text",
                 status=("risk",))


def service_compat(analysis) -> Table | Markdown:
    """The service's models (the mapping's ``[service]``) against the database as the plan will leave it."""
    rows = [dict(r) for r in analysis.service_findings]
    notes = "; ".join(analysis.service_notes)
    name = getattr(analysis, "service_name", None)
    if name is None:
        return _note(f"**No service check**: {notes or 'the mapping names no target schema'}.")
    if not rows:
        return _note(f"**{name}'s Prisma client will find every table, column and key it needs.**"
                     + (f" ({notes})" if notes else ""))
    return Table(pd.DataFrame(rows), caption=f"What {name}'s client will find after the migration "
                                             "(a blocker of a model it never writes does not stop it)"
                                             + (f"; {notes}" if notes else ""))


def blockers(analysis) -> Table | Markdown:
    """Sessions that hold locks on the tables or long transactions, and the plan's blockers."""
    rows = [{"what": "session", "who": f"pid {b.pid} ({b.application or 'no application name'})",
             "detail": f"{b.state}; transaction open {b.xact_age_s:,.0f}s"
                       + (f"; holds locks on {', '.join(b.tables)}" if b.tables else ""),
             "blocks the run": WARN}
            for b in analysis.blocking]
    rows += [{"what": b.kind, "who": b.object, "detail": b.reason, "blocks the run": FAIL} for b in analysis.plan.blockers]
    if not rows:
        return _note("**No blockers**: no session holds a lock on the tables or has a long open transaction, "
                     "and the plan has no blocking problem.")
    return Table(pd.DataFrame(rows), caption=f"Blockers ({len(rows)})", status=("blocks the run",))


def plan_steps(analysis_or_plan) -> Table | Markdown:
    plan = getattr(analysis_or_plan, "plan", analysis_or_plan)
    if not plan.ops:
        return _note("**Nothing to do**: the database is already in the target state.")
    rows = [{k: r[k] for k in ("step", "phase", "kind", "table", "description")} for r in plan.as_rows()]
    return Table(pd.DataFrame(rows), caption=f"The plan: {len(rows)} operations")


def plan_chart(analysis_or_plan) -> Chart | Markdown:
    plan = getattr(analysis_or_plan, "plan", analysis_or_plan)
    if not plan.ops:
        return _note("_Empty plan._")
    df = pd.DataFrame([{"phase": o.phase, "kind": o.kind} for o in plan.ops])
    tab = df.groupby(["kind", "phase"]).size().unstack(fill_value=0)
    tab = tab[[p for p in PHASE_COLORS if p in tab.columns]]
    tab = tab.loc[tab.sum(axis=1).sort_values().index]
    fig = Figure(figsize=(9, 0.35 * len(tab) + 1.4))
    ax = fig.subplots()
    left = [0] * len(tab)
    for phase in tab.columns:
        vals = list(tab[phase])
        ax.barh(list(tab.index), vals, left=left, color=PHASE_COLORS[phase], label=phase)
        left = [a + b for a, b in zip(left, vals)]
    for i, total in enumerate(left):
        ax.text(total, i, f" {total}", va="center", fontsize=8)
    ax.set_xlabel("operations")
    ax.legend(title="phase", fontsize=8, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"The plan by kind of operation ({len(plan.ops)} operations; the lock phase runs in one "
                 "transaction)", fontsize=10)
    fig.tight_layout()
    return Chart(fig, "plan by kind")


def plan_sql(analysis_or_plan) -> HTML:
    """The migration SQL exactly as it will run, with its fingerprint in the header."""
    import html

    plan = getattr(analysis_or_plan, "plan", analysis_or_plan)
    text = plan.render("Migration: rename tables to snake_case (spec 2.2)")
    n = text.count("\n")
    return HTML(f"<p><b>Plan SQL</b> ({n:,} lines; scroll)</p>"
                f"<pre style='max-height: 480px; overflow: auto; border: 1px solid #dadce0; padding: 8px; "
                f"font-size: 11px; font-family: monospace; background: #f8f9fa'>{html.escape(text)}</pre>")


def fingerprint(analysis) -> HTML:
    """The plan fingerprint, and how to approve exactly this plan."""
    fp = analysis.fingerprint
    return HTML(
        "<div style='border: 2px solid #1a73e8; border-radius: 6px; padding: 10px 14px; margin: 6px 0; "
        "background: #e8f0fe'>"
        f"<div style='font-size: 13px'>Plan fingerprint (sha256 of the SQL above)</div>"
        f"<div style='font-family: monospace; font-size: 15px; font-weight: bold; word-break: break-all'>"
        f"sha256:{fp}</div>"
        "<div style='font-size: 12px; margin-top: 6px'>To approve exactly this plan: "
        f"<code>runbook run --env production --approved-fingerprint {fp}</code></div></div>")


def estimate(analysis) -> Table:
    from .ops import LOCK

    a = analysis
    return _kv([
        ("database size", f"{a.database_bytes / 2**20:,.1f} MiB"),
        ("estimated backup (pg_dump, online: no lock on the tables)", f"{a.estimated_backup_s:,.2f} s"),
        ("steps under the exclusive lock", len(a.plan.phase(LOCK))),
        ("estimated lock window (the downtime)", f"{a.estimated_downtime_s * 1000:,.0f} ms"),
        ("free disk for the backup", "unknown" if a.free_disk_bytes is None else f"{a.free_disk_bytes / 2**30:,.1f} GiB"),
    ], caption="Downtime estimate")


# -- execute -------------------------------------------------------------------------------------

def run_overview(result) -> Table:
    r = result
    rows = [("status", r.status), ("action", r.action), ("run id", r.run_id), ("plan fingerprint", f"sha256:{r.fingerprint}"),
            ("operations", len(r.plan.ops)), ("steps run", len(r.steps))]
    if r.steps or r.lock_window_s:
        rows += [("exclusive locks held (lock window)", f"{r.lock_window_s * 1000:,.2f} ms"),
                 ("waited for the locks", f"{r.lock_wait_s * 1000:,.2f} ms"), ("attempts", r.attempts)]
    if r.timings:
        rows.append(("timings", ", ".join(f"{k} {v * 1000:,.1f} ms" for k, v in r.timings.items())))
    if r.verification is not None:
        v = r.verification
        rows.append(("verification", f"{sum(c.ok for c in v.checks)}/{len(v.checks)} checks pass"))
    rows.append(("log", Path(r.log_file).name if r.log_file else "–"))
    if r.message:
        rows.append(("message", r.message))
    return _kv(rows, caption=f"Run {r.run_id}: {r.status}")


def preflight(result) -> Table | Markdown:
    if not result.preflight:
        return _note("_No preflight ran (nothing to do)._")
    rows = [{"check": c.name, "result": PASS if c.ok else (FAIL if c.blocking else WARN), "detail": c.detail}
            for c in result.preflight]
    ok = sum(c.ok for c in result.preflight)
    return Table(pd.DataFrame(rows), caption=f"Preflight (spec 6.2): {ok}/{len(rows)} pass", status=("result",))


def backup(result) -> Table | Markdown:
    b = result.backup
    if b is None:
        why = ("this was a dry run" if result.action == "dry-run" else
               "there was nothing to do" if result.status == "nothing to do" else
               "a rollback reverses the plan; the migration's backup stays where it was" if result.action == "rollback"
               else "backups are off for this run (autoBackup = false)")
        return _note(f"**No backup** in this run: {why}.")
    return _kv([("file", Path(b.path).name), ("folder", str(Path(b.path).parent)),
                ("size", f"{b.bytes / 2**20:,.2f} MiB ({b.bytes:,} bytes)"), ("written in", f"{b.seconds:,.2f} s"),
                ("verified with pg_restore --list", "yes" if b.verified else "NO"),
                ("entries in its table of contents", f"{b.toc_entries:,} ({b.tables_in_toc} tables)"),
                ("made by", b.pg_dump_version)], caption="Backup (pg_dump, custom format)")


def steps(result) -> Table | Markdown:
    if result.action == "dry-run":
        t = plan_steps(result.plan)
        if isinstance(t, Table):
            t.caption = f"Dry run: the {len(t)} steps that would run (nothing was changed)"
        return t
    if not result.steps:
        return _note(f"_No step ran ({result.status})._")
    rows = [{"step": s.step, "phase": s.phase, "kind": s.kind, "description": s.description, "ms": _ms(s.seconds),
             "lock wait ms": _ms(s.lock_wait_s), "attempt": s.attempt} for s in result.steps]
    total = sum(s.seconds for s in result.steps)
    return Table(pd.DataFrame(rows), caption=f"Steps ({len(rows)}, {total * 1000:,.1f} ms in all)",
                 numbers={"ms": "{:,.3f}", "lock wait ms": "{:,.3f}"})


def step_chart(result) -> Chart | Markdown:
    """Each step's time (log scale: catalog steps take microseconds, data steps longer)."""
    if not result.steps:
        return _note("_Dry run: no step ran; nothing was changed._" if result.action == "dry-run" else
                     f"_No step ran ({result.status}): nothing to chart._")
    ss = list(result.steps)
    fig = Figure(figsize=(11, 0.17 * len(ss) + 1.6))
    ax = fig.subplots()
    vals = [max(s.seconds * 1000, 1e-3) for s in ss]
    ax.barh(range(len(ss)), vals, color=[PHASE_COLORS.get(s.phase, "#80868b") for s in ss], height=0.75)
    ax.set_yticks(range(len(ss)), [_short(f"{s.step}. {s.description}", 56) for s in ss], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds (log scale)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#e8eaed", which="both")
    ax.set_axisbelow(True)
    from matplotlib.patches import Patch

    phases = [p for p in PHASE_COLORS if any(s.phase == p for s in ss)]
    ax.legend(handles=[Patch(color=PHASE_COLORS[p], label=p) for p in phases], loc="lower right", fontsize=8,
              title="phase")
    ax.set_title(f"Step timings: {len(ss)} steps, {sum(s.seconds for s in ss) * 1000:,.1f} ms; exclusive locks held "
                 f"{result.lock_window_s * 1000:,.2f} ms", fontsize=10, loc="left")
    fig.tight_layout()
    return Chart(fig, "step timings")


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def lock_waits(result) -> Chart | Markdown:
    """The lock window as a timeline: waiting for the exclusive locks (the only lock
    wait: one ``LOCK TABLE`` takes them all before the first locked step), then each
    step under them, then the checks, the audit row and COMMIT."""
    from .ops import LOCK

    ss = [s for s in result.steps if s.phase == LOCK]
    if not ss:
        return _note("_No step ran under the exclusive lock._")
    wait = sum(s.lock_wait_s for s in ss) * 1000
    held = result.lock_window_s * 1000
    fig = Figure(figsize=(11, 2.6))
    ax = fig.subplots()
    ax.barh([0], [wait], color="#f29900", height=0.5, label=f"waiting for the locks: {wait:,.3f} ms")
    x = wait
    for i, s in enumerate(ss):
        d = s.seconds * 1000
        ax.barh([0], [d], left=[x], color="#d93025" if i % 2 == 0 else "#f28b82", height=0.5)
        x += d
    rest = max(held - (x - wait), 0.0)
    ax.barh([0], [rest], left=[x], color="#bdc1c6", height=0.5,
            label=f"checks, audit row, COMMIT: {rest:,.2f} ms")
    ax.barh([0], [0], color="#d93025", label=f"{len(ss)} steps under the lock: {sum(s.seconds for s in ss) * 1000:,.2f} ms")
    for s in sorted(ss, key=lambda s: -s.seconds)[:3]:
        start = wait + sum(t.seconds for t in ss[: ss.index(s)]) * 1000
        ax.annotate(f"step {s.step}", xy=(start + s.seconds * 500, 0.25), xytext=(0, 8), textcoords="offset points",
                    ha="center", fontsize=7)
    ax.set_yticks([])
    ax.set_xlabel("ms since the LOCK TABLE statement")
    ax.set_xlim(0, max(wait + held, 1e-3) * 1.02)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=3, fontsize=8, frameon=False)
    ax.spines[["top", "right", "left"]].set_visible(False)
    retries = f" after {result.attempts - 1} lock timeout(s)" if result.attempts > 1 else ""
    ax.set_title(f"Lock window: waited {wait:,.3f} ms for the exclusive locks (attempt {result.attempts}{retries}), "
                 f"then held them {held:,.2f} ms", fontsize=10, loc="left")
    fig.tight_layout()
    return Chart(fig, "lock window")


def audit_rows(result) -> Table | Markdown:
    if not result.audit_rows:
        return _note("_No audit row was written by this run._")
    rows = []
    for r in result.audit_rows:
        extra = {k: v for k, v in r.items() if k not in ("table", "event", "run_id", "at", "host")}
        if "fingerprint" in extra:
            extra["fingerprint"] = str(extra["fingerprint"])[:12]
        rows.append({"event": r.get("event"), "at": r.get("at"), "table": r.get("table"), "run": r.get("run_id"),
                     "host": r.get("host"), "details": ", ".join(f"{k}={v}" for k, v in extra.items())})
    return Table(pd.DataFrame(rows), caption=f"Audit rows written ({len(rows)})")


# -- verify ------------------------------------------------------------------------------------------

def _verification(obj):
    return getattr(obj, "verification", obj) if not hasattr(obj, "checks") else obj


def verdict(obj) -> HTML:
    """One line: how many checks pass."""
    v = _verification(obj)
    if v is None:
        return HTML("<p>No verification ran.</p>")
    n, bad = len(v.checks), v.failed
    if not bad:
        return HTML(f"<div style='font-size: 16px; color: #137333; font-weight: bold; margin: 6px 0'>"
                    f"&#10004; all {n} checks pass</div>")
    first = "; ".join(f"{c.name}: {c.detail}" for c in bad[:3])
    import html

    return HTML(f"<div style='font-size: 16px; color: #c5221f; font-weight: bold; margin: 6px 0'>&#10008; "
                f"{len(bad)} of {n} checks FAIL</div><div>{html.escape(first)}</div>")


def row_counts(obj) -> Table | Markdown:
    """Rows per table before and after (from the baseline taken before the plan ran)."""
    v = _verification(obj)
    if v is None or not v.counts:
        return _note("_No row counts (no verification ran)._")
    rows = [{"table before": c.table_before, "table after": c.table_after, "rows before": c.rows_before,
             "rows after": c.rows_after,
             "difference": (c.rows_after - c.rows_before) if None not in (c.rows_after, c.rows_before) else None,
             "content proved by": c.method, "result": _ok(c.ok)} for c in v.counts]
    return Table(pd.DataFrame(rows), caption="Row counts before and after", status=("result",),
                 numbers={"rows before": "{:,.0f}", "rows after": "{:,.0f}", "difference": "{:+,.0f}"})


def row_count_chart(obj) -> Chart | Markdown:
    v = _verification(obj)
    if v is None or not v.counts:
        return _note("_No row counts to chart._")
    cs = list(v.counts)
    fig = Figure(figsize=(11, 4.2))
    ax = fig.subplots()
    x = range(len(cs))
    w = 0.38
    b1 = ax.bar([i - w / 2 for i in x], [c.rows_before or 0 for c in cs], w, color="#80868b", label="before")
    b2 = ax.bar([i + w / 2 for i in x], [c.rows_after or 0 for c in cs], w,
                color=["#188038" if c.ok else "#d93025" for c in cs], label="after")
    ax.bar_label(b1, labels=[f"{c.rows_before:,}" if c.rows_before is not None else "–" for c in cs], fontsize=7)
    ax.bar_label(b2, labels=[f"{c.rows_after:,}" if c.rows_after is not None else "–" for c in cs], fontsize=7)
    ax.set_xticks(list(x), [c.table_after if c.table_before == c.table_after else f"{c.table_before}\n→ {c.table_after}"
                            for c in cs], fontsize=8)
    if max((c.rows_before or 0) for c in cs) > 20 * max(1, min((c.rows_before or 1) for c in cs)):
        ax.set_yscale("log")
        ax.set_ylabel("rows (log scale)")
    else:
        ax.set_ylabel("rows")
    ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ok = sum(c.ok for c in cs)
    ax.set_title(f"Row counts before and after: {ok}/{len(cs)} tables equal", fontsize=10, loc="left")
    fig.tight_layout()
    return Chart(fig, "row counts")


def checksums(obj) -> Table | Markdown:
    """How each table's content was proved unchanged: a checksum of every row, or the
    catalog (same storage file, no data step touched it)."""
    v = _verification(obj)
    if v is None or not v.counts:
        return _note("_No content checks._")
    rows = [{"table": c.table_after, "proof": c.method,
             "checksum before": c.checksum_before or "–", "checksum after": c.checksum_after or "–",
             "result": _ok(c.ok)} for c in v.counts]
    return Table(pd.DataFrame(rows), caption="Content: checksums (sum of row hashes) and catalog proofs",
                 status=("result",))


def _category(name: str) -> str:
    for prefix, cat in (("step:", "step took effect"), ("table ", "table names"), ("name ", "table names"),
                        ("constraint ", "constraints"), ("foreign key ", "constraints"), ("index ", "indexes"),
                        ("old name ", "old names gone"), ("no function", "functions")):
        if name.startswith(prefix):
            return cat
    if "storage untouched" in name:
        return "storage (relfilenode)"
    if "create/read/update/delete" in name or name.startswith("target schema:"):
        return "service"
    if "rows and content" in name:
        return "rows and content"
    if "NULL" in name:
        return "filled columns"
    return "other"


def checks(obj) -> Table | Markdown:
    """Every check, pass or FAIL, failures first."""
    v = _verification(obj)
    if v is None:
        return _note("_No verification ran._")
    rows = [{"check": c.name, "kind": _category(c.name), "result": _ok(c.ok), "detail": c.detail}
            for c in sorted(v.checks, key=lambda c: c.ok)]
    notes = "".join(f"; note: {n}" for n in getattr(v, "notes", ()))
    return Table(pd.DataFrame(rows), caption=f"Checks: {sum(c.ok for c in v.checks)}/{len(rows)} pass{notes}",
                 status=("result",))


def checks_chart(obj) -> Chart | Markdown:
    v = _verification(obj)
    if v is None or not v.checks:
        return _note("_No checks to chart._")
    df = pd.DataFrame([{"kind": _category(c.name), "ok": c.ok} for c in v.checks])
    tab = df.groupby("kind")["ok"].agg(passed="sum", total="count")
    tab["failed"] = tab["total"] - tab["passed"]
    tab = tab.sort_values("total")
    fig = Figure(figsize=(9, 0.38 * len(tab) + 1.4))
    ax = fig.subplots()
    ax.barh(list(tab.index), tab["passed"], color="#188038", label="pass")
    ax.barh(list(tab.index), tab["failed"], left=tab["passed"], color="#d93025", label="FAIL")
    for i, (p, f) in enumerate(zip(tab["passed"], tab["failed"])):
        ax.text(p + f, i, f" {p}/{p + f}", va="center", fontsize=8)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_xlabel("checks")
    ax.margins(x=0.12)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Checks by kind: {int(tab['passed'].sum())}/{int(tab['total'].sum())} pass", fontsize=10, loc="left")
    fig.tight_layout()
    return Chart(fig, "checks by kind")


def raise_for_failed(obj) -> HTML:
    """Raise when the verification (or the rollback's check) failed, so that papermill
    marks the notebook failed and the pipeline reacts; otherwise say it passed."""
    v = _verification(obj)
    if hasattr(obj, "run_id") and getattr(obj, "status", "") == "failed":
        first = v.failed[0] if v is not None and v.failed else None
        raise RollbackFailed(f"{obj.action} {obj.run_id} failed" + (f": {first.name}: {first.detail}" if first else ""))
    if v is not None and not v.ok:
        first = v.failed[0]
        raise VerificationFailed(f"verification failed: {len(v.failed)} of {len(v.checks)} checks; "
                                 f"first: {first.name}: {first.detail}", failed=[c.name for c in v.failed])
    return verdict(obj)
