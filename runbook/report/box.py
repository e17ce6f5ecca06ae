"""The verdict box: the first thing a report shows (right after its title), and the
visual language the run's ``index.html`` shares with it.

One word (ready, blocked, migrated, verified, rolled back, failed, dry run ...) in the
colour of its tone (green, red, amber, grey), one sentence, where it ran (environment,
database redacted, plan fingerprint) and the few numbers that matter for that step. The
HTML is inline-styled, block and inline-block only, so that it looks the same in
JupyterLab, in the nbconvert HTML and in a browser opening the archive offline.

This module reads the API's frozen results and imports nothing heavy: the pipeline
draws the archive's index with the same :func:`box_html`.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from markupsafe import escape

from ..connection import redact

__all__ = ["TONES", "tone_of", "box_html", "verdict_of", "numbers_of", "verdict_box", "saved_fingerprint",
           "html_table"]

#: tone -> (strong colour, background)
TONES = {"green": ("#137333", "#e6f4ea"), "red": ("#c5221f", "#fce8e6"), "amber": ("#b06000", "#fef7e0"),
         "grey": ("#5f6368", "#f1f3f4")}
_TONE_OF = {"ready": "green", "migrated": "green", "verified": "green",
            "blocked": "red", "failed": "red", "verification failed": "red", "rollback failed": "red",
            "rolled back": "amber", "refused": "amber",
            "dry run": "grey", "planned": "grey", "nothing to do": "grey", "rehearsed": "grey"}
_FONT = "font-family: -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"


def tone_of(word: str) -> str:
    """The tone of a verdict word (grey for one it does not know)."""
    return _TONE_OF.get(word, "grey")


def box_html(word: str, headline: str, facts: list[tuple[str, object]], numbers: list[tuple[str, object]]) -> str:
    """The box: ``word`` as a coloured badge, ``headline`` beside it, ``facts`` as
    label/value lines, ``numbers`` as tiles. Everything is HTML-escaped."""
    fg, bg = TONES[tone_of(word)]
    e = html.escape
    fact_lines = "".join(
        f"<div style='margin: 1px 0'><span style='display: inline-block; min-width: 120px; color: #5f6368'>"
        f"{e(str(k))}</span><span style='font-family: monospace; overflow-wrap: anywhere'>{e(str(v))}</span></div>"
        for k, v in facts)
    tiles = "".join(
        f"<div style='display: inline-block; vertical-align: top; min-width: 104px; margin: 8px 8px 0 0; "
        f"padding: 6px 10px; background: #ffffff; border: 1px solid #dadce0; border-radius: 4px'>"
        f"<div style='font-size: 20px; font-weight: bold; color: #202124'>{e(str(v))}</div>"
        f"<div style='font-size: 11px; color: #5f6368'>{e(str(k))}</div></div>"
        for k, v in numbers)
    return (
        f"<div class='runbook-verdict' data-verdict='{e(word)}' style='{_FONT}; color: #202124; "
        f"border: 1px solid {fg}; border-left: 10px solid {fg}; border-radius: 6px; background: {bg}; "
        "padding: 12px 16px; margin: 8px 0 16px 0; font-size: 13px; line-height: 1.45'>"
        f"<div><span style='display: inline-block; background: {fg}; color: #ffffff; font-weight: bold; "
        "font-size: 18px; padding: 2px 12px; border-radius: 4px; text-transform: uppercase; letter-spacing: 0.5px; "
        f"margin: 0 12px 4px 0'>{e(word)}</span><span style='font-size: 15px; font-weight: 600'>{e(headline)}</span>"
        f"</div><div style='margin-top: 6px'>{fact_lines}</div><div>{tiles}</div></div>")


def html_table(header: list[str], rows: list[list[object]], caption: str | None = None) -> str:
    """A small inline-styled table (the archive's index, the reports' parameters); a cell
    that is :class:`markupsafe.Markup` (a link) is HTML already, every other is escaped."""
    th = "".join(f"<th style='text-align: left; background: #f1f3f4; padding: 4px 8px; "
                 f"border-bottom: 1px solid #bdc1c6'>{escape(h)}</th>" for h in header)
    td = ("<td style='text-align: left; padding: 3px 8px; border-bottom: 1px solid #e8eaed; vertical-align: top'>"
          "{}</td>")
    body = "".join("<tr>" + "".join(td.format(escape(c)) for c in r) + "</tr>" for r in rows)
    cap = (f"<caption style='caption-side: top; text-align: left; font-weight: bold; padding: 4px 0'>"
           f"{escape(caption)}</caption>") if caption else ""
    return (f"<table style=\"{_FONT}; border-collapse: collapse; font-size: 12px; margin: 4px 0 12px 0\">{cap}"
            f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>")


# -- the verdict of each API result -----------------------------------------------------------------

def _is_analysis(obj) -> bool:
    return hasattr(obj, "plan") and hasattr(obj, "at_risk")


def _is_run(obj) -> bool:
    return hasattr(obj, "run_id") and hasattr(obj, "steps")


def _checks(v) -> str:
    return "–" if v is None else f"{sum(c.ok for c in v.checks)}/{len(v.checks)}"


def _rows(v) -> str:
    if v is None or not v.counts:
        return "–"
    return f"{sum(c.rows_after or 0 for c in v.counts):,}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _first_failed(v) -> str:
    bad = v.failed if v is not None else []
    return f"{bad[0].name}: {bad[0].detail}" if bad else ""


def verdict_of(obj) -> tuple[str, str]:
    """The verdict word of an ``Analysis``, ``RunResult`` or ``Verification``, and its sentence."""
    if _is_analysis(obj):
        return _analysis_verdict(obj)
    if _is_run(obj):
        return _run_verdict(obj)
    if obj.ok:
        return "verified", f"All {len(obj.checks)} checks pass."
    return "failed", f"{len(obj.failed)} of {len(obj.checks)} checks FAIL; first: {_first_failed(obj)}"


def _analysis_verdict(a) -> tuple[str, str]:
    why = [f"{b.kind} {b.object}: {b.reason}" for b in a.plan.blockers] + list(a.dump_problems)
    if why:
        more = f" (and {len(why) - 1} more)" if len(why) > 1 else ""
        return "blocked", f"The plan cannot run: {why[0]}{more}."
    if not a.plan.ops:
        return "nothing to do", "The database is already in the target state."
    sessions = f"; {len(a.blocking)} session(s) hold locks or long transactions" if a.blocking else ""
    return "ready", f"The plan can run: {len(a.plan.ops)} operations, no blocker{sessions}."


def _run_verdict(r) -> tuple[str, str]:
    v = r.verification
    if r.status == "planned":
        return "dry run", f"Nothing was changed: the {len(r.plan.ops)} steps below would run."
    if r.status == "failed":
        return "failed", r.message or _first_failed(v) or f"{r.action} failed"
    if r.status == "rolled back" and r.action == "rollback":
        return "rolled back", ("The migration was undone" + (f"; {_checks(v)} checks pass against the "
                                                              "pre-migration snapshot." if v else "."))
    if r.status == "migrated":
        renamed = sum(t.state == "todo" for t in r.plan.tables)
        return "migrated", (f"Renamed {renamed} tables in {len(r.steps)} steps; exclusive locks held "
                            f"{_ms(r.lock_window_s)}" + (f"; {_checks(v)} checks pass." if v else "."))
    if r.status == "nothing to do":
        return "nothing to do", r.message or "The database is already in the target state."
    return r.status, r.message or r.status


def numbers_of(obj) -> list[tuple[str, object]]:
    """The 3-5 numbers that matter for this result."""
    if _is_analysis(obj):
        a = obj
        return [("tables to rename", f"{sum(t.state == 'todo' for t in a.tables)}/{len(a.tables)}"),
                ("rows in them", f"{sum(t.rows or 0 for t in a.tables):,}"), ("operations", len(a.plan.ops)),
                ("estimated lock window", a.lock_estimate.text() if getattr(a, "lock_estimate", None) is not None
                 else _ms(a.estimated_downtime_s)),
                ("blockers", len(a.plan.blockers) + len(a.dump_problems))]
    if _is_run(obj):
        r = obj
        if r.status == "planned":
            ok = sum(c.ok for c in r.preflight)
            return [("steps that would run", len(r.plan.ops)), ("of them under the lock", len(r.plan.phase("lock"))),
                    ("preflight checks passed", f"{ok}/{len(r.preflight)}")]
        return [("steps run", len(r.steps)), ("lock window (measured)", _ms(r.lock_window_s)),
                ("waited for the locks", _ms(r.lock_wait_s)), ("checks passed", _checks(r.verification)),
                ("rows checked", _rows(r.verification))]
    return [("checks passed", _checks(obj)), ("tables checked", len(obj.counts)), ("rows checked", _rows(obj)),
            ("tables checksummed", sum(c.checksum_after is not None for c in obj.counts))]


def verdict_box(obj, *, environment: str, url: str | None = None, fingerprint: str | None = None):
    """The report's verdict box for ``obj`` (an ``Analysis``, ``RunResult`` or
    ``Verification``), the database URL shown redacted."""
    from IPython.display import HTML

    word, headline = verdict_of(obj)
    fp = fingerprint or getattr(obj, "fingerprint", None)
    facts = [("environment", environment), ("database", redact(str(url)) if url else "–"),
             ("plan fingerprint", f"sha256:{fp}" if fp else "–")]
    return HTML(box_html(word, headline, facts, numbers_of(obj)))


def saved_fingerprint(folder) -> str | None:
    """The fingerprint of the plan this run executed (``execute.json``), else of the
    plan it analysed (``analysis.json``), as the notebooks saved them in ``folder``."""
    for name, key in (("execute", ("fingerprint",)), ("analysis", ("plan", "fingerprint"))):
        try:
            d = json.loads((Path(folder) / f"{name}.json").read_text())
        except (OSError, ValueError):
            continue
        for k in key:
            d = d.get(k) if isinstance(d, dict) else None
        if d:
            return str(d)
    return None
