"""``runbook merge-legacy``: the legacy merge's command."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from ..ops.merge import DEFAULT_BATCH, MESSAGE_ID_PREFIX, PLACEHOLDER_TITLE  # the parser's; runbook.merge is loaded
from ..options import arg_count                                              # by the command, not by `runbook --help`
from .output import _print_table, heading, line, passed, verdict


def _print_result(r) -> None:
    line(f"merge run {r.run}: {r.status}" + (" (resumed)" if r.resumed else ""))
    if r.rules and r.status not in ("rolled back", "rolling back"):
        for k, v in r.rules.items():
            line(f"  {k}: {v}")
    heading("Row counts")
    _print_table([{"table": c.table, "role": c.role, "before": c.before, "after": c.after, "merged": c.merged,
                   "skipped": c.skipped} for c in r.counts])
    total_skipped = r.sessions_skipped + r.messages_skipped
    heading(f"Skipped rows ({total_skipped:,}; an id that already exists in the target is never overwritten)")
    _print_table([asdict(s) for s in r.skipped])
    if total_skipped > len(r.skipped):
        line(f"  ... {total_skipped - len(r.skipped):,} more in runbook.merge_skipped (run = {r.run})")
    if r.kept:
        heading(f"Kept by the rollback ({len(r.kept)} sessions the service has written messages into)")
        line(f"{', '.join(r.kept[:20])}{' ...' if len(r.kept) > 20 else ''}")
    if r.checks:
        heading(f"Checks ({sum(c.ok for c in r.checks)}/{len(r.checks)} pass)")
        _print_table([{"check": c.name, "ok": passed(c.ok), "detail": c.detail} for c in r.checks])
    if r.seconds:
        line(f"{r.rows:,} rows in {r.seconds:.2f}s ({r.rows_per_s:,.0f} rows/s), {r.batches} batches")
    _merge_verdict(r)


def _merge_verdict(r) -> None:
    checks = f"; {sum(c.ok for c in r.checks)}/{len(r.checks)} checks" if r.checks else ""
    if not r.ok:
        verdict("failed", f"merge run {r.run} {r.status}{checks}", "bad")
    elif r.status == "rolled back":
        verdict("rolled back", f"merge run {r.run}{checks}")
    else:
        verdict(r.status, f"merge run {r.run}: {r.sessions_merged:,} conversations and {r.messages_merged:,} messages "
                          f"merged, {r.sessions_skipped + r.messages_skipped:,} rows skipped{checks}")


def cmd_merge_legacy(a) -> int:
    from ..merge import merge_legacy, merge_status, rollback_merge

    if a.rollback:
        r = rollback_merge(a.database_url, mapping=a.mapping, progress=not a.no_progress and not a.json, list_limit=a.list)
    elif a.status:
        r = merge_status(a.database_url, mapping=a.mapping, list_limit=a.list)
        if r is None:
            verdict("nothing to do", "no merge-legacy run is recorded in this database")
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
    sp.add_argument("--no-progress", action="store_true", help="no progress bars")
    sp.add_argument("--json", action="store_true", help="print JSON only (same exit codes)")
    sp.set_defaults(func=cmd_merge_legacy)
