"""The fleet's ``index.html`` (``<output_dir>/index.html``): the verdict first, a table of
every database linking its archive, and the rollout over time (inline SVG: databases
migrated and failed against the time of each rollout run), drawn from the state file."""

from __future__ import annotations

import html
import os
from datetime import datetime
from pathlib import Path

from . import state as fstate
from .inventory import Inventory

__all__ = ["write_index", "verdict_of", "INDEX"]

INDEX = "index.html"
_TONE = {"migrated": "green", "already migrated": "green", "failed": "red", "blocked": "red", "held": "amber",
         "rolled back": "amber", "running": "grey", "pending": "grey"}


def verdict_of(counts: dict[str, int], last_run: dict | None) -> tuple[str, str]:
    """(word, headline) of the fleet as it stands."""
    total = sum(counts.values())
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if last_run and last_run.get("stopped"):
        s = last_run["stopped"]
        return "failed", f"stopped before wave {s['before_wave']}: {s['why']}; {parts}"
    if counts.get("failed"):
        return "failed", f"{counts['failed']} of {total} failed; {parts}"
    if counts.get("running"):
        return "running", f"{counts['running']} running; {parts}"
    if counts.get("pending") or counts.get("rolled back"):
        return "pending", f"not finished: {parts}"
    return "migrated", f"every database with an approved plan is migrated: {parts}"


