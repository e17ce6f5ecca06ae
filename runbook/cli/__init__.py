"""The ``runbook`` command: parses arguments, calls the API, maps errors to exit codes.

Exit codes: 0 ok, 1 the run failed (and was rolled back), 2 bad input (nothing changed).
Every expected failure is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import mapping as cli_mapping, merge as cli_merge, pipeline as cli_pipeline, prisma as cli_prisma
from . import contract as cli_contract, fleet as cli_fleet, prisma_history as cli_prisma_history, scan as cli_scan, status as cli_status
from .._version import __version__
from ..errors import BadInput, RunbookError
from . import show
from .args import DATABASE_URL_HELP, database_options
from .output import _json, line, reset, verdict

DEMO_DIR = Path(os.environ.get("RUNBOOK_DEMO_DIR", ".runbook/demo"))


# -- commands ------------------------------------------------------------------------------

def cmd_demo_db(a) -> int:
    from ..demo.database import demo_server

    if a.stop:
        from ..demo.server import LocalServer

        if (Path(a.dir) / "pgdata" / "PG_VERSION").exists():
            LocalServer.create(Path(a.dir)).stop()
            verdict("stopped", f"the embedded PostgreSQL in {a.dir}")
        else:
            verdict("nothing to do", f"no embedded PostgreSQL in {a.dir}")
        return 0

    info = demo_server(Path(a.dir), messages=a.messages, reseed=a.reseed)
    if a.json:
        _json(info)
        return 0
    line(f"reference legacy database seeded at {info['messages']:,} messages" if info["seeded"] else
         "reference database already present (use --reseed to rebuild it)")
    print(f"export DATABASE_URL='{info['url']}'")  # never wrapped: it is copied as it is
    verdict("running", f"embedded PostgreSQL {info['version']} in {info['dir']} (port {info['port']})")
    return 0


def _this_command() -> str:
    """How the user ran runbook (``.venv/bin/runbook`` after ``make demo``), for a hint to copy."""
    me = Path(sys.argv[0])
    if me.name != "runbook":
        return "runbook"
    try:
        return str(me.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(me)


def cmd_demo(a) -> int:
    """The README's main command: the notebooks pipeline for ``development`` on the
    embedded demo database, seeded afresh, archived under ``outputs/development/``.

    The demo executes (development's ``dryRunDefault`` would only plan) and takes a
    backup (development's ``autoBackup`` is off), so that the archive shows every part.
    """
    from ..demo.database import demo_server
    from ..pipeline import run_pipeline

    info = demo_server(Path(a.dir), messages=a.messages, reseed=True)
    print(f"embedded PostgreSQL {info['version']}: reference legacy database at {info['messages']:,} messages "
          f"({info['redacted']})")
    os.environ["DATABASE_URL"] = info["url"]  # the notebooks' kernels inherit it
    o = run_pipeline("development", dry_run=False, overrides={"autoBackup": True}, output_dir="outputs")
    line(f"the embedded PostgreSQL {info['version']} is still running (port {info['port']}, data in {info['dir']}); "
         f"stop it with: {_this_command()} demo-db --stop --dir {info['dir']}")
    verdict(f"demo {o.verdict}", f"open {o.folder / 'index.html'} in a browser (the run's verdict and every report)",
            show.tone(o.exit_code))
    return o.exit_code


def cmd_analyze(a) -> int:
    from ..api import analyze

    an = analyze(a.database_url, a.mapping)
    code = 2 if an.plan.blockers or an.dump_problems else 0  # whatever the output format
    if a.json:
        _json(an.to_dict())
    else:
        show.analysis(an, code)
    if an.dump_problems:
        from ..execute.backup import problems_line

        print(f"runbook: the backup cannot be taken: {problems_line(list(an.dump_problems), 1)}", file=sys.stderr)
    return code


def cmd_plan(a) -> int:
    from ..api import plan
    from ..plan import raise_for_blockers

    p = plan(a.database_url, a.mapping)
    raise_for_blockers(p)
    if a.json:  # the scripts only where --out names a folder: JSON alone writes nothing
        files = p.write_scripts(a.out, drop_added=a.drop_added_columns) if a.out is not None else ()
        _json({"fingerprint": p.fingerprint, "operations": p.as_rows(), "files": [str(f) for f in files]})
        return 0
    fwd, back = p.write_scripts(a.out or "sql", drop_added=a.drop_added_columns)
    line(f"wrote {fwd}")
    line(f"wrote {back}")
    verdict("planned", f"{len(p.ops)} operations, fingerprint {p.fingerprint[:12]} (full: sha256:{p.fingerprint})")
    return 0


def _options(a) -> dict:
    return dict(lock_timeout=a.lock_timeout, statement_timeout=a.statement_timeout, attempts=a.attempts,
                online_lock_timeout=a.online_lock_timeout,
                backup_dir=a.backup_dir, log_dir=a.log_dir, progress=not a.no_progress and not a.json,
                checksums=a.checksums, quiesced=not a.online, batch_size=a.batch_size)


def _sql_only_with_dry_run(a) -> None:
    """--sql and --sql-out show a dry run's SQL: refused, before connecting, without one."""
    if (a.sql or a.sql_out) and not a.dry_run:
        raise BadInput(f"{'--sql' if a.sql else '--sql-out'} needs --dry-run (`runbook plan` writes the scripts)")


def _backup_mode(text: str) -> str:
    """``--backup``: dump, schema+changed, none, or snapshot-command=CMD (the command is
    checked with the other options, before connecting)."""
    from ..options import backup_mode

    try:
        return backup_mode(text)
    except BadInput:
        raise argparse.ArgumentTypeError(f"{text!r}: give dump, schema+changed, none or snapshot-command=CMD") from None


def cmd_migrate(a) -> int:
    from ..api import migrate
    from ..options import backup_options

    _sql_only_with_dry_run(a)
    opts = _options(a)
    opts.update(backup_options(a.backup, a.backup_jobs, enabled=not a.no_backup))
    t0 = time.perf_counter()
    r = migrate(a.database_url, a.mapping, dry_run=a.dry_run, rehearse=a.rehearse,
                approved_fingerprint=a.approved_fingerprint, compat_views=a.compat_views, **opts)
    if a.json:
        _json(r.summary())
    elif r.status == "nothing to do":
        verdict("nothing to do", "already migrated")
    elif a.dry_run:
        show.dry_run(r, "migration", a.sql, a.sql_out)
    else:
        show.migration(r, time.perf_counter() - t0)
    return 0 if r.ok else 1


def cmd_verify(a) -> int:
    from ..api import verify

    v = verify(a.database_url, a.mapping, quiesced=not a.online)
    if a.json:
        _json(v.to_dict())
    else:
        show.verification(v)
    if not v.ok:
        print(f"runbook: verification failed: {v.failed[0].name}: {v.failed[0].detail}", file=sys.stderr)
    return 0 if v.ok else 1


def cmd_rollback(a) -> int:
    from ..api import rollback
    from ..options import backup_options

    _sql_only_with_dry_run(a)
    opts = _options(a)
    opts.update(backup_options("dump", a.backup_jobs, enabled=not a.no_backup))
    t0 = time.perf_counter()
    r = rollback(a.database_url, a.mapping, drop_added_columns=a.drop_added_columns, dry_run=a.dry_run, **opts)
    if a.json:
        _json(r.summary())
    elif a.dry_run:
        show.dry_run(r, "rollback", a.sql, a.sql_out)
    else:
        show.rollback(r, time.perf_counter() - t0)
    if not a.dry_run and r.verification is not None and not r.verification.ok:
        print(f"runbook: rollback check failed: {r.verification.failed[0].name}", file=sys.stderr)
    return 0 if r.ok else 1


def cmd_restore(a) -> int:
    from ..api import restore

    info = restore(a.database_url, a.backup, confirm=a.yes)
    if a.json:
        _json(info)
    else:
        show.restore(info)
    return 0


# -- parser ------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """Bad usage is one line on stderr and exit 2, like every other refusal (subcommands'
    parsers are of this class too: argparse makes them of their parent's class)."""

    def error(self, message: str):
        where = self.prog.removeprefix("runbook").strip()  # the subcommand; none for the top level
        print(f"runbook: {where + ': ' if where else ''}{' '.join(message.split())} (see --help)", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    from ..options import MAX_BACKUP_JOBS, arg_count, arg_path

    p = _Parser(prog="runbook", description="Rename a Prisma-managed PostgreSQL database's tables safely.")
    p.add_argument("--version", action="version", version=f"runbook {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def common(sp, db=True):
        if db:
            database_options(sp, json=False)
        sp.add_argument("--json", action="store_true", help="print JSON only (same exit codes)")

    def run_opts(sp):
        sp.add_argument("--lock-timeout", default="5s", help="lock_timeout per attempt (default 5s)")
        sp.add_argument("--statement-timeout", default="60s", help="statement_timeout of every statement (default 60s)")
        sp.add_argument("--attempts", type=arg_count(1, 1000), default=5, help="attempts on lock timeout (default 5)")
        sp.add_argument("--online-lock-timeout", default="100ms",
                        help="lock_timeout of the online steps, retried many times (default 100ms)")
        sp.add_argument("--backup-dir", default="outputs/backups",
                        help="folder of the pg_dump backup (default outputs/backups)")
        sp.add_argument("--log-dir", default="outputs/logs", help="folder of the run's log file (default outputs/logs)")
        sp.add_argument("--checksums", choices=["auto", "all", "none"], default="auto",
                        help="auto: checksum tables whose rows a step changes; the catalog proves the rest")
        sp.add_argument("--online", action="store_true",
                        help="other sessions keep writing: report count differences instead of failing on them")
        sp.add_argument("--batch-size", type=arg_count(1, 10_000_000), default=5000,
                        help="rows per transaction of the online fills (default 5000)")
        sp.add_argument("--no-progress", action="store_true",
                        help="no progress bars (none either when stderr is not a terminal)")

    def sql_opts(sp):
        sp.add_argument("--sql", action="store_true", help="with --dry-run: also print the full SQL")
        sp.add_argument("--sql-out", type=arg_path, metavar="FILE", help="with --dry-run: write the full SQL to FILE")

    sp = sub.add_parser("demo-db", help="start the embedded PostgreSQL and seed the reference legacy database")
    sp.add_argument("--dir", default=str(DEMO_DIR), help=f"the embedded server's folder (default {DEMO_DIR})")
    sp.add_argument("--messages", type=arg_count(0, 100_000_000), default=10000,
                    help="messages in the seeded reference database (default 10000)")
    sp.add_argument("--reseed", action="store_true", help="drop and seed the reference database again")
    sp.add_argument("--stop", action="store_true", help="stop the embedded server instead")
    common(sp, db=False)
    sp.set_defaults(func=cmd_demo_db)

    sp = sub.add_parser("demo", help="the main job on the embedded server: seed, analyse, migrate, verify")
    sp.add_argument("--dir", default=str(DEMO_DIR), help=f"the embedded server's folder (default {DEMO_DIR})")
    sp.add_argument("--messages", type=arg_count(0, 100_000_000), default=10000,
                    help="messages in the seeded reference database (default 10000)")
    sp.set_defaults(func=cmd_demo)

    sp = sub.add_parser("analyze", help="tables, conflicts, dependencies, blockers, estimate (changes nothing)")
    common(sp)
    sp.set_defaults(func=cmd_analyze)

    sp = sub.add_parser("plan", help="write sql/rename-tables-to-snake-case.sql and sql/rollback-table-rename.sql")
    common(sp)
    sp.add_argument("--out", type=arg_path, default=None, metavar="DIR",
                    help="folder for the two scripts (default sql/; with --json, written only when given)")
    sp.add_argument("--drop-added-columns", action="store_true",
                    help="the rollback script also drops the columns and types the migration added")
    sp.set_defaults(func=cmd_plan)

    sp = sub.add_parser("migrate", help="back up, migrate in one transaction, verify")
    common(sp)
    run_opts(sp)
    g = sp.add_mutually_exclusive_group()
    g.add_argument("--dry-run", action="store_true", help="print the plan's steps and the preflight; change nothing")
    g.add_argument("--rehearse", action="store_true", help="run the whole plan in a transaction, time it, roll back")
    sql_opts(sp)
    sp.add_argument("--approved-fingerprint", help="refuse unless the plan has this fingerprint")
    sp.add_argument("--no-backup", action="store_true", help="skip pg_dump (development only)")
    sp.add_argument("--backup", metavar="MODE", type=_backup_mode, default="dump",
                    help="dump (default: pg_dump, fsynced and verified); schema+changed (for a database too "
                         "large to dump each time: the schema, and the keys of the rows the plan changes; no "
                         "table's rows); none (as --no-backup); or snapshot-command=CMD: run your own snapshot command (a provider's snapshot, a PITR "
                         "marker) instead, before anything changes; its output is recorded, runbook cannot "
                         "verify it")
    sp.add_argument("--backup-jobs", metavar="N", type=arg_count(0, MAX_BACKUP_JOBS), default=None,
                    help="N >= 1: dump in directory format (pg_dump -Fd -j N: N tables at once, N + 1 "
                         "connections); 0: one custom-format file; default: 2 jobs when the connections "
                         "are allowed, else the file; fsynced, verified and restorable the same way")
    sp.add_argument("--compat-views", action="store_true",
                    help="also a view under each old name with the legacy column names (made before the lock "
                         "window under a staged name, renamed to the old name in it) "
                         "(contract drops them)")
    sp.set_defaults(func=cmd_migrate)

    sp = sub.add_parser("verify", help="check the migrated database against its baseline")
    common(sp)
    sp.add_argument("--online", action="store_true",
                    help="other sessions keep writing: report count differences instead of failing on them")
    sp.set_defaults(func=cmd_verify)

    sp = sub.add_parser("rollback", help="undo the last migration (its plan, reversed)")
    common(sp)
    run_opts(sp)
    sp.add_argument("--drop-added-columns", action="store_true",
                    help="also drop the added columns and types (spec 2.3); the tables they are in are dumped first")
    sp.add_argument("--dry-run", action="store_true", help="print the rollback's steps; change nothing")
    sql_opts(sp)
    sp.add_argument("--no-backup", action="store_true", help="skip that dump (development only)")
    sp.add_argument("--backup-jobs", metavar="N", type=arg_count(0, MAX_BACKUP_JOBS), default=None,
                    help="that dump as migrate's: N >= 1 in directory format by N jobs, 0 one custom-format "
                         "file; default: 2 jobs when the connections are allowed, else the file")
    sp.set_defaults(func=cmd_rollback)

    sp = sub.add_parser("restore", help="last resort: restore a backup (says what it overwrites first)")
    sp.add_argument("backup", help="the pg_dump backup to restore: a custom-format file (.dump) or a "
                                   "directory-format folder (.dir, from --backup-jobs)")
    sp.add_argument("--database-url", help=DATABASE_URL_HELP)
    sp.add_argument("--yes", action="store_true", help="really restore")
    sp.add_argument("--json", action="store_true", help="print JSON only (same exit codes)")
    sp.set_defaults(func=cmd_restore)

    for group in (cli_pipeline, cli_prisma, cli_merge, cli_mapping, cli_status, cli_contract, cli_scan,
                  cli_prisma_history, cli_fleet):
        group.add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    reset()  # this command's Console is made from the environment it runs in
    parser = build_parser()
    try:
        a = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on bad usage
        return int(exc.code or 0)
    if not getattr(a, "command", None):
        parser.print_help()
        return 2
    url = getattr(a, "database_url", None) or os.environ.get("DATABASE_URL")
    try:
        return a.func(a)
    except RunbookError as exc:
        from ..connection import scrub

        print(f"runbook: {scrub(str(exc), url)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("runbook: interrupted", file=sys.stderr)
        return 1
    except Exception as exc:  # the database refused something we did not foresee: one line still
        import psycopg2

        if not isinstance(exc, psycopg2.Error):
            raise
        from ..connection import scrub

        msg = (exc.pgerror or str(exc)).strip().splitlines()[0] if (exc.pgerror or str(exc)).strip() else type(exc).__name__
        print(f"runbook: the database refused a statement: {scrub(msg, url)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
