"""Printing for the command line: aligned tables and JSON."""

from __future__ import annotations

import json
import sys


def _print_table(rows: list[dict], cols: list[str] | None = None, out=None) -> None:
    out = out or sys.stdout
    if not rows:
        print("  (none)", file=out)
        return
    cols = cols or list(rows[0])
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in cols}
    print("  " + "  ".join(c.ljust(widths[c]) for c in cols), file=out)
    print("  " + "  ".join("-" * widths[c] for c in cols), file=out)
    for r in rows:
        print("  " + "  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in cols), file=out)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def _json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))