def _parse(t: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(t) if t else None
    except ValueError:
        return None


def chart_svg(st: dict) -> str:
    """Cumulative databases migrated (green) and failed (red) over time, one step per
    outcome of a rollout run; rollbacks count down."""
    from ..report.box import TONES

    points = sorted((o for o in st.get("outcomes", []) if _parse(o.get("finished_at"))), key=lambda o: o["finished_at"])
    if not points:
        return "<p style='color: #5f6368'>No rollout has run yet.</p>"
    t0 = _parse(points[0]["started_at"]) or _parse(points[0]["finished_at"])
    t_end = _parse(points[-1]["finished_at"])
    span = max((t_end - t0).total_seconds(), 1e-3)
    migrated = failed = 0
    series = {"migrated": [(0.0, 0)], "failed": [(0.0, 0)]}
    for o in points:
        x = (_parse(o["finished_at"]) - t0).total_seconds()
        if o["action"] == "rollback":
            migrated -= o["state"] == "rolled back"
        elif o["state"] == "migrated":
            migrated += 1
        elif o["state"] == "failed":
            failed += 1
        series["migrated"].append((x, migrated))
        series["failed"].append((x, failed))
    top = max(max(v for _, v in s) for s in series.values()) or 1
    w, h, left, bottom = 760, 220, 44, 28
    pw, ph = w - left - 120, h - bottom - 12

    def xy(x, v):
        return left + x / span * pw, 12 + ph - v / top * ph

    out = [f"<line x1='{left}' y1='{12 + ph}' x2='{left + pw}' y2='{12 + ph}' stroke='#bdc1c6'/>",
           f"<line x1='{left}' y1='12' x2='{left}' y2='{12 + ph}' stroke='#bdc1c6'/>",
           f"<text x='{left - 6}' y='16' font-size='11' text-anchor='end'>{top}</text>",
           f"<text x='{left - 6}' y='{12 + ph}' font-size='11' text-anchor='end'>0</text>",
           f"<text x='{left}' y='{h - 6}' font-size='11'>0 s</text>",
           f"<text x='{left + pw}' y='{h - 6}' font-size='11' text-anchor='end'>{span:,.1f} s</text>"]
    for i, (name, tone) in enumerate((("migrated", "green"), ("failed", "red"))):
        pts, prev = [], None
        for x, v in series[name]:
            if prev is not None:
                pts.append("{:.1f},{:.1f}".format(*xy(x, prev)))
            pts.append("{:.1f},{:.1f}".format(*xy(x, v)))
            prev = v
        fg = TONES[tone][0]
        out.append(f"<polyline fill='none' stroke='{fg}' stroke-width='2' points='{' '.join(pts)}'/>")
        out.append(f"<text x='{left + pw + 10}' y='{30 + 16 * i}' font-size='12' fill='{fg}'>{name}: "
                   f"{series[name][-1][1]}</text>")
    # the start of each wave of each run (the first database of it to start)
    waves: dict = {}
    for o in points:
        key = (o["run"], st["databases"].get(o["database"], {}).get("wave"))
        t = _parse(o.get("started_at"))
        if t and (key not in waves or t < waves[key][1]):
            waves[key] = (o["action"], t)
    for i, ((run, wave), (action, t)) in enumerate(sorted(waves.items(), key=lambda kv: kv[1][1])):
        x, _ = xy(max((t - t0).total_seconds(), 0), 0)
        label = f"wave {wave}" if action == "migrate" else f"rollback wave {wave}"
        y = 12 + ph - 4 - 12 * (i % 3)  # staggered: waves that start close together stay readable
        out.append(f"<line x1='{x:.1f}' y1='12' x2='{x:.1f}' y2='{12 + ph}' stroke='#9aa0a6' "
                   f"stroke-dasharray='3,3'/><text x='{x + 3:.1f}' y='{y}' font-size='10' fill='#5f6368'>"
                   f"{html.escape(label)}</text>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' role='img' font-family='sans-serif' "
            f"aria-label='the rollout over time: databases migrated and failed'>{''.join(out)}</svg>")


def write_index(inv: Inventory) -> Path:
    from markupsafe import Markup

    from ..report.box import TONES, box_html, html_table

    st = fstate.read(inv.state_file)
    counts = fstate.counts(st, [d.name for d in inv.databases])
    last = st["runs"][-1] if st["runs"] else None
    word, headline = verdict_of(counts, last)
    facts = [("inventory", inv.path.name), ("databases", len(inv.databases)), ("waves", len(inv.waves)),
             ("runner", inv.runner), ("concurrency", inv.concurrency),
             ("approved plans", ", ".join(a[:12] for a in _approved(inv, st)) or "none"),
             ("last run", f"{last['action']} {last['id']} ({last.get('outcome', 'running')})" if last else "none"),
             ("updated (UTC)", st.get("updated_at", "-"))]
    numbers = [(s, n) for s, n in counts.items() if n]
    rows = []
    for d in inv.databases:
        e = st["databases"].get(d.name, {})
        s = e.get("state", "pending")
        fg = TONES[_TONE.get(s, "grey")][0]
        arch = e.get("archive")
        link = (Markup(f"<a href='{html.escape(Path(arch).as_posix())}'>{html.escape(Path(arch).parent.name)}</a>")
                if arch else "–")
        rows.append([d.name, inv.wave_of(d.name), ", ".join(f"{k}={v}" for k, v in d.tags.items()),
                     Markup(f"<b style='color: {fg}'>{html.escape(s)}</b>"), (e.get("fingerprint") or "")[:12] or "–",
                     " ".join(str(e.get("reason", "")).split())[:140], f"{e['seconds']:,.1f}\u00a0s" if e.get("seconds") else "–",
                     link])
    waves = [[i, label, len(w), ", ".join(w[:8]) + (" ..." if len(w) > 8 else "")]
             for i, (label, w) in enumerate(zip(inv.wave_labels, inv.waves), 1)]
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>runbook fleet: {html.escape(word)}</title></head><body style='margin: 24px auto; max-width: 1200px; "
            "padding: 0 16px; font-family: -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif; color: #202124'>"
            f"<h1 style='font-size: 22px; margin: 0 0 4px 0'>runbook fleet · {html.escape(inv.path.name)}</h1>"
            + box_html(word, headline, facts, numbers)
            + "<h2 style='font-size: 16px'>The rollout over time</h2>" + chart_svg(st)
            + "<h2 style='font-size: 16px'>Databases</h2>"
            + html_table(["database", "wave", "tags", "state", "plan", "why", "took", "archive"], rows)
            + "<h2 style='font-size: 16px'>Waves</h2>" + html_table(["wave", "selector", "databases", "names"], waves)
            + "</body></html>\n")
    path = inv.output_dir / INDEX
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{INDEX}.{os.getpid()}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _approved(inv: Inventory, st: dict) -> list[str]:
    from .planning import approvals

    return approvals(inv, st)
