"""The archive's pages, as a reviewer reads them: each executed notebook's HTML (no code,
the verdict box first, the parameters once as a table, the engine's log folded at the end)
and the run's ``index.html`` (the verdict, the timeline, a link to every file).

The executed ``.ipynb`` keeps everything (code, both parameter cells, the log where it was
printed) for the audit; only its HTML is arranged for reading.
"""

from __future__ import annotations

import ast
import html
import io
import json
import tokenize
from pathlib import Path
from urllib.parse import quote

from ..connection import redact

__all__ = ["INDEX", "to_html", "reviewer_view", "parameters_of", "index_html"]

INDEX = "index.html"
_PARAMS, _INJECTED = "parameters", "injected-parameters"

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
    """The executed notebook as one self-contained HTML file (charts as data:image/png),
    arranged by :func:`reviewer_view`, with no code cell's input."""
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = reviewer_view(nbformat.read(ipynb, as_version=4))
    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"runbook.html.j2": _TEMPLATE})],
                            template_file="runbook.html.j2", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": ipynb.stem}})
    out = ipynb.with_suffix(".html")
    out.write_text(body, encoding="utf-8")
    return out


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def reviewer_view(nb):
    """A copy of the executed notebook ``nb`` for its HTML: the ``parameters`` and
    ``injected-parameters`` cells replaced by one table of the parameters that took effect
    (after the run's ``context`` cell, else its ``verdict`` cell, else where they were);
    every stream output (the engine's log, progress bars) moved to a folded log section
    at the end; code cells left without output dropped."""
    import copy

    import nbformat

    nb = copy.deepcopy(nb)
    table = _parameters_cell(nb)
    cells, log, at = [], [], None
    for c in nb.cells:
        if {_PARAMS, _INJECTED} & set(_tags(c)):
            at = len(cells) if at is None else at
            continue
        if c.cell_type == "code":
            log += [o.get("text", "") for o in c.outputs if o.output_type == "stream"]
            c.outputs = [o for o in c.outputs if o.output_type != "stream"]
            if not c.outputs:
                continue
        cells.append(c)
    anchors = [i + 1 for tag in ("context", "verdict") for i, c in enumerate(cells) if tag in _tags(c)]
    cells.insert(anchors[0] if anchors else (at or 0), table)
    if any(t.strip() for t in log):
        cells += [nbformat.v4.new_markdown_cell("## Log"), _html_cell(_log_html("".join(log)))]
    nb.cells = cells
    return nb


def _html_cell(markup: str):
    import nbformat

    return nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output("display_data", data={"text/html": markup})])


def _log_html(text: str) -> str:
    lines = [line.rsplit("\r", 1)[-1] for line in text.replace("\r\n", "\n").splitlines()]
    lines = [line for line in lines if line.strip()]
    return (f"<details><summary style='cursor: pointer'>What the engine printed while this notebook ran "
            f"({len(lines)} lines)</summary><pre style='white-space: pre-wrap; font-size: 11px; max-height: 600px; "
            f"overflow: auto; background: #f8f9fa; border: 1px solid #dadce0; padding: 8px'>"
            f"{html.escape(chr(10).join(lines))}</pre></details>")


def _shown(value) -> str:
    """A parameter's value as the parameters cell writes it; a connection string never as is."""
    if isinstance(value, str):
        return json.dumps(redact(value) if "://" in value or "password" in value.lower() else value)
    return repr(value)


def parameters_of(nb) -> list[tuple[str, str, str, str]]:
    """The parameters that took effect in the executed notebook ``nb``: (name, value as
    shown, ``set by the run`` or ``default``, the parameters cell's comment)."""
    cell = next((c for c in nb.cells if _PARAMS in _tags(c)), None)
    given = dict(nb.metadata.get("papermill", {}).get("parameters", {}))
    rows, seen = [], set()
    src = cell.source if cell is not None else ""
    comments = {t.start[0]: t.string.lstrip("#").strip()
                for t in tokenize.generate_tokens(io.StringIO(src).readline) if t.type == tokenize.COMMENT}
    for node in ast.parse(src).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            default = ast.unparse(node.value)
        seen.add(name)
        value = given.get(name, default)
        source = "set by the run" if name in given else "default"
        rows.append((name, _shown(value), source, comments.get(node.lineno, "")))
    rows += [(k, _shown(v), "set by the run", "") for k, v in given.items() if k not in seen]
    return rows


