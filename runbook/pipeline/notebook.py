"""One notebook run by papermill: its parameters in, the executed ``.ipynb`` out, with
the error at its top when it failed (a cell's exception, the cell timeout, a dead
kernel); its HTML is made by :mod:`~runbook.pipeline.pages`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput

__all__ = ["NOTEBOOKS", "KERNEL_ARGS", "NotebookRun", "notebooks_dir", "run_notebook", "mark_failed"]

NOTEBOOKS = ("01-analysis", "02-execute", "03-verify", "04-rollback")
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]  # no kernel chatter on the terminal


def notebooks_dir() -> Path:
    """``notebooks/`` next to the package (a source checkout or an editable install)."""
    here = Path(__file__).resolve().parents[2] / "notebooks"
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


def run_notebook(src: Path, dst: Path, parameters: dict, *, cell_timeout: int, out, err) -> str | None:
    """Execute ``src`` into ``dst`` with papermill, the kernel's output streamed to
    ``out``/``err``. None when every cell ran; otherwise the error, one line (not
    scrubbed: the caller scrubs it)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    # On timeout the kernel is interrupted (report.setup makes that cancel the running
    # query) and the run goes on at once with this error, without waiting for the cell.
    timeout = (f"a cell ran longer than cellTimeout = {cell_timeout}s; the kernel was interrupted "
               "and its running query cancelled")
    try:
        pm.execute_notebook(str(src), str(dst), parameters=parameters, kernel_name="python3",
                            execution_timeout=cell_timeout, progress_bar=False,
                            stdout_file=out, stderr_file=err, extra_arguments=KERNEL_ARGS,
                            coalesce_streams=True, interrupt_on_timeout=True,
                            error_on_timeout={"ename": "CellTimeoutError", "evalue": timeout, "traceback": []})
    except PapermillExecutionError as exc:
        # a timed-out cell ends with nbclient's error reply, which leaves no error output:
        # papermill then reports a bare CellExecutionError
        bare = exc.ename == "CellExecutionError" and not exc.evalue
        error = "" if bare else f"{exc.ename}: {exc.evalue}"
        if bare or _timed_out(dst, cell_timeout):
            error = f"CellTimeoutError: {timeout}" + (f"; then {error}" if error else "")
        return error
    except Exception as exc:  # a dead kernel, one that did not start ...: papermill marked nothing
        what = (str(exc).strip().splitlines() or [""])[0]
        return f"{type(exc).__name__}: {what}"
    return None


def mark_failed(ipynb: Path, message: str, facts: list[tuple[str, object]] = ()) -> None:
    """Put the error at the top of a failed notebook (papermill's error cell, with the
    message added, or a new one when papermill did not write one: timeout, dead kernel),
    as a ``failed`` verdict box with ``facts`` (environment, database redacted, plan)."""
    import nbformat

    from ..report.box import box_html

    if not ipynb.exists():
        return
    nb = nbformat.read(ipynb, as_version=4)
    line = box_html("failed", "This notebook failed; the run stopped here.", [*facts, ("error", message)], [])
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
