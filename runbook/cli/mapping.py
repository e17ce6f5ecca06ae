"""``runbook mapping init``: derive a mapping from the database."""

from __future__ import annotations

import sys

from .args import DATABASE_URL_HELP
from .output import verdict


def add_commands(sub) -> None:
    sp = sub.add_parser("mapping", help="derive a mapping from the database (mapping init)")
    msub = sp.add_subparsers(dest="mapping_command", metavar="SUBCOMMAND")
    ip = msub.add_parser("init", help="write a reviewable mapping (and the service's target Prisma schema)")
    ip.add_argument("--database-url", help=DATABASE_URL_HELP)
    ip.add_argument("--schema", default="public", help="the PostgreSQL schema of the tables (default public)")
    ip.add_argument("--convention", default="snake_case_plural",
                    help="snake_case or snake_case_plural (default): UserProfile -> user_profile / user_profiles")
    ip.add_argument("--tables", metavar="REGEX", help="rename the tables whose name matches (re.search) instead")
    ip.add_argument("--exclude", metavar="REGEX", help="leave the tables whose name matches alone")
    ip.add_argument("--columns", metavar="CONVENTION", help="snake_case: rename the columns as well")
    ip.add_argument("--reserved", default="refuse",
                    help="a target that is a PostgreSQL reserved word: refuse (default) or suffix (user -> user_)")
    ip.add_argument("--prisma-schema", metavar="FILE", help="the service's Prisma schema now")
    ip.add_argument("--target-schema-out", metavar="FILE",
                    help="write the target schema there (@@map/@map/relation names added)")
    ip.add_argument("--out", metavar="FILE", help="the mapping file to write (default: stdout)")
    ip.add_argument("--force", action="store_true", help="overwrite --out / --target-schema-out")
    ip.set_defaults(func=cmd_mapping_init)
    sp.set_defaults(func=lambda a: (sp.print_help(), 2)[1])


def cmd_mapping_init(a) -> int:
    from ..mapping_init import InitOptions, mapping_init

    r = mapping_init(InitOptions(
        database_url=a.database_url, schema=a.schema, convention=a.convention, tables=a.tables,
        exclude=a.exclude, columns=a.columns, reserved=a.reserved, prisma_schema=a.prisma_schema,
        target_schema_out=a.target_schema_out, out=a.out, force=a.force))
    if not a.out or a.out == "-":
        sys.stdout.write(r.mapping_text)
    err = sys.stderr
    n_m2m = sum(p.kind == "m2m" for p in r.tables)
    print(f"{len(r.tables)} tables ({n_m2m} many-to-many), {sum(len(p.columns) for p in r.tables)} columns; "
          f"not renamed: {len(r.skipped)}", file=err)
    for p in r.tables:
        for n in p.notes:
            print(f"note: {p.old}: {n}", file=err)
    for n in r.notes:
        print(f"note: {n}", file=err)
    if r.edits:
        print("target schema: " + ", ".join(f"{v} {k}" for k, v in r.edits.items()), file=err)
    for w in r.written:
        print(f"wrote {w}", file=err)
    summary = f"{len(r.tables)} tables to rename" + (f", wrote {', '.join(map(str, r.written))}" if r.written else "")
    if r.written and a.out and a.out != "-":
        verdict("mapped", summary)
    else:  # stdout holds the mapping itself: the verdict goes to stderr, last
        print(f"mapped: {summary}", file=err)
    return 0