def _parameters_cell(nb):
    from ..report.box import html_table

    rows = [list(r) for r in parameters_of(nb)]
    return _html_cell(html_table(["parameter", "value", "from", "meaning"], rows,
                                 caption=f"Parameters that took effect ({len(rows)})"))


# -- index.html ---------------------------------------------------------------------------------

_SAY = {"planned": "dry run"}
_STATUS_TONE = {"ok": "green", "failed": "red", "not run": "grey"}
_WHAT = {"summary.json": "the run's summary: verdict, row counts, step timings, versions",
         "MANIFEST.sha256": "sha256 of every other file (runbook evidence check, sha256sum -c)",
         "rollback.sql": "the plan's rollback, derived from it (its header: the fingerprint, and whether it ran)",
         "migration.sql": "the plan's migration SQL (its header: the fingerprint, and whether it ran)",
         "backup-pointer.txt": "where the backup is kept, outside the archive",
         "index.html": "this page", "analysis.json": "what 01-analysis saved", "execute.json": "what 02-execute saved",
         "verify.json": "what 03-verify saved", "rollback.json": "what 04-rollback saved",
         "findings.html": "what each finding code (RB101 ...) in the reports means, and its fix"}


def _what(name: str) -> str:
    if name in _WHAT:
        return _WHAT[name]
    if name.startswith("migration-log-"):
        return "the engine's log of the run"
    if name.startswith("backup-") and name.endswith(".dump"):
        return "the backup (pg_dump, custom format), verified with pg_restore --list"
    if name.startswith("backup-") and name.split("/")[0].endswith(".dir"):
        return "part of the backup (pg_dump, directory format), verified with pg_restore --list"
    if name.endswith(".html"):
        return "report (open in a browser)"
    if name.endswith(".ipynb"):
        return "executed notebook, with its code (open in JupyterLab)"
    return ""


def _link(name: str):
    from markupsafe import Markup, escape

    return Markup(f"<a href='{escape(quote(name))}'>{escape(name)}</a>")


def _numbers(s: dict) -> list[tuple[str, object]]:
    ex = s.get("execute") or {}
    last = ((s.get("rollback") or {}).get("verification") or s.get("reverification") or s.get("verification") or {})
    rows = [r.get("rows_after") for r in s.get("row_counts") or [] if r.get("rows_after") is not None]
    ran = [n for n in s.get("notebooks", []) if n.get("status") != "not run"]
    return [("notebooks ok", f"{sum(n.get('status') == 'ok' for n in ran)}/{len(ran)}"),
            ("operations", s.get("operations") or "–"),
            ("lock window (measured)", f"{ex['lock_window_s'] * 1000:,.1f} ms" if ex.get("lock_window_s") else "–"),
            ("checks passed", f"{last['passed']}/{last['checks']}" if last.get("checks") else "–"),
            ("rows counted at the end", f"{sum(rows):,}" if rows else "–")]


def _headline(s: dict) -> str:
    """The run's verdict in one sentence: its message, else what the verdict means."""
    if s.get("message"):
        return str(s["message"])
    last = ((s.get("rollback") or {}).get("verification") or s.get("reverification") or s.get("verification") or {})
    checks = f": {last['passed']}/{last['checks']} checks pass" if last.get("checks") else ""
    said = {"migrated": f"The plan ran and the database was verified{checks}.",
            "planned": "Dry run: nothing was changed.", "nothing to do": "The database was already in the target state."}
    return said.get(s.get("verdict"), str(s.get("verdict")))


def _status(status: str | None):
    from markupsafe import Markup, escape

    from ..report.box import TONES

    fg = TONES[_STATUS_TONE.get(status, "grey")][0]
    return Markup(f"<b style='color: {fg}'>{escape(status)}</b>")


def _timeline_svg(notebooks: list[dict]) -> str:
    """The notebooks in order, a bar per notebook as long as it ran (inline SVG)."""
    from ..report.box import TONES

    ran = [n for n in notebooks if n.get("status") != "not run"]
    total = sum(n.get("seconds") or 0 for n in ran) or 1.0
    width, left, h = 760, 110, 22
    x, bars = 0.0, []
    for i, n in enumerate(ran):
        w = max((n.get("seconds") or 0) / total * (width - left - 70), 2)
        fg = TONES[_STATUS_TONE.get(n.get("status"), "grey")][0]
        y = 6 + i * (h + 6)
        bars.append(f"<text x='0' y='{y + 15}' font-size='12'>{html.escape(n['name'])}</text>"
                    f"<rect x='{left + x:.1f}' y='{y}' width='{w:.1f}' height='{h}' rx='3' fill='{fg}'/>"
                    f"<text x='{left + x + w + 6:.1f}' y='{y + 15}' font-size='11' fill='#5f6368'>"
                    f"{(n.get('seconds') or 0):,.1f} s</text>")
        x += w
    height = 12 + len(ran) * (h + 6)
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
            f"aria-label='timeline of the run' font-family='sans-serif'>{''.join(bars)}</svg>")


