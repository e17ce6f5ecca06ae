"""``runbook contract``: drop the compat views of the last migration (expand / contract)."""

from __future__ import annotations

import sys

from .args import database_options
from .output import _json, _print_table, verdict


def cmd_contract(a) -> int:
    from ..api import contract

    r = contract(a.database_url, a.mapping, quiet_for=a.quiet_for, force=a.force, dry_run=a.dry_run, undo=a.undo,
                 progress=not a.no_progress and not a.json, lock_timeout=a.lock_timeout)
    if a.json:
        _json(r.summary())
    else:
        _show(r, a.undo)
    if r.status == "refused":
        print(f"runbook: contract refused: {r.reason}; nothing was changed", file=sys.stderr)
    return r.exit_code


def _show(r, undo: bool) -> None:
    if r.use:
        print(f"Use of the compat views of migration {r.migration} (pg_stat_statements: queries naming them):")
        _print_table([{"view": u.view, "calls": "-" if u.calls is None else u.calls,
                       "quiet": "-" if u.quiet is None else ("yes" if u.quiet else "no"), "detail": u.detail}
                      for u in r.use])
    if r.note:
        print(r.note)
    print(f"\n{'Would run' if r.status == 'planned' else 'Steps'} ({len(r.plan.ops)}):")
    _print_table([{"step": x["step"], "description": x["description"]} for x in r.plan.as_rows()])
    if r.status == "planned":
        tail = f"; it would refuse: {r.reason}" if r.reason else ""
        verdict("dry run", f"{len(r.plan.ops)} views would be {'re-created' if undo else 'dropped'}{tail}", "warn")
    elif r.status == "refused":
        verdict("refused", r.reason, "warn")
    else:
        verdict(r.status, f"{len(r.plan.ops)} compat views {'re-created' if undo else 'dropped'} "
                          f"(lock window {r.lock_window_s * 1000:.1f} ms); run {r.run_id}")


def add_commands(sub) -> None:
    """``runbook contract`` (called by :func:`runbook.cli.build_parser`)."""
    sp = sub.add_parser("contract", help="drop the compat views of `migrate --compat-views` once unused "
                                         "(a run of its own, audited; --undo re-creates them)")
    database_options(sp)
    sp.add_argument("--quiet-for", default="1h",
                    help="refuse unless no query named a view since a reading at least this old (default 1h)")
    sp.add_argument("--force", action="store_true",
                    help="drop the views even when their use cannot be measured or they were used")
    sp.add_argument("--dry-run", action="store_true", help="report the views' use and what would be dropped; "
                                                           "change nothing")
    sp.add_argument("--undo", action="store_true", help="re-create the views the last contract dropped")
    sp.add_argument("--lock-timeout", default="5s", help="lock_timeout of the drop's transaction (default 5s)")
    sp.add_argument("--no-progress", action="store_true",
                    help="no progress bars (none either when stderr is not a terminal)")
    sp.set_defaults(func=cmd_contract)
