"""Progress bars (tqdm; ``tqdm.auto``'s widget in a notebook), shown only where someone
watches them: in a notebook's kernel, or when stderr is a terminal. Piped, redirected to a
log, or with ``progress=False`` (``--no-progress``, ``--json``), nothing is drawn.

:func:`finish` ends a bar at 100%: a bar whose total was an estimate (the backup's size)
or unknown (the rows a fill will touch) takes the count it reached as its total.
"""

from __future__ import annotations

import os
import sys


def watched() -> bool:
    """A notebook's kernel shows its bars (papermill streams them too); elsewhere only a
    terminal does."""
    if "ipykernel" in sys.modules:
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def bar(desc: str, *, total: int | None = None, unit: str = "it", enabled: bool = True, leave: bool = True, **kw):
    """A tqdm bar on stderr, disabled unless ``enabled`` and :func:`watched`."""
    from tqdm.auto import tqdm

    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and "ncols" not in kw:  # as wide as the rest of the output (cli.output)
        kw["ncols"] = int(columns)
    return tqdm(total=total, desc=desc, unit=unit, disable=not (enabled and watched()), leave=leave,
                file=sys.stderr, **kw)


def finish(pb) -> None:
    """Draw ``pb`` at 100% of what it counted (its total becomes its count), then close it."""
    if not pb.disable and pb.n and pb.total != pb.n:  # nothing counted: no 100% of nothing
        pb.total = pb.n
        pb.refresh()
    pb.close()
