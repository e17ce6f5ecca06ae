"""``runbook prisma-history`` and ``runbook prisma-schema``: Prisma's own view agrees
with the renamed tables (its migration history, the service's schema)."""

from __future__ import annotations

from .args import database_options
from .output import _json, _print_table, line, notes, verdict


def cmd_prisma_history(a) -> int:
    from ..prisma_history import check_arguments, record_history

    check_arguments(a.migrations, a.name)  # before anything connects
    e = record_history(a.database_url, a.mapping, a.migrations, name=a.name, dry_run=a.dry_run)
    if a.json:
        _json(e.to_dict())
        return 0
    if a.dry_run:
        line(f"would write {e.file}:")
        print(e.sql, end="")
    _print_table([{"migration": e.migration, "file": str(e.file), "checksum": e.checksum[:12],
                   "run": e.run_id, "plan": e.fingerprint[:12], "table": e.table}])
    notes(e.notes)
    if a.dry_run:
        verdict("dry run", f"would record {e.migration} as applied in {e.table} (nothing changed)")
    else:
        verdict("recorded", f"{e.migration} applied in {e.table}; `prisma migrate status` knows the rename")
    return 0


def cmd_prisma_schema(a) -> int:
    from ..mapping_init import read_prisma_file
    from ..prisma_schema import check_out

    source = a.legacy or a.reconcile
    out = check_out(a.out, a.force, source)  # before anything connects
    read_prisma_file(source, "--legacy" if a.legacy else "--reconcile")
    added, kept = _write_schema(a, out)
    if a.json:
        _json({"out": str(out), "from": source, "added": added, "notes": kept})
        return 0
    if a.reconcile:
        line(f"declared {len(added)}: {', '.join(added) or 'nothing (the schema knows every column and index)'}")
        notes(kept)
        verdict("written", f"{out}: {source} reconciled with the live tables")
    else:
        verdict("written", f"{out}: {source} mapped onto the renamed tables (model and field names kept)")
    return 0


def _write_schema(a, out) -> tuple[list[str], list[str]]:
    from ..mapping import load_mapping
    from ..mapping_init import _write_atomic
    from ..prisma_schema import write_legacy

    if a.legacy:
        write_legacy(a.database_url, a.mapping, a.legacy, out, force=a.force)
        return [], []
    from ..prisma_reconcile import reconcile

    r = reconcile(a.database_url, a.reconcile, load_mapping(a.mapping).schema)
    _write_atomic(out, r.text)
    return list(r.added), list(r.notes)


def add_commands(sub) -> None:
    """``runbook prisma-history`` and ``runbook prisma-schema``."""
    sp = sub.add_parser("prisma-history", help="after a migration: write its migration.sql into the service's Prisma "
                                               "migrations folder and record it as applied in _prisma_migrations",
                        description="Write DIR/<timestamp>_<name>/migration.sql (the forward SQL of the plan that ran, "
                                    "read from runbook.runs) and insert its _prisma_migrations row as `prisma migrate "
                                    "resolve --applied` does. Exit 2 (nothing changed) when no migration has run, the "
                                    "row exists already, or the table does not.")
    sp.add_argument("--migrations", metavar="DIR", required=True,
                    help="the service's Prisma migrations folder (prisma/migrations)")
    sp.add_argument("--name", default="rename_tables_to_snake_case",
                    help="the migration's name after its timestamp (default rename_tables_to_snake_case)")
    sp.add_argument("--dry-run", action="store_true", help="print what would be written; change nothing")
    database_options(sp)
    sp.set_defaults(func=cmd_prisma_history)

    sp = sub.add_parser("prisma-schema", help="after a migration: a legacy service's Prisma schema mapped onto the "
                                              "renamed tables, or a target schema reconciled with them",
                        description="Write OUT: the legacy schema FILE (models named after the old tables) with "
                                    "@@map on every renamed model, @map on every renamed column, the constraint names "
                                    "the migration renamed and the fields it added, so that its client works against "
                                    "the renamed tables after `prisma generate`, with no code change; or the schema TARGET with "
                                    "what the live tables have and it does not declare.")
    g = sp.add_mutually_exclusive_group(required=True)
    g.add_argument("--legacy", metavar="FILE", help="the legacy service's schema.prisma, to map onto the renamed tables")
    g.add_argument("--reconcile", metavar="TARGET",
                   help="a target schema, to which the columns, indexes and referential actions the live tables "
                        "have and it lacks are added (so that Prisma's drift is empty)")
    sp.add_argument("--out", metavar="OUT", required=True, help="the schema file to write")
    sp.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    sp.add_argument("--database-url", help="libpq URI or key=value string (default: $DATABASE_URL); its last "
                                           "migration's stored plan gives the renamed constraint names")
    sp.add_argument("--mapping", help="mapping file, TOML or YAML (default: the spec's mapping)")
    sp.add_argument("--json", action="store_true", help="print JSON only (same exit codes)")
    sp.set_defaults(func=cmd_prisma_schema)