def index_html(folder: Path, s: dict, files: list[str]) -> str:
    """``index.html`` of the archive ``folder`` from its summary ``s``: the verdict box,
    the notebooks and their timeline, every file in ``files`` (names relative to ``folder``)."""
    from ..report.box import box_html, html_table

    verdict = str(s.get("verdict"))
    word = _SAY.get(verdict, verdict)
    fp = s.get("fingerprint") or ""
    facts = [("environment", s.get("environment")), ("database", s.get("database")),
             ("plan fingerprint", f"sha256:{fp}"),
             ("started (UTC)", s.get("started_at")), ("finished (UTC)", s.get("finished_at")),
             ("duration", f"{s.get('duration_s') or 0:,.1f} s"), ("dry run", "yes" if s.get("dry_run") else "no")]
    box = box_html(word, _headline(s), facts, _numbers(s))
    present = set(files)
    links = [[_link(f"{n['name']}{ext}") if f"{n['name']}{ext}" in present else "–" for ext in (".html", ".ipynb")]
             for n in s.get("notebooks", [])]
    nb_rows = [[n["name"], _status(n.get("status")), f"{n['seconds']:,.1f} s" if n.get("seconds") else "–", *ln]
               for n, ln in zip(s.get("notebooks", []), links)]
    # a directory-format backup is one row: its folder, folded, each of its files linked inside
    from markupsafe import Markup, escape

    file_rows, dirs = [], {}
    for f in files:
        top = f.split("/")[0]
        if "/" in f and top.startswith("backup-") and top.endswith(".dir"):
            if top not in dirs:
                dirs[top] = [[], 0]
                file_rows.append(top)
            dirs[top][0].append(f)
            dirs[top][1] += (folder / f).stat().st_size if (folder / f).exists() else 0
            continue
        file_rows.append([_link(f), _what(f), f"{(folder / f).stat().st_size:,}" if (folder / f).exists() else "–"])
    file_rows = [r if not isinstance(r, str) else
                 [Markup("<details><summary>{}/ ({} files)</summary>{}</details>").format(
                     r, len(dirs[r][0]), Markup("<br>").join(_link(f) for f in dirs[r][0])),
                  "the backup (pg_dump, directory format; toc.dat is its table of contents), verified with "
                  "pg_restore --list", f"{dirs[r][1]:,}"] for r in file_rows]
    problems = "".join(f"<li>{html.escape(str(p))}</li>" for p in s.get("problems") or [])
    backup = s.get("backup") or {}
    outside = (f"<p>The backup is kept outside the archive: <code>{html.escape(str(backup.get('file')))}</code> "
               f"(sha256 in {_link(backup['pointer'])}).</p>") if backup.get("pointer") else ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>runbook run {html.escape(str(s.get('environment')))}: {html.escape(word)} · plan "
        f"{html.escape(fp[:12])}</title></head><body style='margin: 24px auto; max-width: 1100px; padding: 0 16px; "
        "font-family: -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif; color: #202124'>"
        f"<h1 style='font-size: 22px; margin: 0 0 4px 0'>runbook run · {html.escape(str(s.get('environment')))}</h1>"
        f"<div style='color: #5f6368; font-size: 12px'>{html.escape(folder.name)}</div>{box}"
        + (f"<h2 style='font-size: 16px'>Problems</h2><ul>{problems}</ul>" if problems else "")
        + "<h2 style='font-size: 16px'>Reports</h2>"
        + html_table(["notebook", "status", "duration", "report", "notebook (with code)"], nb_rows)
        + "<h2 style='font-size: 16px'>Timeline</h2>" + _timeline_svg(s.get("notebooks", []))
        + "<h2 style='font-size: 16px'>Every file of the archive</h2>" + outside
        + html_table(["file", "what", "bytes"], file_rows)
        + "</body></html>\n")
