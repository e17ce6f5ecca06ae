"""``runbook status``: where the database stands; changes nothing."""

from __future__ import annotations

from ..status import STATES
from .args import database_options
from .output import _json, _print_table


def cmd_status(a) -> int:
    from ..status import status

    st = status(a.database_url, a.mapping)
    code = 0 if not a.expect or st.state in a.expect else 1  # whatever the output format
    if a.json:
        _json(st.to_dict())
        return code
    print(f"database {st.database}, schema {st.schema}")
    print(f"\nTables ({len(st.tables)}):")
    _print_table([{"from": t.old, "to": t.new, "where": _where(t.where)} for t in st.tables])
    print(f"\nRuns (runbook.runs, newest first; {len(st.history)}):")
    _print_table([r.row() for r in st.history])
    print(f"\n{st.state}: {st.detail}")
    print(f"next: {st.next_step}")
    print(st.verdict)
    return code


def _where(where: str) -> str:
    return {"old": "old name", "new": "new name", "both": "both names exist", "missing": "neither name"}[where]


def add_commands(sub) -> None:
    """``runbook status`` (called by :func:`runbook.cli.build_parser`)."""
    sp = sub.add_parser("status", help="where the database stands: not migrated, migrated, rolled back, "
                                       "half-migrated, interrupted (changes nothing)")
    database_options(sp)
    sp.add_argument("--expect", choices=STATES, metavar="STATE", action="append",
                    help="exit 1 unless the database is in STATE (repeatable: in one of them; for scripts: "
                         "`make lab` expects 'not migrated' or 'rolled back'); without it every state read exits 0")
    sp.set_defaults(func=cmd_status)
