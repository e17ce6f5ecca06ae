"""``runbook merge-legacy``: the legacy merge's command."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from ..merge import (DEFAULT_BATCH, MESSAGE_ID_PREFIX, PLACEHOLDER_TITLE, MergeResult, merge_legacy, merge_status,
                     rollback_merge)
from ..options import arg_count
from .output import _print_table


def _print_result(r: MergeResult, out=None) -> None:
    out = out or sys.stdout

    print(f"merge run {r.run}: {r.status}" + (" (resumed)" if r.resumed else ""), file=out)
    if r.rules and r.status not in ("rolled back", "rolling back"):
        for k, v in r.rules.items():
            print(f"  {k}: {v}", file=out)
    print("\nRow counts:", file=out)
    _print_table([{"table": c.table, "role": c.role, "before": c.before, "after": c.after, "merged": c.merged,
                   "skipped": c.skipped} for c in r.counts], out=out)
    total_skipped = r.sessions_skipped + r.messages_skipped
    print(f"\nSkipped rows ({total_skipped:,}; an id that already exists in the target is never overwritten):", file=out)
    _print_table([asdict(s) for s in r.skipped], out=out)
    if total_skipped > len(r.skipped):
        print(f"  ... {total_skipped - len(r.skipped):,} more in runbook.merge_skipped (run = {r.run})", file=out)
    if r.kept:
        print(f"\nKept by the rollback ({len(r.kept)} sessions the service has written messages into): "
              f"{', '.join(r.kept[:20])}{' ...' if len(r.kept) > 20 else ''}", file=out)
    if r.checks:
        print("", file=out)
        _print_table([{"check": c.name, "ok": "pass" if c.ok else "FAIL", "detail": c.detail} for c in r.checks],
                     out=out)
    if r.seconds:
        print(f"\n{r.rows:,} rows in {r.seconds:.2f}s ({r.rows_per_s:,.0f} rows/s), {r.batches} batches", file=out)


def cmd_merge_legacy(a) -> int:
    if a.rollback:
        r = rollback_merge(a.database_url, mapping=a.mapping, progress=not a.no_progress and not a.json, list_limit=a.list)
    elif a.status:
        r = merge_status(a.database_url, mapping=a.mapping, list_limit=a.list)
        if r is None:
            print("no merge-legacy run is recorded in this database")
            return 0
    else:
        r = merge_legacy(a.database_url, mapping=a.mapping, batch_size=a.batch_size, placeholder=a.placeholder_title,
                         progress=not a.no_progress and not a.json, list_limit=a.list)
    if a.json:
        print(json.dumps(r.to_dict(), indent=2, default=str))
    else:
        _print_result(r)
    if not r.ok:
        bad = next(c for c in r.checks if not c.ok)
        print(f"runbook: merge check failed: {bad.name}: {bad.detail}", file=sys.stderr)
        return 1
    return 0


def add_commands(sub) -> None:
    """``runbook merge-legacy``."""
    sp = sub.add_parser("merge-legacy", help="after the rename: merge the legacy conversations and messages the "
                                             "mapping's [merge] names into the service's tables (resumable, reversible)",
                        formatter_class=argparse.RawDescriptionHelpFormatter, description=(
        "Run after `runbook migrate` has committed. Rules:\n"
        "  a legacy conversation becomes a session with the same id; title = legacy title, or the\n"
        f"  placeholder ({PLACEHOLDER_TITLE!r}) when NULL; lastMessageAt = its newest message's createdAt;\n"
        f"  a legacy message id N becomes '{MESSAGE_ID_PREFIX}N' (a cuid never holds a hyphen);\n"
        "  an id that already exists in the target is not overwritten: counted and listed, with the\n"
        "  messages of a conversation that was not merged.\n"
        "Batches of whole conversations, one transaction each; re-run to resume; --rollback deletes\n"
        "exactly the recorded rows. Exit 0 ok, 1 a check failed, 2 bad input or wrong state."))
    sp.add_argument("--database-url", help="libpq URI (default: $DATABASE_URL)")
    sp.add_argument("--mapping", help="mapping file whose [merge] names the tables (default: runbook/data/mapping.toml)")
    sp.add_argument("--batch-size", type=arg_count(1, 10_000_000), default=DEFAULT_BATCH,
                    help=f"about this many legacy messages per transaction, whole conversations (default {DEFAULT_BATCH})")
    sp.add_argument("--placeholder-title", default=None,
                    help=f"title of a legacy conversation without one (default {PLACEHOLDER_TITLE!r})")
    g = sp.add_mutually_exclusive_group()
    g.add_argument("--rollback", action="store_true", help="delete exactly the rows the last merge inserted")
    g.add_argument("--status", action="store_true", help="report the last merge run; change nothing")
    sp.add_argument("--list", type=arg_count(0, 1_000_000), default=20, help="list at most this many skipped rows (default 20)")
    sp.add_argument("--no-progress", action="store_true")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_merge_legacy)
