"""The charts the notebooks show, one function each, from the API's frozen results. Each
returns a :class:`~.display.Chart` (a matplotlib figure shown as PNG), or a short Markdown
note when there is nothing to draw."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..execute.results import timed_units
from ..phases import LOCK
from .display import Chart, note
from .results import focus_table, mib, verification_of

__all__ = [
    "table_sizes_chart", "references_chart", "plan_chart",  # 01-analysis
    "step_chart", "lock_waits",  # 02-execute, 04-rollback
    "row_count_chart", "checks_chart",  # 03-verify, 04-rollback
    "PHASE_COLORS", "ON_DELETE_COLORS",
]

PHASE_COLORS = {"prepare": "#1a73e8", "lock": "#d93025", "finish": "#188038"}
ON_DELETE_COLORS = {"CASCADE": "#d93025", "RESTRICT": "#1a73e8", "SET NULL": "#f29900", "NO ACTION": "#80868b"}


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


# -- analysis (01-analysis) ------------------------------------------------------------------------

def table_sizes_chart(analysis) -> Chart | Markdown:
    ts = [t for t in analysis.tables if t.rows is not None]
    if not ts:
        return note("_None of the mapped tables exists._")
    fig = Figure(figsize=(11, 0.45 * len(ts) + 1.4))
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    labels = [f"{t.old} → {t.new}" if t.old != t.new else t.new for t in ts]
    y = range(len(ts))
    ax1.barh(y, [t.rows for t in ts], color="#1a73e8")
    ax2.barh(y, [mib(t.total_bytes) or 0 for t in ts], color="#188038")
    for i, t in enumerate(ts):
        ax1.text(t.rows, i, f" {t.rows:,}", va="center", fontsize=8)
        ax2.text(mib(t.total_bytes) or 0, i, f" {(mib(t.total_bytes) or 0):,.2f}", va="center", fontsize=8)
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


def references_chart(analysis, table: str | None = None) -> Chart | Markdown:
    """A fan diagram: ``table`` in the middle, every table referencing it on either side,
    coloured by ON DELETE action; tables that reference those (one step further) next to
    the table they reference."""
    focus = focus_table(analysis, table)
    if focus is None:
        return note(f"_No foreign key references {table!r}._" if table else "_No foreign key references a table of the plan._")
    renamed = {t.old: t.new for t in analysis.tables}
    direct, rows = _fan_rows(analysis, focus, renamed)
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
        _fan_side(ax, side, items, per, mid, renamed, pos)
    centre = focus + (f"\n→ {renamed[focus]}" if focus in renamed else "")
    ax.text(0, mid, centre, ha="center", va="center", fontsize=13, fontweight="bold",
            bbox=dict(boxstyle="round,pad=0.6", fc="#fef7e0", ec="#b06000"), zorder=4)
    _fan_legend(ax, direct)
    ax.set_title(f"{len(direct)} tables reference {focus!r}. The foreign keys point at the table by OID, so they "
                 "follow the rename;\nonly the constraint names change.", fontsize=11)
    fig.tight_layout()
    return Chart(fig, f"foreign keys around {focus}")


def _fan_rows(analysis, focus: str, renamed: dict[str, str]) -> tuple[list, list[tuple[int, object]]]:
    """The foreign keys into ``focus`` (renamed tables first, then by ON DELETE), and the
    fan's rows: (1, fk) for each of them, each followed by (2, fk) for the foreign keys
    into its table."""
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
    return direct, rows


def _fan_side(ax, side: int, items, per: int, mid: float, renamed: dict[str, str],
              pos: dict[str, tuple[float, float]]) -> None:
    """One side of the fan (``side`` -1 left, 1 right): a line from the centre to each
    referencing table, an arrow from a table one step further to the one it references
    (``pos`` holds where each table was drawn)."""
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


def _fan_legend(ax, direct) -> None:
    """The ON DELETE colours in use (with their counts) and the mark of a renamed table."""
    counts = pd.Series([f.on_delete for f in direct]).value_counts()
    handles = [Line2D([0], [0], color=c, lw=3, label=f"ON DELETE {k} ({counts.get(k, 0)})")
               for k, c in ON_DELETE_COLORS.items() if counts.get(k, 0)]
    handles.append(Line2D([0], [0], marker="s", lw=0, markeredgecolor="black", markerfacecolor="#bdc1c6",
                          markersize=8, label="renamed by this plan too"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles), fontsize=9,
              frameon=False)


def plan_chart(analysis_or_plan) -> Chart | Markdown:
    plan = getattr(analysis_or_plan, "plan", analysis_or_plan)
    if not plan.ops:
        return note("_Empty plan._")
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


# -- execute and rollback (02-execute, 04-rollback) ------------------------------------------------

def _unit_label(u: list) -> str:
    if len(u) == 1:
        return _short(f"{u[0].step}. {u[0].description}", 56)
    return f"{u[0].step}-{u[-1].step}. {len(u)} steps under the lock, timed together"


def step_chart(result) -> Chart | Markdown:
    """Each step's time (log scale: catalog steps take microseconds, data steps longer);
    the steps the lock window times together as one bar."""
    if not result.steps:
        return note("_Dry run: no step ran; nothing was changed._" if result.action == "dry-run" else
                     f"_No step ran ({result.status}): nothing to chart._")
    ss = list(result.steps)
    units = timed_units(ss)
    fig = Figure(figsize=(11, 0.17 * len(units) + 1.6))
    ax = fig.subplots()
    vals = [max(sum(s.seconds for s in u) * 1000, 1e-3) for u in units]
    ax.barh(range(len(units)), vals, color=[PHASE_COLORS.get(u[0].phase, "#80868b") for u in units], height=0.75)
    ax.set_yticks(range(len(units)), [_unit_label(u) for u in units], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds (log scale)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#e8eaed", which="both")
    ax.set_axisbelow(True)
    phases = [p for p in PHASE_COLORS if any(s.phase == p for s in ss)]
    ax.legend(handles=[Patch(color=PHASE_COLORS[p], label=p) for p in phases], loc="lower right", fontsize=8,
              title="phase")
    ax.set_title(f"Step timings: {len(ss)} steps, {sum(s.seconds for s in ss) * 1000:,.1f} ms; exclusive locks held "
                 f"{result.lock_window_s * 1000:,.2f} ms", fontsize=10, loc="left")
    fig.tight_layout()
    return Chart(fig, "step timings")


def lock_waits(result) -> Chart | Markdown:
    """The lock window as a timeline: waiting for the exclusive locks (the only lock
    wait: one ``LOCK TABLE`` takes them all before the first locked step), then each
    step under them, then the checks, the audit row and COMMIT."""
    ss = [s for s in result.steps if s.phase == LOCK]
    if not ss:
        return note("_No step ran under the exclusive lock._")
    wait = sum(s.lock_wait_s for s in ss) * 1000
    held = result.lock_window_s * 1000
    fig = Figure(figsize=(11, 2.6))
    ax = fig.subplots()
    ax.barh([0], [wait], color="#f29900", height=0.5, label=f"waiting for the locks: {wait:,.3f} ms")
    x = wait
    units = timed_units(ss)
    for i, u in enumerate(units):
        d = sum(s.seconds for s in u) * 1000
        ax.barh([0], [d], left=[x], color="#d93025" if i % 2 == 0 else "#f28b82", height=0.5)
        x += d
    rest = max(held - (x - wait), 0.0)
    ax.barh([0], [rest], left=[x], color="#bdc1c6", height=0.5,
            label=f"checks, audit row, COMMIT: {rest:,.2f} ms")
    ax.barh([0], [0], color="#d93025", label=f"{len(ss)} steps under the lock: {sum(s.seconds for s in ss) * 1000:,.2f} ms")
    for k in sorted(range(len(units)), key=lambda k: -sum(s.seconds for s in units[k]))[:3]:
        u = units[k]
        start = wait + sum(s.seconds for v in units[:k] for s in v) * 1000
        name = f"step {u[0].step}" if len(u) == 1 else f"steps {u[0].step}-{u[-1].step}"
        ax.annotate(name, xy=(start + sum(s.seconds for s in u) * 500, 0.25), xytext=(0, 8),
                    textcoords="offset points", ha="center", fontsize=7)
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


# -- verify (03-verify, 04-rollback) ---------------------------------------------------------------

def row_count_chart(obj) -> Chart | Markdown:
    v = verification_of(obj)
    if v is None or not v.counts:
        return note("_No row counts to chart._")
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


def checks_chart(obj) -> Chart | Markdown:
    v = verification_of(obj)
    if v is None or not v.checks:
        return note("_No checks to chart._")
    df = pd.DataFrame([{"kind": str(c.kind), "ok": c.ok} for c in v.checks])
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

