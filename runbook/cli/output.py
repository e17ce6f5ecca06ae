"""Printing for the command line: tables, headings, notes and the verdict line (rich); JSON.

One :class:`rich.console.Console` per command (made on first use, dropped by :func:`reset`,
which ``main`` calls), honouring the environment: in a terminal, colour (none with
``NO_COLOR``) and the terminal's width (``COLUMNS`` wins when set); piped, plain text with
no ANSI escape and no box-drawing, wrapped at ``COLUMNS`` when it is set and not at all
otherwise, so that logs stay greppable. Nothing is read as rich markup: a ``[service]`` or
an SQL text prints as it is. rich is imported inside the functions (``runbook --help``
stays quick).
"""

from __future__ import annotations

import json
import os

_console = None
UNWRAPPED = 100_000  # the width of piped output without COLUMNS: lines are never wrapped
TONES = {"ok": "bold green", "warn": "bold yellow", "bad": "bold red"}
_CELL_STYLES = {"FAIL": "bold red", "NO": "bold red", "blocker": "bold red", "warning": "yellow",
                "pass": "green", "ok": "green", "yes": "green"}


def console():
    """The command's one Console (stdout; the stream is looked up at each write)."""
    global _console
    if _console is None:
        from rich.console import Console

        kw = dict(markup=False, highlight=False, emoji=False)
        if os.environ.get("NO_COLOR"):
            kw["color_system"] = None  # no colour and no bold either: no escape at all
        c = Console(**kw)
        if not c.is_terminal and not os.environ.get("COLUMNS", "").strip().isdigit():
            c = Console(width=UNWRAPPED, **kw)
        _console = c
    return _console


def reset() -> None:
    """Forget the Console: the next command makes its own from the environment then."""
    global _console
    _console = None


def _box(con):
    from rich import box

    if con.is_terminal:
        return box.SIMPLE_HEAD
    return box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


def _print_table(rows: list[dict], cols: list[str] | None = None) -> None:
    """Rows as a table whose long cells wrap within the console's width."""
    con = console()
    if not rows:
        con.print("  (none)")
        return
    from rich.table import Table

    cols = cols or list(rows[0])
    t = Table(box=_box(con), show_edge=False, pad_edge=False, header_style="bold", padding=(0, 1, 0, 0))
    for c in cols:
        numeric = all(_numeric(r.get(c)) for r in rows)
        t.add_column(c, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold")
    for r in rows:
        t.add_row(*(_cell(r.get(c)) for c in cols))
    _emit(t)


def _emit(renderable) -> None:
    """Print a table; piped, without the spaces that pad its lines' ends (clean logs)."""
    con = console()
    if con.is_terminal:
        con.print(renderable)
        return
    with con.capture() as cap:
        con.print(renderable)
    con.file.write("".join(l.rstrip() + "\n" for l in cap.get().splitlines()))


def _numeric(v) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _cell(v):
    from rich.text import Text

    s = _fmt(v)
    return Text(s, style=_CELL_STYLES.get(s.split(" ", 1)[0], ""))


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return f"{v:,.3f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def passed(ok: bool) -> str:
    """A check's outcome in words (never a raw True/False)."""
    return "pass" if ok else "FAIL"


def heading(title: str) -> None:
    """A section heading, after a blank line."""
    from rich.text import Text

    con = console()
    con.print()
    con.print(Text(title, style="bold underline"))


def line(text: str = "", style: str = "") -> None:
    """A line of text, wrapped at the console's width."""
    from rich.text import Text

    console().print(Text(text, style=style))


def notes(items, label: str = "note:", indent: int = 0) -> None:
    """``note: ...`` lines; a long one wraps under its text, not under the label."""
    if not items:
        return
    from rich.table import Table

    g = Table.grid(padding=(0, 1, 0, 0))
    g.add_column(no_wrap=True)
    g.add_column(overflow="fold")
    for n in items:  # a note that carries a finding code says it: "note RB204:"
        code = getattr(n, "code", "")
        g.add_row(" " * indent + (f"{label[:-1]} {code}:" if code and label.endswith(":") else label), str(n))
    _emit(g)


def verdict(word: str, text: str, tone: str = "ok") -> None:
    """The command's last line on stdout, ``word: text``; coloured in a terminal (where
    it wraps like any text narrower than it); piped, one line (``tail -1`` reads it)."""
    from rich.text import Text

    console().print(Text.assemble((f"{word}:", TONES[tone]), f" {text}" if text else ""))


def _json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))
